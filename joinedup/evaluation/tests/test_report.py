"""The report builder over a small hand-made hub: figures, breakdowns and disclosure."""

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser
from django.template.loader import render_to_string

from conftest import make_student
from joinedup.consent.models import CareRelationship
from joinedup.evaluation import reports
from joinedup.evaluation.reports import ReportParameters, build_report
from joinedup.measures.models import Administration, RoutineMeasure
from joinedup.referrals.models import Appointment, Episode, Referral

START, END = dt.date(2025, 1, 1), dt.date(2026, 1, 1)
TODAY = dt.date(2026, 3, 1)


def at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


def add_referral(hub, student, to, sent, *, source="self", from_service=None, state="accepted",
                 first=None, treated=None, decline_reason=""):  # fmt: skip
    """A referral sent on `sent`, first seen and started after `first` and `treated` days."""
    return Referral.objects.create(
        student=student, source=source, from_service=from_service, to_service=to, state=state,
        reason="Low mood", created_by=hub.practitioner, sent_at=at(sent),
        first_contact_at=at(sent + dt.timedelta(days=first)) if first is not None else None,
        treatment_started_at=at(sent + dt.timedelta(days=treated)) if treated is not None else None,
        decline_reason=decline_reason,
    )  # fmt: skip


def add_episode(hub, student, service, started, ended, *, ending="planned", attended=0, missed=0,
                scores=None):  # fmt: skip
    """An ended episode with `attended` treatment appointments, `missed` ones, and a list of
    main scores per measure, one administration a week."""
    relationship = CareRelationship.objects.create(student=student, service=service,
                                                   reason="episode")  # fmt: skip
    episode = Episode.objects.create(
        student=student, service=service, relationship=relationship, started_at=at(started),
        ended_at=at(ended), ending=ending,
    )  # fmt: skip
    for i in range(attended + missed):
        Appointment.objects.create(
            episode=episode, starts_at=at(started + dt.timedelta(days=7 * i)), kind="treatment",
            status="attended" if i < attended else "missed", recorded_by=hub.practitioner,
        )  # fmt: skip
    for code, values in (scores or {}).items():
        for i, value in enumerate(values):
            Administration.objects.create(
                student=student, service=service, episode=episode, code=code,
                completed_at=at(started + dt.timedelta(days=7 * i)), method="in_session",
                is_valid=value is not None, main_score=value, total=value,
            )  # fmt: skip
    return episode


def students(hub, count, start=0, **fields):
    return [make_student(hub.university, f"NB2{start + i:06d}", **fields) for i in range(count)]


@pytest.fixture
def caseload(hub):
    """Ten women and two students with no gender recorded, referred to Talking Therapies;
    every woman finished treatment, recovering on both measures."""
    women = students(hub, 10, gender="woman")
    unrecorded = students(hub, 2, start=100)
    for i, student in enumerate(women):
        add_referral(hub, student, hub.talking, dt.date(2025, 3, 1) + dt.timedelta(days=i),
                     first=7 + i, treated=30 + i)  # fmt: skip
        add_episode(hub, student, hub.talking, dt.date(2025, 4, 15), dt.date(2025, 7, 1),
                    attended=4, missed=1,
                    scores={"PHQ-9": [18, 12, 6], "GAD-7": [14, 9, 4]})  # fmt: skip
    for student in unrecorded:
        add_referral(hub, student, hub.talking, dt.date(2025, 5, 1), state="sent")
        add_episode(hub, student, hub.talking, dt.date(2025, 5, 1), dt.date(2025, 6, 1),
                    ending="unplanned", attended=1, scores={"PHQ-9": [20]})  # fmt: skip
    # Outside the period: never counted.
    add_referral(hub, women[0], hub.talking, dt.date(2024, 12, 31), first=1)
    add_referral(hub, women[0], hub.talking, dt.date(2026, 1, 1), first=1)
    return women, unrecorded


