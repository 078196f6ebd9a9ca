"""The demo hub's students look like a UK university's, and its past year of finished care
fills a year's report without putting anyone back in care or on a gap list."""

import datetime as dt
import random
from collections import Counter

import pytest
from django.utils import timezone

from joinedup.consent.models import CareRelationship
from joinedup.evaluation.demo import EPISODES_A_YEAR
from joinedup.evaluation.reports import ReportParameters, build_report
from joinedup.measures.models import Administration, Calibration
from joinedup.people import demo
from joinedup.people.models import Service, Student, User
from joinedup.record.demo import build_demo_hub
from joinedup.referrals.gaps import find_gaps
from joinedup.referrals.models import Appointment, Episode, GapItem, Referral

DRAWS = 20_000


def _shares(values) -> dict:
    counts = Counter(values)
    return {value: count / len(values) for value, count in counts.items()}


def test_equality_answers_follow_the_hesa_shares_each_left_blank_at_times():
    rng = random.Random(1)  # noqa: S311 - repeatable draws
    home = [demo.equality_answers(rng, international=False) for _ in range(DRAWS)]
    recorded = 1 - demo.UNRECORDED
    gender = _shares([a["gender"] for a in home])
    assert gender["woman"] == pytest.approx(0.57 * recorded, abs=0.015)
    assert gender["man"] == pytest.approx(0.425 * recorded, abs=0.015)
    assert gender[""] == pytest.approx(demo.UNRECORDED, abs=0.01)
    ethnicity = _shares([a["ethnicity_group"] for a in home])
    for group, share in {"white": 0.72, "asian": 0.13, "black": 0.08, "mixed": 0.05}.items():
        assert ethnicity[group] == pytest.approx(share * recorded, abs=0.015), group
    assert _shares([a["disability"] for a in home])["yes"] == pytest.approx(
        0.17 * recorded, abs=0.01
    )
    # HESA does not collect the ethnicity of students from abroad.
    abroad = [demo.equality_answers(rng, international=True) for _ in range(500)]
    assert {a["ethnicity_group"] for a in abroad} == {""}


def test_levels_of_study_make_29_percent_postgraduates_and_ages_fit_them():
    rng = random.Random(2)  # noqa: S311 - repeatable draws
    today = dt.date(2026, 12, 7)
    drawn = [
        demo.study_and_birth(rng, international=rng.random() < demo.INTERNATIONAL, today=today)
        for _ in range(DRAWS)
    ]
    levels = _shares([d["level_of_study"] for d in drawn])
    assert levels["pgt"] + levels["pgr"] == pytest.approx(0.29, abs=0.02)
    for d in drawn:
        age = (today - d["date_of_birth"]).days // 365
        level, year = d["level_of_study"], d["year_of_study"]
        assert age >= 18 + (level != "foundation") * (year - 1), d
        if level in ("foundation", "pgt"):
            assert year == 1
        if level == "pgr":
            assert age >= 24


