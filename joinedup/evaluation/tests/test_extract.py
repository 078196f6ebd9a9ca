"""Research extracts end to end: who may run them, what the files hold (and never hold), the
national data opt-out, the release note, downloads and the audit log."""

import csv
import datetime as dt
import io
import json
import zipfile

import duckdb
import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from conftest import make_staff, make_student
from joinedup.audit.models import AuditEvent
from joinedup.consent.models import DataSharingAgreement
from joinedup.consent.services import open_care_relationship
from joinedup.evaluation import research, services
from joinedup.evaluation.models import ResearchExtract
from joinedup.evaluation.services import start_extract
from joinedup.governance.models import OptOutCheck
from joinedup.measures.models import Administration
from joinedup.people.models import Role
from joinedup.referrals.models import Appointment, Episode, Referral

pytestmark = pytest.mark.usefixtures("reports_alias")

KEY = "test pseudonym key, kept outside every extract"
START, END = dt.date(2025, 1, 1), dt.date(2026, 1, 1)
GIVEN_NAMES = [
    "Ottoline", "Barnaby", "Wilhelmina", "Peregrine", "Clementine", "Ignatius", "Philippa",
    "Rupertina", "Evangeline", "Montgomery", "Seraphina", "Leopoldo", "Marigold", "Tobiasz",
    "Hermione", "Octavius", "Gwendolyn", "Florizel",
]  # fmt: skip
FREE_TEXT = "Struggling since the bereavement in halls"


def _when(month: int, day: int = 10) -> dt.datetime:
    return dt.datetime(2025, month, day, 10, tzinfo=dt.UTC)


def _episode(student, service, *, by, month=2, ended=True, scores=(), source="self"):
    relationship = open_care_relationship(student=student, service=service, reason="episode")
    episode = Episode.objects.create(
        student=student,
        service=service,
        relationship=relationship,
        started_at=_when(month),
        ended_at=_when(month + 3) if ended else None,
        ending="planned" if ended else "",
    )
    Referral.objects.create(
        student=student,
        source=source,
        to_service=service,
        state="discharged" if ended else "in_treatment",
        reason=FREE_TEXT,
        created_by=by,
        sent_at=_when(month, 1) - dt.timedelta(days=20),
        first_contact_at=_when(month, 1),
        treatment_started_at=_when(month),
        episode=episode,
    )
    for session, (phq9, gad7) in enumerate(scores, 1):
        for code, score in (("PHQ-9", phq9), ("GAD-7", gad7)):
            Administration.objects.create(
                student=student, service=service, episode=episode, session_number=session,
                code=code, completed_at=_when(month, session), method="in_session",
                is_valid=True, total=score, main_score=score,
            )  # fmt: skip
    Appointment.objects.create(
        episode=episode, starts_at=_when(month, 2), kind="treatment", status="attended",
        recorded_by=by,
    )  # fmt: skip
    return episode