def run(hub, breakdown="", services=None):
    services = services or (hub.talking.pk,)
    return build_report(ReportParameters(START, END, services, breakdown), using="default",
                        today=TODAY)  # fmt: skip


def figure(report, key, label, group=reports.ALL_STUDENTS):
    table = next(t for t in report["tables"] if t["key"] == key)
    row = next(r for r in table["rows"] if r["label"] == label)
    return row["values"][report["groups"].index(group)]


def test_parameters_refuse_an_empty_period_no_services_and_unknown_breakdowns():
    with pytest.raises(ValueError, match="after its start"):
        ReportParameters(END, START, (1,))
    with pytest.raises(ValueError, match="at least one service"):
        ReportParameters(START, END, ())
    with pytest.raises(ValueError, match="Unknown breakdown"):
        ReportParameters(START, END, (1,), "legal_family_name")


def test_a_report_counts_referrals_sent_in_the_period_only(hub, caseload):
    report = run(hub)
    assert figure(report, "activity", "Referrals") == "10"  # 12, rounded
    assert figure(report, "activity", "Students referred") == "10"
    assert figure(report, "sources", "Self-referral") == "10"
    # 10 accepted of 12 referrals; 2 still waiting
    assert figure(report, "outcomes", "Accepted") == "83% of 10"
    assert figure(report, "outcomes", "Declined") == "0% of 10"


def test_waiting_times_use_nearest_rank_and_the_talking_therapies_standards(hub, caseload):
    report = run(hub)
    # waits to first contact 7..16 days: median rank 5 = 11, 75th rank 8 = 14, 95th = 16
    assert figure(report, "waiting", "To first contact: median (days)") == "11"
    assert figure(report, "waiting", "To first contact: 75th percentile (days)") == "14"
    assert figure(report, "waiting", "To first contact: 95th percentile (days)") == "16"
    assert figure(report, "waiting", "First contact within the service's standard (42 days)") == (
        "100% of 10"
    )
    assert figure(report, "waiting", "NHS Talking Therapies: treatment within 6 weeks") == (
        "100% of 10"
    )
    # two still waiting: shown as a count of 1 to 7, and their wait is suppressed too
    assert figure(report, "waiting", "Still waiting: referrals") == "*"
    assert figure(report, "waiting", "Still waiting: median (days)") == "*"


def test_missed_appointments_endings_and_outcomes(hub, caseload):
    report = run(hub)
    # 40 attended and 10 missed for the women, 2 attended for the others: 10 / 52
    assert figure(report, "appointments", "Missed appointment rate") == "19% of 50"
    assert figure(report, "endings", "Episodes ended") == "10"
    assert figure(report, "endings", "Planned endings") == "83% of 10"
    assert figure(report, "measure-PHQ-9", "With paired first and last scores") == "10"
    assert figure(report, "measure-PHQ-9", "Outcomes not available (no paired scores)") == "*"
    assert figure(report, "measure-PHQ-9", "Mean first score") == "18.0"
    assert figure(report, "measure-PHQ-9", "Mean last score") == "6.0"
    # every first score is 18: no spread, so no effect size
    assert figure(
        report,
        "measure-PHQ-9",
        reports.effect_size_label("PHQ-9"),
    ) == ("—")
    assert reports.effect_size_label("PHQ-9").endswith("below 0 is improvement)")
    assert reports.effect_size_label("WEMWBS").endswith("above 0 is improvement)")
    assert figure(report, "measure-PHQ-9", "Reliable improvement") == "100% of 10"
    assert figure(report, "talking-therapies", "Recovery (of those at caseness at the start)") == (
        "100% of 10"
    )
    assert figure(report, "talking-therapies",
                  "Outcomes not available (not finished, or no paired scores)") == "*"  # fmt: skip


