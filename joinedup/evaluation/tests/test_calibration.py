"""A measure with no published reliable change index (the CORE-OM): a service manager sets
the SD of first scores and the reliability it is worked out from, and reports use each
service's own index, naming it with its inputs."""

import datetime as dt
import math

import pytest
from django.urls import reverse

from joinedup.audit.models import AuditEvent
from joinedup.evaluation import metrics
from joinedup.evaluation.metrics import EpisodeRow
from joinedup.evaluation.reports import ReportParameters, build_report
from joinedup.evaluation.tests.test_report import END, START, TODAY, add_episode, students
from joinedup.measures.models import Calibration

URL = reverse("evaluation:calibration")
# SD 7 and reliability 0.9: 1.96 × 7 × √(2 × 0.1) = 6.136 clinical-score points.
SD, RELIABILITY = 7.0, 0.9
RCI = 1.96 * 7 * math.sqrt(0.2)
# (first, last): reliable improvement still clinical; recovery without reliable change;
# reliable recovery (clinically significant); reliable deterioration.
PAIRS = [(20.0, 12.0), (15.0, 9.5), (18.0, 5.0), (10.0, 18.0)]


def _rows(service: int) -> list[EpisodeRow]:
    return [
        EpisodeRow(
            student=n,
            service=service,
            ending="planned",
            attended_treatment=3,
            scores={"CORE-OM": (first, last, 2)},
        )
        for n, (first, last) in enumerate(PAIRS)
    ]


def test_the_core_om_has_reliable_change_by_each_services_own_index():
    outcome = metrics.measure_outcome(_rows(1), "CORE-OM", {1: RCI})

    assert outcome.reliable_improvement == 2
    assert outcome.no_reliable_change == 1
    assert outcome.reliable_deterioration == 1
    assert outcome.case_at_start == 4
    assert outcome.recovery == 2
    assert outcome.reliable_recovery == 1
    assert outcome.clinically_significant == 1


def test_a_smaller_index_makes_more_changes_reliable():
    outcome = metrics.measure_outcome(_rows(1), "CORE-OM", {1: 5.0})
    assert outcome.reliable_improvement == 3  # 15 → 9.5 is now reliable too
    assert outcome.reliable_recovery == 2


def test_without_every_services_index_reliable_change_is_not_defined():
    rows = _rows(1) + _rows(2)
    outcome = metrics.measure_outcome(rows, "CORE-OM", {1: RCI})
    assert outcome.reliable_improvement is None
    assert outcome.clinically_significant is None
    assert outcome.recovery == 4  # the cut-off needs no index
    assert metrics.measure_outcome(rows, "CORE-OM").reliable_improvement is None


def test_a_published_index_is_never_replaced():
    rows = [EpisodeRow(1, 1, "planned", 3, {"PHQ-9": (15.0, 10.0, 2)})]
    # PHQ-9's published index is 6: a fall of 5 is not reliable, whatever is passed.
    assert metrics.measure_outcome(rows, "PHQ-9").reliable_improvement == 0


@pytest.fixture
def core_om(hub, reports_alias):
    for student, (first, last) in zip(students(hub, 32), PAIRS * 8, strict=True):
        add_episode(hub, student, hub.counselling, dt.date(2025, 3, 1), dt.date(2025, 6, 1),
                    attended=2, scores={"CORE-OM": [first, last]})  # fmt: skip


def _figure(report, label):
    table = next(t for t in report["tables"] if t["key"] == "measure-CORE-OM")
    return next(r for r in table["rows"] if r["label"] == label)["values"][0], table["note"]


def test_a_report_uses_the_services_index_and_names_it_with_its_inputs(hub, core_om):
    parameters = ReportParameters(START, END, (hub.counselling.pk,))
    shown, note = _figure(build_report(parameters, using="default", today=TODAY),
                          "Reliable improvement")  # fmt: skip
    assert shown == "—"
    assert "Not set for Counselling: until it is, reliable and clinically significant" in note

    Calibration.objects.create(service=hub.counselling, code="CORE-OM", first_score_sd=SD,
                               reliability=RELIABILITY, set_by=hub.service_manager)  # fmt: skip
    report = build_report(parameters, using="default", today=TODAY)
    shown, note = _figure(report, "Reliable improvement")
    assert shown == "50% of 30"
    assert _figure(
        report,
        "Clinically significant change (as reliable recovery, of those clinical at first)",
    )[0] == ("25% of 30")
    assert "Counselling: 6.1 points (SD 7, reliability 0.9)." in note
    assert "Not set" not in note


def test_a_service_manager_sets_the_values_and_it_is_audited(client, hub):
    client.force_login(hub.service_manager)
    page = client.get(URL)
    assert page.status_code == 200
    form = page.context["form"]
    assert form["service"].value() == hub.wellbeing.pk  # the one service they manage
    assert "the CORE-OM from 0 to 40; the WEMWBS from 14 to 70; the SWEMWBS from 7 to 35" in (
        form.fields["first_score_sd"].help_text
    )
    data = {"service": hub.wellbeing.pk, "code": "CORE-OM", "first_score_sd": "7",
            "reliability": "0.9"}  # fmt: skip
    response = client.post(URL, data)
    assert response.status_code == 302
    held = Calibration.objects.get(service=hub.wellbeing, code="CORE-OM")
    assert (held.first_score_sd, held.reliability) == (7.0, 0.9)
    assert held.reliable_change_index == pytest.approx(RCI)
    client.post(URL, data | {"reliability": "0.94"})
    entry = AuditEvent.objects.filter(action="evaluation.calibration.set").latest("pk")
    assert entry.reason == (
        "CORE-OM for Wellbeing: SD 7, reliability 0.94 (was SD 7, reliability 0.9)"
    )
    # 1.96 × 7 × √(2 × 0.06) = 4.75
    assert '<td class="nhsuk-table__cell nhsuk-table__cell--numeric">4.8</td>' in (
        client.get(URL).content.decode()
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("first_score_sd", "0", "above 0 and at most 20, half the CORE-OM"),
        ("first_score_sd", "20.5", "above 0 and at most 20, half the CORE-OM"),
        ("reliability", "1", "above 0 and below 1"),
        ("reliability", "0", "above 0 and below 1"),
        ("reliability", "high", "Give the reliability as a number, such as 0.94."),
        ("first_score_sd", "", "Give the standard deviation as a number, such as 7.5."),
        ("code", "PHQ-9", "Select a valid choice"),
    ],
)
def test_bad_values_are_refused_in_words_and_nothing_is_saved(client, hub, field, value, message):
    client.force_login(hub.service_manager)
    data = {"service": hub.wellbeing.pk, "code": "CORE-OM", "first_score_sd": "7",
            "reliability": "0.9"} | {field: value}  # fmt: skip
    response = client.post(URL, data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert f'value="{value}"' in response.content.decode() or field == "code"
    assert not Calibration.objects.exists()


def test_only_a_manager_of_the_service_may_set_it(client, hub):
    client.force_login(hub.service_manager)
    data = {"code": "CORE-OM", "first_score_sd": "7", "reliability": "0.9"}
    # Counselling is of the manager's organisation but not theirs; Talking Therapies neither.
    for service in (hub.counselling, hub.talking):
        assert client.post(URL, data | {"service": service.pk}).status_code == 400
    for who in (hub.practitioner, hub.researcher):
        client.force_login(who)
        assert client.get(URL).status_code == 403
    assert not Calibration.objects.exists()