@pytest.fixture
def cohort(hub, settings, tmp_path):
    """Students whose groups test every path of the k-anonymity check (k = 5):

    - six "common" students (woman, white, no disability, home, 20-24) at Wellbeing, five of
      them also at NHS Talking Therapies (one still open), all referred in January: released
      as they are;
    - one common student with a national data opt-out, with an episode at the university
      (kept) and one at NHS Talking Therapies (left out);
    - five aged 15-19 who differ only by ethnicity: generalised (referral month shown as its
      year, age widened, service shown by its kind, ethnicity hidden);
    - a common student referred in August, alone in that month: generalised with those five;
    - a common student alone at Counselling: suppressed, though nothing else tells them
      apart from the common students;
    - one at another university: suppressed, since nobody shares their institution.
    """
    settings.RESEARCH_PSEUDONYM_KEY = KEY
    settings.VAR_DIR = tmp_path
    names = iter(GIVEN_NAMES)
    students = []

    def student(number, university=hub.university, **fields):
        given = next(names)
        values = {
            "legal_given_name": given, "preferred_name": f"{given}a",
            "legal_family_name": f"{given}son", "date_of_birth": dt.date(2004, 3, number % 28 + 1),
            "nhs_number": f"94347659{number % 100:02d}", "email": f"{given.lower()}@example.org",
            "phone": f"07700 9{number:05d}", "trusted_contact_name": f"{given} Senior",
            "trusted_contact_phone": f"07800 9{number:05d}", "term_postcode": "M13 9PL",
            "gender": "woman", "ethnicity_group": "white", "disability": "no",
        }  # fmt: skip
        made = make_student(university, f"NB{number}", **(values | fields))
        students.append(made)
        return made

    common = [student(2000 + n) for n in range(6)]
    for s in common:
        _episode(s, hub.wellbeing, by=hub.practitioner)
    _episode(common[0], hub.talking, by=hub.triage, scores=[(15, 12), (9, 9), (5, 4)], source="gp")
    _episode(common[1], hub.talking, by=hub.triage, ended=False)
    for s in common[2:5]:
        _episode(s, hub.talking, by=hub.triage)
    opted_out = student(2010, national_data_opt_out=True)
    _episode(opted_out, hub.wellbeing, by=hub.practitioner)
    _episode(opted_out, hub.talking, by=hub.triage)
    for n, ethnicity in enumerate(["asian", "black", "mixed", "other", ""]):
        rare = student(2020 + n, ethnicity_group=ethnicity, date_of_birth=dt.date(2006, 1, 1 + n))
        _episode(rare, hub.wellbeing, by=hub.practitioner)
    late = student(2040)
    _episode(late, hub.wellbeing, by=hub.practitioner, month=9)  # referred in August
    lone = student(2030, university=hub.other_university)
    _episode(lone, hub.wellbeing, by=hub.practitioner)
    counselled = student(2050)
    _episode(counselled, hub.counselling, by=hub.counsellor)
    return students


def _run(hub, django_capture_on_commit_callbacks, user=None, services=None, k=5, **approved):
    with django_capture_on_commit_callbacks(execute=True):
        extract = start_extract(
            actor=user or hub.researcher,
            starts_on=START,
            ends_on=END,
            services=services or [hub.wellbeing, hub.counselling, hub.talking],
            k=k,
            **approved,
        )
    extract.refresh_from_db()
    return extract