def test_a_measure_table_counts_the_endings_of_services_that_ask_for_it(hub, caseload):
    """Talking Therapies asks for the PHQ-9; Wellbeing asks for the CORE-10 only. Ten
    Wellbeing endings without a PHQ-9 are not PHQ-9 outcomes "not available"; ten Talking
    Therapies endings with no score at all are, and the CORE-10 table is shown though no
    episode has a CORE-10 score."""
    RoutineMeasure.objects.create(service=hub.talking, code="PHQ-9")
    RoutineMeasure.objects.create(service=hub.wellbeing, code="CORE-10")
    for student in students(hub, 10, start=200):
        add_episode(hub, student, hub.wellbeing, dt.date(2025, 4, 1), dt.date(2025, 6, 1))
    for student in students(hub, 10, start=300):
        add_episode(hub, student, hub.talking, dt.date(2025, 4, 1), dt.date(2025, 6, 1),
                    ending="unplanned")  # fmt: skip
    report = run(hub, services=(hub.talking.pk, hub.wellbeing.pk))
    assert figure(report, "endings", "Episodes ended") == "30"  # 32, rounded
    # 22 Talking Therapies endings: 10 paired, 12 not
    assert figure(report, "measure-PHQ-9", "Episodes ended (where it is used)") == "20"
    assert figure(report, "measure-PHQ-9", "Outcomes not available (no paired scores)") == "10"
    assert figure(report, "measure-CORE-10", "Episodes ended (where it is used)") == "10"
    assert figure(report, "measure-CORE-10", "With paired first and last scores") == "0"
    # GAD-7: nobody asks for it routinely; the 10 episodes scored on it are its endings
    assert figure(report, "measure-GAD-7", "Episodes ended (where it is used)") == "10"
    note = next(t["note"] for t in report["tables"] if t["key"] == "measure-PHQ-9")
    assert note.startswith("Over the episodes ended in services that ask for the PHQ-9 at")


def test_every_figure_can_be_broken_down_by_a_student_group(hub, caseload):
    report = run(hub, "gender")
    assert report["groups"][0] == reports.ALL_STUDENTS
    assert "Not recorded" in report["groups"]
    assert figure(report, "activity", "Students referred", "Woman") == "10"
    assert figure(report, "activity", "Students referred", "Not recorded") == "*"
    assert figure(report, "activity", "Students referred", "Man") == "0"
    assert figure(report, "endings", "Unplanned endings", "Woman") == "0% of 10"
    for table in report["tables"]:
        for row in table["rows"]:
            assert len(row["values"]) == len(report["groups"])


def test_age_band_is_taken_at_referral(hub, caseload):
    report = run(hub, "age_band")
    # born 17 May 2004, referred in March to May 2025: 20
    assert figure(report, "activity", "Students referred", "18 to 20") == "10"
    assert figure(report, "activity", "Students referred", "21 to 24") == "0"


def test_a_single_student_is_never_shown(hub):
    (student,) = students(hub, 1, gender="man")
    add_referral(hub, student, hub.talking, dt.date(2025, 2, 1), first=3, treated=10)
    add_episode(hub, student, hub.talking, dt.date(2025, 2, 11), dt.date(2025, 4, 1),
                attended=3, scores={"PHQ-9": [20, 5], "GAD-7": [15, 3]})  # fmt: skip
    report = run(hub, "gender")
    shown = {v for t in report["tables"] for r in t["rows"] for v in r["values"]}
    assert shown <= {"*", "0", "—"}
    assert report["charts"]["flows"] == []
    assert {v for d in report["charts"]["waiting"]["datasets"] for v in d["data"]} == {None, 0}
    assert report["charts"]["scores"]["first"] == [None, None]


def test_an_empty_period_reports_zeros_and_dashes(hub):
    report = run(hub)
    assert figure(report, "activity", "Referrals") == "0"
    assert figure(report, "waiting", "To first contact: median (days)") == "—"
    assert figure(report, "endings", "Planned endings") == "—"


