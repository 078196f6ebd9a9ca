"""Importing historical scores from CSV: checked row by row, all or nothing, idempotent."""

import io

import pytest
from django.core.management import CommandError, call_command

from joinedup.audit.models import AuditEvent
from joinedup.measures.importing import import_history
from joinedup.measures.models import Administration, Answer

HEADER = "student_number,nhs_number,date,measure,session," + ",".join(
    f"item_{n}" for n in range(1, 11)
) + ",score\n"  # fmt: skip


def csv_lines(*rows: str) -> list[str]:
    return io.StringIO(HEADER + "".join(row + "\n" for row in rows)).readlines()


GOOD = [
    "NB1000001,,2025-10-01,PHQ-9,1,2,2,2,2,2,2,2,2,1,,",
    "NB1000001,,2025-10-08,PHQ-9,2,1,1,1,1,1,1,1,1,0,,",
    "NB1000001,,2025-10-08,GAD-7,2,,,,,,,,,,,9",
    "NB1000001,,2025-10-15,CORE-10,3,1,3,3,1,1,0,1,1,1,1,",
]


def run(hub, *rows):
    return import_history(actor=hub.practitioner, service=hub.wellbeing, lines=csv_lines(*rows))


def test_a_good_file_is_imported_with_scores_recomputed(hub):
    report = run(hub, *GOOD)
    assert (report.ok, report.rows, report.imported) == (True, 4, 4)
    phq9 = Administration.objects.filter(code="PHQ-9").order_by("completed_at")
    assert [a.total for a in phq9] == [17, 8]
    assert phq9[0].has_risk
    assert Answer.objects.filter(administration=phq9[0]).count() == 9
    gad7 = Administration.objects.get(code="GAD-7")
    assert (gad7.main_score, gad7.band, gad7.is_case, gad7.answers.count()) == (9, "mild", True, 0)
    core10 = Administration.objects.get(code="CORE-10")
    assert core10.main_score == 9  # items 2 and 3 are reverse-scored: 4 - 3 = 1 each
    assert {a.method for a in Administration.objects.all()} == {"imported"}
    assert AuditEvent.objects.filter(action="measures.history.imported").get().reason == (
        "4 questionnaires imported into Wellbeing"
    )


def test_importing_the_same_file_again_changes_nothing(hub):
    run(hub, *GOOD)
    report = run(hub, *GOOD)
    assert (report.ok, report.imported, report.already_present) == (True, 0, 4)
    assert Administration.objects.count() == 4
    assert Answer.objects.count() == 9 + 9 + 10


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ("NB9999999,,2025-10-01,PHQ-9,1,1,1,1,1,1,1,1,1,1,,", "No student with student_number"),
        ("NB1000001,,01/10/2025,PHQ-9,1,1,1,1,1,1,1,1,1,1,,", "is not a date like 2025-01-31"),
        ("NB1000001,,2099-10-01,PHQ-9,1,1,1,1,1,1,1,1,1,1,,", "is in the future"),
        ("NB1000001,,2025-10-01,BDI,1,1,1,1,1,1,1,1,1,1,,", "Unknown measure 'BDI'"),
        ("NB1000001,,2025-10-01,PHQ-9,1,1,1,4,1,1,1,1,1,1,,", "PHQ-9 item 3"),
        ("NB1000001,,2025-10-01,PHQ-9,1,1,1,1,1,1,1,1,1,1,1,", "item_10 has a value"),
        ("NB1000001,,2025-10-01,PHQ-9,1,1,1,1,1,1,1,1,1,1,,13", "does not match the answers"),
        ("NB1000001,,2025-10-01,GAD-7,1,,,,,,,,,,,30", "GAD-7"),
        ("NB1000001,,2025-10-01,GAD-7,1,,,,,,,,,,,", "neither item answers nor a score"),
        (",,2025-10-01,GAD-7,1,,,,,,,,,,,5", "no nhs_number or student_number"),
        ("NB1000001,,2025-10-01,GAD-7,first,,,,,,,,,,,5", "not a whole number"),
    ],
)
def test_a_bad_row_is_reported_and_nothing_is_saved(hub, row, problem):
    report = run(hub, GOOD[0], row)
    assert not report.ok
    assert report.errors[0][0] == 3  # the header is line 1, the good row line 2
    assert problem in report.errors[0][1]
    assert not Administration.objects.exists()


def test_a_file_without_the_needed_columns_is_refused(hub):
    report = import_history(actor=hub.practitioner, service=hub.wellbeing,
                            lines=["date,measure,score\n", "2025-01-01,GAD-7,5\n"])  # fmt: skip
    assert report.errors == [(1, "The file needs a student identifier column: nhs_number or "
                                 "student_number.")]  # fmt: skip


def test_students_are_found_by_nhs_number(hub):
    hub.student.nhs_number = "9434765919"
    hub.student.save(update_fields=["nhs_number"])
    report = run(hub, ",943 476 5919,2025-10-01,GAD-7,1,,,,,,,,,,,5")
    assert report.ok
    assert Administration.objects.get().student == hub.student


def test_student_numbers_of_another_university_are_not_matched(hub):
    report = import_history(actor=hub.outsider, service=hub.other_wellbeing,
                            lines=csv_lines(GOOD[2]))  # fmt: skip
    assert "No student with student_number 'NB1000001'" in report.errors[0][1]


def test_the_command_reports_failed_rows_and_imports_nothing(hub, tmp_path, capsys):
    path = tmp_path / "scores.csv"
    path.write_text(HEADER + GOOD[0] + "\n" + "NB1000001,,2025-13-01,GAD-7,1,,,,,,,,,,,5\n")
    with pytest.raises(CommandError, match="1 of 2 rows have problems"):
        call_command("import_scores", path, service=hub.wellbeing.uuid, by=hub.practitioner.email,
                     verbosity=0)  # fmt: skip
    assert "line 3: The date '2025-13-01' is not a date" in capsys.readouterr().err
    assert not Administration.objects.exists()


def test_the_command_imports_a_good_file(hub, tmp_path, capsys):
    path = tmp_path / "scores.csv"
    path.write_text(HEADER + "\n".join(GOOD) + "\n")
    call_command("import_scores", path, service=hub.wellbeing.uuid, by=hub.practitioner.email,
                 verbosity=0)  # fmt: skip
    assert "Imported 4 questionnaires; 0 were already present." in capsys.readouterr().out


def test_the_command_refuses_someone_outside_the_service(hub, tmp_path):
    path = tmp_path / "scores.csv"
    path.write_text(HEADER)
    with pytest.raises(CommandError, match="is not a member of Wellbeing"):
        call_command("import_scores", path, service=hub.wellbeing.uuid, by=hub.outsider.email)


def test_a_stated_score_that_is_not_a_number_is_explained_even_with_answers(hub):
    report = run(hub, "NB1000001,,2025-10-01,PHQ-9,1,1,1,1,1,1,1,1,1,1,,ten")
    assert report.errors == [(2, "The score 'ten' is not a number.")]