@pytest.fixture
def hub(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    build_demo_hub(students_per_university=30)


def test_no_care_in_the_demo_ends_in_the_future(hub):
    """What has ended ended before now: a future ending would be changed data a partner
    sees again at every poll."""
    now = timezone.now()
    assert Episode.objects.filter(ended_at__isnull=False).exists()
    assert not Episode.objects.filter(ended_at__gt=now).exists()
    assert not CareRelationship.objects.filter(closed_at__gt=now).exists()


def test_the_past_year_is_finished_care_with_a_score_at_each_attended_session(hub):
    year = Student.objects.filter(student_number__regex=r"^[NS]23")
    assert year.count() == sum(round(n * 30 / 150) for n in EPISODES_A_YEAR.values())
    referrals = Referral.objects.filter(student__in=year)
    assert set(referrals.values_list("state", flat=True)) <= {"discharged", "withdrawn"}
    episodes = Episode.objects.filter(student__in=year)
    assert episodes.count() == referrals.filter(state="discharged").count()
    assert not episodes.filter(ended_at__isnull=True).exists()
    for episode in episodes.filter(service__routine_measures__isnull=False).distinct():
        attended = list(
            Appointment.objects.filter(episode=episode, status="attended").values_list(
                "starts_at", flat=True
            )
        )
        assert max(attended) < episode.ended_at
        for code in episode.service.routine_measures.values_list("code", flat=True):
            scored = Administration.objects.filter(episode=episode, code=code)
            assert sorted(attended) == sorted(
                at - dt.timedelta(hours=1) for at in scored.values_list("completed_at", flat=True)
            )


def test_northbridge_wellbeing_asks_the_core_om_at_assessment_and_discharge(hub):
    """Its clinical scores (item mean × 10) start near a student population's, and a report
    of the year shows its outcomes, with reliable change once its manager sets the index."""
    service = Service.objects.get(name="Northbridge Wellbeing Service")
    year = Episode.objects.filter(student__student_number__regex=r"^N23", service=service)
    firsts = []
    for episode in year:
        attended = sorted(Appointment.objects.filter(episode=episode, status="attended")
                          .values_list("starts_at", flat=True))  # fmt: skip
        scored = Administration.objects.filter(episode=episode, code="CORE-OM")
        if not attended:
            assert not scored.exists()
            continue
        ends = sorted({attended[0], attended[-1]})
        at = sorted(
            a - dt.timedelta(hours=1) for a in scored.values_list("completed_at", flat=True)
        )
        assert at == ends, episode
        firsts.append(scored.earliest("completed_at").main_score)
    assert len(firsts) >= 20
    assert 12 <= sum(firsts) / len(firsts) <= 24, "CORE-OM first scores of people seeking help"
    assert all(0 <= f <= 40 for f in firsts)

    today = timezone.localdate()
    parameters = ReportParameters(today - dt.timedelta(days=365), today, (service.pk,))

    def improved() -> tuple[str, str]:
        report = build_report(parameters, using="default")
        table = next(t for t in report["tables"] if t["key"] == "measure-CORE-OM")
        row = next(r for r in table["rows"] if r["label"] == "Reliable improvement")
        return row["values"][0], table["note"]

    shown, note = improved()
    assert shown == "—"
    assert "Not set for Northbridge Wellbeing Service" in note
    manager = User.objects.get(email="service-manager@demo.joinedup.example")
    Calibration.objects.create(service=service, code="CORE-OM", first_score_sd=7.0,
                               reliability=0.9, set_by=manager)  # fmt: skip
    shown, note = improved()
    assert "% of " in shown, shown
    assert "Northbridge Wellbeing Service: 6.1 points (SD 7, reliability 0.9)." in note


def test_every_gap_in_the_past_year_was_found_and_closed(hub):
    year = set(
        Student.objects.filter(student_number__regex=r"^[NS]23").values_list("pk", flat=True)
    )
    found = [f for f in find_gaps() if f.student_id in year]
    assert found, "Talking Therapies discharges with no university contact since"
    items = GapItem.objects.filter(key__in=[f.key for f in found])
    assert items.count() == len(found)
    assert not items.filter(resolved_at__isnull=True).exists()


def test_a_years_report_of_a_university_service_has_paired_outcomes_by_gender(hub):
    today = timezone.localdate()
    service = Service.objects.get(name="Northbridge Wellbeing Service")
    report = build_report(
        ReportParameters(today - dt.timedelta(days=365), today, (service.pk,), "gender"),
        using="default",
    )
    outcomes = next(t for t in report["tables"] if t["key"] == "measure-PHQ-9")
    paired = next(r for r in outcomes["rows"] if r["label"].startswith("With paired"))
    by_group = dict(zip(report["groups"], paired["values"], strict=True))
    assert int(by_group["All students"]) >= 20, by_group
    assert by_group["Woman"] not in ("0", "—", "*"), by_group
    assert by_group["Man"] not in ("0", "—", "*"), by_group