def test_every_figure_passes_through_disclosure_control(hub, caseload, monkeypatch):
    real = reports.tables.disclose
    for module in (reports.tables, reports.charts):
        monkeypatch.setattr(module, "disclose", lambda figure: f"«{real(figure)}»")
    report = run(hub, "gender")
    values = [v for t in report["tables"] for r in t["rows"] for v in r["values"]]
    assert values
    assert all(v.startswith("«") and v.endswith("»") for v in values)
    # The charts draw only numbers parsed back from disclosed figures: none parse here.
    assert report["charts"]["flows"] == []
    assert all(v is None for d in report["charts"]["waiting"]["datasets"] for v in d["data"])
    assert all(v is None for v in report["charts"]["scores"]["first"])


def test_onward_flows_count_distinct_students_between_services(hub):
    referred = students(hub, 9)
    for student in referred:
        add_referral(hub, student, hub.talking, dt.date(2025, 6, 1), source="service",
                     from_service=hub.wellbeing)  # fmt: skip
        add_referral(hub, student, hub.talking, dt.date(2025, 6, 2), source="service",
                     from_service=hub.wellbeing)  # fmt: skip
    for student in students(hub, 3, start=50):  # too few to show: hidden, and said to be
        add_referral(hub, student, hub.crisis, dt.date(2025, 6, 3), source="service",
                     from_service=hub.wellbeing)  # fmt: skip
    report = run(hub, services=(hub.wellbeing.pk,))
    assert figure(report, "flows", "Wellbeing → Talking Therapies") == "10"  # 9 students
    assert figure(report, "flows", "Wellbeing → Crisis Team") == "*"
    assert report["charts"]["flows"] == [
        {"from": "Wellbeing", "to": "Talking Therapies", "flow": 10.0}
    ]
    assert report["charts"]["flows_hidden"] == 1
    page = render_to_string("evaluation/_report_body.html", {"report": report})
    assert "1 flow of fewer than 8 students is not drawn (shown as * in the table below)." in page
    # The wellbeing service received none of them.
    assert figure(report, "activity", "Referrals") == "0"


def test_csv_rows_carry_every_figure_for_every_group(hub, caseload):
    report = run(hub, "gender")
    rows = reports.csv_rows(report)
    header = rows.index(reports.CSV_COLUMNS)
    assert rows[1][0] == "Period"
    assert rows[1][1].startswith(report["parameters"]["start"])
    assert rows[2][0] == "Services"
    assert "Talking Therapies (" in rows[2][1]
    assert rows[3] == ["Broken down by", "Gender"]
    assert rows[4][0] == "Disclosure control"
    figures = sum(len(t["rows"]) for t in report["tables"])
    # and the pre/post tables: three figures a drawn cell, and how many are in cells not drawn
    cells = sum(3 * len(c["cells"]) + 1 for c in report["charts"]["prepost"])
    assert cells == 2 * (3 + 1)  # PHQ-9 and GAD-7: one cell of ten episodes each
    assert len(rows) == header + 1 + figures * len(report["groups"]) + cells
    phq9 = "PHQ-9: episodes by first and last score, all students"
    assert ["Outcomes", phq9, "First 18 to under 24, last 6 to under 12: episodes",
            "All students", "10", "10", ""] in rows  # fmt: skip
    assert ["Outcomes", phq9, "First 18 to under 24, last 6 to under 12: mean first score",
            "All students", "18.0", "18.0", ""] in rows  # fmt: skip
    assert ["Activity", "Referrals received", "Students referred", "Woman", "10", "10", ""] in rows
    by_shown = {row[4]: row[5:] for row in rows[header + 1 :]}
    assert by_shown.get("*", ["", ""]) == ["", ""]  # hidden: no number
    rates = [row for row in rows[header + 1 :] if "% of " in row[4]]
    assert rates
    # a rate's percentage and what it is of, as numbers
    assert all(row[4] == f"{row[5]}% of {row[6]}" for row in rates)


def test_the_report_is_json_serialisable(hub, caseload):
    import json

    assert json.loads(json.dumps(run(hub, "ethnicity_group")))["groups"][-1] == "Not recorded"