def _files(settings, extract) -> dict[str, bytes]:
    with zipfile.ZipFile(settings.VAR_DIR / extract.file_path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _rows(files) -> list[dict]:
    return list(csv.DictReader(io.StringIO(files["extract.csv"].decode())))


@pytest.fixture
def produced(hub, cohort, settings, django_capture_on_commit_callbacks):
    extract = _run(hub, django_capture_on_commit_callbacks)
    assert extract.status == ResearchExtract.Status.DONE, extract.error
    return extract, _files(settings, extract)


def test_the_extract_holds_csv_parquet_dictionary_and_release_note(produced):
    extract, files = produced
    assert set(files) == {*research.FILE_NAMES, "release_note.json"}
    assert extract.progress == 100
    rows = _rows(files)
    assert list(rows[0]) == list(research.COLUMN_NAMES)
    dictionary = list(csv.DictReader(io.StringIO(files["data_dictionary.csv"].decode())))
    assert [d["column"] for d in dictionary] == list(research.COLUMN_NAMES)
    assert all(d["description"] for d in dictionary)


def test_every_combination_of_quasi_identifiers_describes_at_least_k_students(produced, tmp_path):
    _extract, files = produced
    assert research.smallest_group(_rows(files)) >= 5
    parquet = tmp_path / "check.parquet"
    parquet.write_bytes(files["extract.parquet"])
    quasi = ", ".join(research.QUASI_IDENTIFIER_COLUMNS)
    with duckdb.connect() as connection:
        smallest = connection.sql(
            f"SELECT min(n) FROM (SELECT count(DISTINCT pseudonym) AS n "  # noqa: S608
            f"FROM '{parquet}' GROUP BY {quasi})"
        ).fetchall()[0][0]
        count = connection.sql(f"SELECT count(*) FROM '{parquet}'").fetchall()[0][0]  # noqa: S608
    assert smallest >= 5
    assert count == len(_rows(files))


def test_no_direct_identifier_is_anywhere_in_the_files(produced, cohort):
    _extract, files = produced
    searched = {name: data.lower() for name, data in files.items()}
    for student in cohort:
        born = student.date_of_birth
        identifiers = [
            student.legal_given_name, student.legal_family_name, student.preferred_name,
            student.student_number, student.nhs_number, student.email, student.phone,
            student.trusted_contact_name, student.trusted_contact_phone, student.term_postcode,
            born.isoformat(), born.strftime("%d/%m/%Y"), born.strftime("%Y%m%d"),
            str(student.uuid),
        ]  # fmt: skip
        for identifier in identifiers:
            for name, data in searched.items():
                assert identifier.lower().encode() not in data, (identifier, name)
    for data in searched.values():
        assert FREE_TEXT.lower().encode() not in data
    # Dates are months: no day of any episode or referral appears.
    assert b"2025-02-10" not in searched["extract.csv"]
    assert b"2025-02-10" not in searched["extract.parquet"]


def test_students_are_named_by_their_keyed_pseudonym(produced, cohort):
    _extract, files = produced
    pseudonyms = {row["pseudonym"] for row in _rows(files)}
    common = cohort[0]
    assert research.pseudonym(common.pk, KEY.encode()) in pseudonyms
    assert research.pseudonym(common.pk, b"another key") not in pseudonyms


def test_the_same_student_links_across_two_extracts(
    hub, cohort, settings, django_capture_on_commit_callbacks
):
    first = _rows(_files(settings, _run(hub, django_capture_on_commit_callbacks)))
    second = _rows(_files(settings, _run(hub, django_capture_on_commit_callbacks)))
    assert {r["pseudonym"] for r in first} == {r["pseudonym"] for r in second}


def test_small_groups_are_generalised_or_suppressed_and_the_note_says_how_many(produced, cohort):
    extract, files = produced
    rows = _rows(files)
    note = extract.release_note
    assert note["k"] == 5
    # Every step up to the last one needed is named, those nobody stopped at too.
    assert note["generalised"] == [
        {"step": "referral month shown as its quarter", "students": 0, "rows": 0},
        {"step": "age band widened to ten years", "students": 0, "rows": 0},
        {"step": "referral month shown as its year", "students": 0, "rows": 0},
        {"step": "service shown only as its kind", "students": 0, "rows": 0},
        {"step": "ethnicity group not shown", "students": 6, "rows": 6},
    ]
    assert note["suppressed"] == {"students": 2, "rows": 2}
    assert note["students"] == 13
    assert note["rows"] == len(rows) == 18
    generalised = [r for r in rows if r["ethnicity_group"] == research.NOT_SHOWN]
    assert len(generalised) == 6
    assert {
        (r["age_band"], r["service"], r["service_kind"], r["referral_month"]) for r in generalised
    } == {("15-24", research.NOT_SHOWN, "wellbeing", "2025")}
    assert {r["institution"] for r in rows} == {hub_university_name(cohort)}
    text = files["release_note.txt"].decode()
    assert "- ethnicity group not shown: 6 students, 6 episodes" in text
    assert ("- service shown only as its kind: applied on the way to a later step; no student "
            "stopped here") in text  # fmt: skip
    assert "smaller than 5): 2 students, 2 episodes." in text
    assert json.loads(files["release_note.json"]) == note


def test_the_release_note_says_how_each_quasi_identifier_is_shown(produced):
    extract, files = produced
    six = {"students": 6, "rows": 6}
    assert extract.release_note["quasi_identifiers"] == [
        {"name": "institution", "generalised": []},
        {"name": "age band", "generalised": [{"shown": "widened to ten years", **six}]},
        {"name": "gender", "generalised": []},
        {"name": "ethnicity group", "generalised": [{"shown": "not shown", **six}]},
        {"name": "disability", "generalised": []},
        {"name": "international status", "generalised": []},
        {"name": "service", "generalised": [{"shown": "shown only as its kind", **six}]},
        {"name": "referral month", "generalised": [{"shown": "shown as its year", **six}]},
    ]
    text = files["release_note.txt"].decode()
    assert "- institution: as recorded for everyone released." in text
    assert "- service: shown only as its kind for 6 students (6 episodes)." in text
    assert "- referral month: shown as its year for 6 students (6 episodes)." in text


def test_the_service_and_the_referral_month_are_quasi_identifiers(produced, cohort):
    """The student referred in August and the student at Counselling share every other
    quasi-identifier with the common students: only their service or referral month sets
    them apart, and that alone is enough to generalise or suppress them."""
    _extract, files = produced
    rows = {r["pseudonym"]: r for r in _rows(files)}
    late, counselled = cohort[-3], cohort[-1]
    assert research.pseudonym(counselled.pk, KEY.encode()) not in rows
    shown = rows[research.pseudonym(late.pk, KEY.encode())]
    assert (shown["ethnicity_group"], shown["referral_month"]) == (research.NOT_SHOWN, "2025")
    # Its episode's months are widened as its referral month is: they would give it back.
    assert (shown["episode_start_month"], shown["episode_end_month"]) == ("2025", "2025")
    common = rows[research.pseudonym(cohort[5].pk, KEY.encode())]
    assert (common["service"], common["referral_month"]) == ("Wellbeing", "2025-01")
    assert len(common["episode_start_month"]) == len("2025-01")
    assert common["ethnicity_group"] == "white"


def hub_university_name(cohort) -> str:
    return cohort[0].university.name


def test_national_data_opt_out_leaves_out_nhs_episodes_only(produced, cohort):
    extract, files = produced
    opted_out = next(s for s in cohort if s.national_data_opt_out)
    pseudonym = research.pseudonym(opted_out.pk, KEY.encode())
    theirs = [r for r in _rows(files) if r["pseudonym"] == pseudonym]
    assert [r["service"] for r in theirs] == ["Wellbeing"]
    assert extract.release_note["opted_out"] == {
        "students": 1, "rows": 1, "checked": {}, "not_checked": ["Northbridge NHS Trust"],
    }  # fmt: skip
    text = files["release_note.txt"].decode()
    assert "opt-out are left out: 1 episode of 1 student." in text
    assert "- Northbridge NHS Trust: no current check with the national service" in text


@pytest.mark.parametrize("current", [True, False])
def test_a_current_national_check_leaves_out_whom_it_found_and_an_expired_one_nobody(
    hub, cohort, settings, django_capture_on_commit_callbacks, current
):
    found = cohort[0]  # has an episode at Talking Therapies, and opted out nowhere in JoinedUp
    now = timezone.now()
    OptOutCheck.objects.create(
        organisation=hub.trust, sent_by=hub.triage, numbers=[found.nhs_number],
        opted_out=[found.nhs_number], returned_at=now - dt.timedelta(days=22),
        expires_at=now + dt.timedelta(days=1) if current else now - dt.timedelta(days=1),
    )  # fmt: skip
    extract = _run(hub, django_capture_on_commit_callbacks)
    files = _files(settings, extract)
    pseudonym = research.pseudonym(found.pk, KEY.encode())
    services = {r["organisation_kind"] for r in _rows(files) if r["pseudonym"] == pseudonym}
    note = files["release_note.txt"].decode()
    if current:
        assert services == {"university"}
        assert extract.release_note["opted_out"]["students"] == 2
        assert "Northbridge NHS Trust: checked with the national service, current until" in note
    else:
        assert services == {"university", "nhs_trust"}
        assert extract.release_note["opted_out"]["students"] == 1
        assert "Northbridge NHS Trust: no current check" in note


def test_dates_are_months_ages_are_bands_and_outcomes_are_computed(produced, cohort):
    _extract, files = produced
    pseudonym = research.pseudonym(cohort[0].pk, KEY.encode())
    talking = next(
        r for r in _rows(files) if r["pseudonym"] == pseudonym and r["service"] != "Wellbeing"
    )
    assert talking["episode_start_month"] == "2025-02"
    assert talking["episode_end_month"] == "2025-05"
    assert talking["referral_month"] == "2025-01"
    assert talking["weeks_to_first_contact"] == "2"
    assert talking["age_band"] == "20-24"
    assert talking["organisation_kind"] == "nhs_trust"
    assert talking["referral_source"] == "gp"
    assert (talking["phq9_first"], talking["phq9_last"]) == ("15.0", "5.0")
    assert talking["recovery"] == talking["reliable_improvement"] == "true"
    assert talking["appointments_attended"] == "1"
    open_episode = next(r for r in _rows(files) if r["ending"] == "open")
    assert open_episode["episode_end_month"] == ""
    assert open_episode["has_paired_outcome"] == ""


def test_a_larger_k_generalises_more(hub, cohort, settings, django_capture_on_commit_callbacks):
    extract = _run(hub, django_capture_on_commit_callbacks, k=8)
    rows = _rows(_files(settings, extract))
    assert research.smallest_group(rows) >= 8 or not rows
    assert extract.release_note["k"] == 8


def test_k_below_the_hubs_minimum_needs_an_agreement_and_who_approved_it(
    hub, cohort, settings, django_capture_on_commit_callbacks
):
    assert research.k_problem(5, 5, agreement=False, approval="") == ""
    assert "needs the data sharing agreement" in research.k_problem(
        4, 5, agreement=True, approval=" "
    )
    assert research.k_problem(4, 5, agreement=True, approval="Caldicott guardian") == ""
    with pytest.raises(ValidationError, match="needs the data sharing agreement"):
        _run(hub, django_capture_on_commit_callbacks, k=3)
    elsewhere = DataSharingAgreement.objects.create(title="Southgate only", starts_on=START)
    elsewhere.organisations.set([hub.other_university], through_defaults={"active": True})
    with pytest.raises(ValidationError, match="not in force between"):
        _run(hub, django_capture_on_commit_callbacks, k=3, approved_under=elsewhere,
             approval="Nobody")  # fmt: skip
    assert not ResearchExtract.objects.exists()
    extract = _run(hub, django_capture_on_commit_callbacks, k=3, approved_under=hub.agreement,
                   approval="the Caldicott guardian, minutes of 3 March 2026")  # fmt: skip
    note = _files(settings, extract)["release_note.txt"].decode()
    assert (
        "k is below the hub's minimum of 5: allowed under the data sharing agreement "
        f"\u201c{hub.agreement.title}\u201d, approved by the Caldicott guardian, minutes of "
        "3 March 2026." in note
    )
    usual = _run(hub, django_capture_on_commit_callbacks, k=5, approved_under=hub.agreement,
                 approval="Not needed")  # fmt: skip
    assert (usual.approved_under, usual.approval) == (None, "")  # only below the minimum
    assert "minimum" not in _files(settings, usual)["release_note.txt"].decode()


def test_an_extract_with_nothing_to_release_still_writes_its_files(
    hub, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.RESEARCH_PSEUDONYM_KEY = KEY
    settings.VAR_DIR = tmp_path
    extract = _run(hub, django_capture_on_commit_callbacks)
    assert extract.status == ResearchExtract.Status.DONE
    files = _files(settings, extract)
    assert _rows(files) == []
    assert extract.release_note["rows"] == 0
    assert "Rows released: 0 episodes of 0 students." in files["release_note.txt"].decode()


def test_an_extract_is_built_once(produced):
    extract, _files = produced
    services.build_extract(extract.pk)  # a second worker picking up the same task
    assert AuditEvent.objects.filter(action="evaluation.extract.produced").count() == 1


def test_a_failed_extract_says_so_and_leaves_no_files(
    hub, cohort, settings, django_capture_on_commit_callbacks, monkeypatch
):
    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(research, "write_extract", broken)
    extract = _run(hub, django_capture_on_commit_callbacks)
    assert extract.status == ResearchExtract.Status.FAILED
    assert "could not be produced" in extract.error
    assert extract.file_path == ""
    assert not (settings.VAR_DIR / "extracts" / str(extract.uuid)).exists()


@pytest.mark.parametrize("role", ["practitioner", "academic", "org_admin", "triage", "liaison"])
def test_only_researchers_and_service_managers_can_run_extracts(hub, settings, role):
    settings.RESEARCH_PSEUDONYM_KEY = KEY
    user = getattr(hub, role)
    with pytest.raises(ValidationError, match="Only researchers and service managers"):
        start_extract(actor=user, starts_on=START, ends_on=END, services=[hub.wellbeing])
    assert not ResearchExtract.objects.exists()


def test_a_service_manager_cannot_extract_another_organisations_services(hub, settings):
    settings.RESEARCH_PSEUDONYM_KEY = KEY
    with pytest.raises(ValidationError, match="services you may report on"):
        start_extract(
            actor=hub.service_manager, starts_on=START, ends_on=END, services=[hub.talking]
        )


def test_an_extract_is_refused_outside_development_without_a_key(hub, settings):
    settings.RESEARCH_PSEUDONYM_KEY = None
    settings.DEBUG = False
    with pytest.raises(research.PseudonymKeyMissing):
        start_extract(actor=hub.researcher, starts_on=START, ends_on=END, services=[hub.wellbeing])
    assert not ResearchExtract.objects.exists()


def test_each_run_and_its_completion_are_audited(produced, hub):
    extract, _files = produced
    run = AuditEvent.objects.get(action="evaluation.extract.run")
    assert run.actor == hub.researcher
    assert run.actor_role == "researcher"
    assert str(extract.uuid) in run.reason
    produced_event = AuditEvent.objects.get(action="evaluation.extract.produced")
    assert "13 students released" in produced_event.reason
    assert "1 student left out by the national data opt-out" in produced_event.reason


# --- Pages ---------------------------------------------------------------------------------


def test_running_an_extract_from_its_page(client, hub, cohort, django_capture_on_commit_callbacks):
    client.force_login(hub.researcher)
    response = client.get(reverse("evaluation:extract-list"))
    assert response.status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("evaluation:extract-list"),
            {"starts_on": "2025-01-01", "ends_on": "2026-01-01", "k": "5",
             "services": [hub.wellbeing.pk, hub.talking.pk]},
        )  # fmt: skip
    extract = ResearchExtract.objects.get()
    assert response.url == reverse("evaluation:extract-detail", args=[extract.uuid])
    page = client.get(response.url)
    assert b"Ready to download" in page.content
    assert b"Left out by the national data opt-out: 1 episode of 1 student." in page.content
    status = client.get(reverse("evaluation:extract-status", args=[extract.uuid]))
    assert b"hx-get" not in status.content  # finished: polling stops


def test_a_queued_extract_polls_for_progress(client, hub):
    extract = ResearchExtract.objects.create(
        requested_by=hub.researcher, starts_on=START, ends_on=END, progress=40, stage="Reading"
    )
    client.force_login(hub.researcher)
    status = client.get(reverse("evaluation:extract-status", args=[extract.uuid]))
    assert b'hx-trigger="every 2s"' in status.content
    assert b"40% done" in status.content


def test_bad_input_is_explained_and_nothing_is_queued(client, hub, settings):
    settings.RESEARCH_PSEUDONYM_KEY = KEY
    client.force_login(hub.researcher)
    response = client.post(
        reverse("evaluation:extract-list"),
        {"starts_on": "2025-06-01", "ends_on": "2025-01-01", "k": "1", "services": []},
    )
    assert response.status_code == 200
    assert b"The end of the period must be after its start." in response.content
    assert b"k must be at least 2." in response.content
    assert b"Choose at least one service." in response.content
    smaller = client.post(reverse("evaluation:extract-list"), {
        "starts_on": "2025-01-01", "ends_on": "2025-06-01", "k": "3",
        "services": [hub.wellbeing.pk],
    })  # fmt: skip
    assert b"k below 5 needs the data sharing agreement that allows it" in smaller.content
    assert smaller.context["form"].errors == {
        "approved_under": ["k below 5 needs the data sharing agreement that allows it: choose "
                           "it, or raise k to 5."],
        "approval": ["k below 5 needs who approved it and where that is recorded."],
    }  # fmt: skip
    # With the agreement chosen, only who approved it is asked for, at its own box.
    approver_missing = client.post(reverse("evaluation:extract-list"), {
        "starts_on": "2025-01-01", "ends_on": "2025-06-01", "k": "3",
        "services": [hub.wellbeing.pk], "approved_under": hub.agreement.pk, "approval": " ",
    })  # fmt: skip
    assert approver_missing.context["form"].errors == {
        "approval": ["k below 5 needs who approved it and where that is recorded."]
    }
    assert not ResearchExtract.objects.exists()


def test_a_missing_key_is_explained_on_the_page(client, hub, settings):
    settings.RESEARCH_PSEUDONYM_KEY = None
    settings.DEBUG = False
    client.force_login(hub.researcher)
    response = client.post(
        reverse("evaluation:extract-list"),
        {"starts_on": "2025-01-01", "ends_on": "2026-01-01", "k": "5",
         "services": [hub.wellbeing.pk]},
    )  # fmt: skip
    assert b"RESEARCH_PSEUDONYM_KEY is not set" in response.content
    assert not ResearchExtract.objects.exists()


@pytest.mark.parametrize("role", ["practitioner", "academic", "org_admin", "student_user"])
def test_other_roles_cannot_open_the_extract_pages(client, hub, role):
    client.force_login(getattr(hub, role))
    assert client.get(reverse("evaluation:extract-list")).status_code == 403


def test_the_person_who_ran_it_downloads_it_and_the_download_is_audited(client, produced, hub):
    extract, _files = produced
    client.force_login(hub.researcher)
    response = client.get(reverse("evaluation:extract-download", args=[extract.uuid]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert b"".join(response.streaming_content).startswith(b"PK")
    download = AuditEvent.objects.get(action="evaluation.extract.downloaded")
    assert download.actor == hub.researcher


def test_nobody_else_can_see_or_download_it(client, produced, hub):
    extract, _files = produced
    colleague = make_staff("ruth@nb.ac.uk", Role.RESEARCHER, hub.university)
    for user in (colleague, hub.service_manager):
        client.force_login(user)
        for name in ("extract-detail", "extract-status", "extract-download"):
            assert client.get(reverse(f"evaluation:{name}", args=[extract.uuid])).status_code == 404
    assert not AuditEvent.objects.filter(action="evaluation.extract.downloaded").exists()


def test_old_extract_files_are_removed_but_the_run_is_kept(client, produced, hub, settings):
    extract, _files = produced
    path = settings.VAR_DIR / extract.file_path
    call_command("remove_old_extracts", "--days", "0", "--dry-run", stdout=io.StringIO())
    assert path.exists()
    out = io.StringIO()
    call_command("remove_old_extracts", "--days", "0", stdout=out)
    assert "Removed the files of 1 extracts." in out.getvalue()
    assert not path.exists()
    extract.refresh_from_db()
    assert extract.release_note["students"] == 13
    client.force_login(hub.researcher)
    page = client.get(reverse("evaluation:extract-detail", args=[extract.uuid]))
    assert b"have been removed from the server" in page.content
    assert (
        client.get(reverse("evaluation:extract-download", args=[extract.uuid])).status_code == 404
    )


def test_recent_extract_files_are_kept(produced, settings):
    extract, _files = produced
    call_command("remove_old_extracts", "--days", "30", stdout=io.StringIO())
    assert (settings.VAR_DIR / extract.file_path).exists()


def test_every_measure_of_the_service_report_has_its_first_and_last_score(
    hub, cohort, settings, django_capture_on_commit_callbacks
):
    """Not only the PHQ-9 and GAD-7: each measure the report covers, as its main score (a
    CORE clinical score, the SWEMWBS metric score). The Talking Therapies flags still come
    from the PHQ-9 and GAD-7 alone."""
    student = cohort[0]
    episode = Episode.objects.get(student=student, service=hub.talking)
    scores = {"CORE-10": (20, 9), "CORE-OM": (15.5, 8.25), "WEMWBS": (40, 52),
              "SWEMWBS": (19.25, 23.21)}  # fmt: skip
    for code, (first, last) in scores.items():
        for session, score in ((1, first), (2, None), (3, last)):
            Administration.objects.create(
                student=student, service=hub.talking, episode=episode, session_number=session,
                code=code, completed_at=_when(2, session), method="in_session",
                is_valid=score is not None, total=score, main_score=score,
            )  # fmt: skip
    rows = _rows(_files(settings, _run(hub, django_capture_on_commit_callbacks)))
    pseudonym = research.pseudonym(student.pk, KEY.encode())
    talking = next(r for r in rows if r["pseudonym"] == pseudonym and r["service"] != "Wellbeing")
    assert {
        code: (talking[f"{research.measure_column(code)}_first"],
               talking[f"{research.measure_column(code)}_last"])
        for code in scores
    } == {"CORE-10": ("20.0", "9.0"), "CORE-OM": ("15.5", "8.25"), "WEMWBS": ("40.0", "52.0"),
          "SWEMWBS": ("19.25", "23.21")}  # fmt: skip
    assert (talking["phq9_first"], talking["phq9_last"]) == ("15.0", "5.0")
    assert (talking["gad7_first"], talking["gad7_last"]) == ("12.0", "4.0")
    assert talking["recovery"] == talking["reliable_improvement"] == "true"
    wellbeing = next(r for r in rows if r["pseudonym"] == pseudonym and r["service"] == "Wellbeing")
    assert wellbeing["core10_first"] == wellbeing["swemwbs_last"] == ""
    assert research.smallest_group(rows) >= 5