def test_benchmark_shows_every_service_and_institution_and_flags_nothing_by_rank(hub, caseload):
    benchmark = reports.build_benchmark(START, END, using="default", today=TODAY)
    names = [(u["kind"], u["name"]) for u in benchmark["units"]]
    assert ("service", "Talking Therapies") in names
    assert ("institution", "Northbridge NHS Trust") in names
    talking = next(u for u in benchmark["units"] if u["name"] == "Talking Therapies")
    assert talking["values"][benchmark["headlines"].index("Recovery")] == "100% of 10"
    # each unit names the waiting standards its share within standard is of
    assert talking["standard"] == "42"
    by_name = {u["name"]: u["standard"] for u in benchmark["units"]}
    assert by_name["Crisis Team"] == "—"
    hub.crisis.waiting_standard_days = 1
    hub.crisis.save()
    benchmark = reports.build_benchmark(START, END, using="default", today=TODAY)
    by_name = {u["name"]: u["standard"] for u in benchmark["units"]}
    assert by_name["Northbridge NHS Trust"] == "1 and 42"
    hub.liaison_service.waiting_standard_days = 14
    hub.liaison_service.save()
    benchmark = reports.build_benchmark(START, END, using="default", today=TODAY)
    by_name = {u["name"]: u["standard"] for u in benchmark["units"]}
    assert by_name["Northbridge NHS Trust"] == "1, 14 and 42"
    plot = benchmark["funnels"]["recovery-service"]
    assert "Crisis Team" in plot["without"]  # no Talking Therapies episodes: named, not drawn
    assert "Talking Therapies" not in plot["without"]
    assert plot["pooled"] == 100.0
    assert [p["label"] for p in plot["points"]] == ["Talking Therapies"]
    assert plot["points"][0]["x"] == 10.0


def test_a_funnel_never_draws_a_unit_from_one_to_seven_people():
    plot = reports.funnel_plot("Recovery", "service", [("Small", 0, 5), ("Big", 50, 100)])
    small, big = plot["points"]
    assert (small["shown"], small["x"], small["y"], small["flagged"]) == ("*", None, None, False)
    # drawn at its rounded size and its shown percentage
    assert (big["shown"], big["x"], big["y"]) == ("50% of 100", 100.0, 50)
    # the hidden unit is left out of the hub rate too, so its 0 of 5 cannot be read off it
    assert plot["pooled"] == 50
    assert plot["curve"][-1]["n"] == 100
    assert plot["hidden"] == 1  # said as hidden, not left out silently


def test_a_funnel_whose_every_unit_is_hidden_says_so_not_that_there_were_no_episodes():
    plot = reports.funnel_plot("Recovery", "service", [("A", 1, 4), ("B", 2, 6), ("C", 0, 0)])
    assert (plot["pooled"], plot["hidden"], plot["curve"]) == (None, 2, [])
    assert reports.funnel_plot("Recovery", "service", [("C", 0, 0)])["hidden"] == 0


def test_no_drawn_funnel_number_tells_a_suppressed_unit_from_another():
    """A small unit's outcome must not move anything drawn: its 0 of 3 and 3 of 3 give the
    same plot (the exact hub rates would be 38.8% and 41.7%)."""
    low = reports.funnel_plot("Recovery", "service", [("Small", 0, 3), ("Big", 40, 102)])
    high = reports.funnel_plot("Recovery", "service", [("Small", 3, 3), ("Big", 40, 102)])
    assert low == high
    assert low["curve"][-1]["n"] == 100  # the largest size rounded: 102 is drawn as 100
    assert low["pooled"] == 39


def test_first_and_last_scores_follow_completion_time_then_id(hub):
    (student,) = students(hub, 1)
    episode = add_episode(hub, student, hub.talking, dt.date(2025, 2, 1), dt.date(2025, 4, 1))
    for days, score in ((10, 5), (0, 20), (20, 8), (20, 9)):  # created in this order
        Administration.objects.create(
            student=student, service=hub.talking, episode=episode, code="PHQ-9",
            completed_at=at(dt.date(2025, 2, 1) + dt.timedelta(days=days)),
            method="in_session", is_valid=True, main_score=score, total=score,
        )  # fmt: skip
    Administration.objects.create(
        student=student, service=hub.talking, episode=episode, code="PHQ-9",
        completed_at=at(dt.date(2025, 3, 30)), method="in_session", is_valid=False,
    )  # an invalid last one is not a score  # fmt: skip
    rows = reports.fetch_rows(START, END, [hub.talking.pk], using="default")
    # first: the earliest (20); last: of the two latest at the same time, the later id (9)
    assert rows.episodes[0].scores["PHQ-9"] == (20.0, 9.0, 4)


def test_episodes_and_appointments_are_read_in_one_pass_with_their_own_periods(hub):
    """An ending counts in the period it ended, with every attended treatment appointment
    of its episode; appointments count in the period they took place, whatever the episode."""
    first, second, third, fourth, fifth = students(hub, 5, gender="woman")
    # Ended in the period; two treatment appointments before it began, one missed in it,
    # an assessment that is not treatment, and a cancelled one that is neither.
    ended = add_episode(hub, first, hub.talking, dt.date(2024, 11, 1), dt.date(2025, 2, 1),
                        attended=2)  # fmt: skip
    for day, kind, status in ((dt.date(2025, 1, 10), "treatment", "missed"),
                              (dt.date(2025, 1, 17), "assessment", "attended"),
                              (dt.date(2025, 1, 24), "treatment", "cancelled")):  # fmt: skip
        Appointment.objects.create(episode=ended, starts_at=at(day), kind=kind, status=status,
                                   cancelled_by="student" if status == "cancelled" else "",
                                   recorded_by=hub.practitioner)  # fmt: skip
    # Ended after the period: weekly from 20 December, attended on 20 and 27 December (in
    # the period) and 3 January, missed on 10 and 17 January (after it).
    add_episode(hub, second, hub.talking, dt.date(2025, 12, 20), dt.date(2026, 2, 1),
                attended=3, missed=2)  # fmt: skip
    # Ended in the period with no appointment at all.
    add_episode(hub, third, hub.talking, dt.date(2025, 3, 1), dt.date(2025, 3, 2))
    # Every appointment inside the period (counted as the database keeps them), and every
    # appointment before it (none in it, though the episode ended in it).
    add_episode(hub, fourth, hub.talking, dt.date(2025, 4, 1), dt.date(2025, 6, 1),
                attended=2, missed=1)  # fmt: skip
    add_episode(hub, fifth, hub.talking, dt.date(2024, 10, 1), dt.date(2025, 1, 5),
                attended=3)  # fmt: skip
    rows = reports.fetch_rows(START, END, [hub.talking.pk], using="default")
    assert sorted((r.student, r.attended_treatment) for r in rows.episodes) == [
        (first.pk, 2),
        (third.pk, 0),
        (fourth.pk, 2),
        (fifth.pk, 3),
    ]
    assert {r.student: (r.attended, r.missed) for r in rows.appointments} == {
        first.pk: (1, 1),  # the assessment attended and the treatment missed in the period
        second.pk: (2, 0),
        fourth.pk: (2, 1),
    }


@pytest.mark.parametrize(
    ("units", "said", "not_said"),
    [
        ([("A", 1, 4), ("B", 2, 6)], "2 units are hidden by disclosure control", "No episodes"),
        ([("A", 1, 4), ("Big", 50, 100)], "1 unit is hidden by disclosure control", "No episodes"),
        ([("C", 0, 0)], "No episodes in this period had the paired scores", "hidden by"),
    ],
)
def test_the_benchmarking_page_says_which_units_it_hides(rf, units, said, not_said):
    plot = reports.funnel_plot("Recovery", "service", units)
    request = rf.get("/")
    request.user = AnonymousUser()
    page = render_to_string("evaluation/benchmarking.html", {
        "benchmark": {"headlines": [], "units": [], "funnels": {"recovery-service": plot}},
    }, request=request)  # fmt: skip
    assert "A dash means there is nothing to show." in page
    assert said in page
    assert not_said not in page
