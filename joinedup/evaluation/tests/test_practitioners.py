"""A service's manager breaks its report down by practitioner: each episode under the
practitioner it was allocated to, a referral under its episode's; nobody else may."""

import datetime as dt

import pytest
from django.urls import reverse

from joinedup.evaluation.reports import NOT_ALLOCATED, ReportParameters, build_report
from joinedup.evaluation.tests.test_report import (
    END,
    START,
    TODAY,
    add_episode,
    add_referral,
    figure,
    students,
)

URL = reverse("evaluation:report")


@pytest.fixture
def allocated(hub, reports_alias):
    """Priya's 10 episodes all paired and recovered, Colin's 8 with one score each, and 9
    allocated to nobody."""
    for n, (who, count, scores) in enumerate(
        [(hub.practitioner, 10, [18, 6]), (hub.counsellor, 8, [20]), (None, 9, [15, 12])]
    ):
        for student in students(hub, count, start=100 * n):
            referral = add_referral(hub, student, hub.wellbeing, dt.date(2025, 3, 1), first=7)
            episode = add_episode(hub, student, hub.wellbeing, dt.date(2025, 3, 8),
                                  dt.date(2025, 6, 1), scores={"PHQ-9": scores})  # fmt: skip
            episode.practitioner = who
            episode.save()
            referral.episode = episode
            referral.save()


def test_each_practitioners_episodes_and_referrals_are_their_own_column(hub, allocated):
    report = build_report(
        ReportParameters(START, END, (hub.wellbeing.pk,), "practitioner"),
        using="default",
        today=TODAY,
    )
    assert report["groups"] == ["All students", "Colin", "Priya", NOT_ALLOCATED]
    paired = "With paired first and last scores"
    assert figure(report, "measure-PHQ-9", paired, "Priya") == "10"
    assert figure(report, "measure-PHQ-9", paired, "Colin") == "0"
    assert figure(report, "measure-PHQ-9", paired, NOT_ALLOCATED) == "10"  # 9, rounded
    assert figure(report, "activity", "Referrals", "Colin") == "10"  # 8, rounded
    assert figure(report, "activity", "Referrals", "All students") == "25"  # 27


def _ask(client, user, *services):
    client.force_login(user)
    query = {"start": "2025-01-01", "end": "2026-01-01", "breakdown": "practitioner"}
    return client.get(URL, query | {"service": [s.pk for s in services]})


def test_only_a_manager_of_each_chosen_service_sees_it_by_practitioner(client, hub, allocated):
    assert _ask(client, hub.service_manager, hub.wellbeing).status_code == 200
    # Counselling is of the manager's organisation, but they do not manage it.
    refused = _ask(client, hub.service_manager, hub.wellbeing, hub.counselling)
    assert refused.status_code == 400
    assert "Only a manager of each chosen service" in refused.content.decode()
    assert _ask(client, hub.researcher, hub.wellbeing).status_code == 400


def test_the_caveat_goes_wherever_the_breakdown_goes(client, hub, allocated):
    import csv
    import io

    from joinedup.evaluation.reports import PRACTITIONER_CAVEAT
    from joinedup.evaluation.tests.test_report_pdf import _text

    page = _ask(client, hub.service_manager, hub.wellbeing)
    assert PRACTITIONER_CAVEAT.replace("'", "&#x27;") in page.content.decode()
    query = {"start": "2025-01-01", "end": "2026-01-01", "breakdown": "practitioner",
             "service": [hub.wellbeing.pk]}  # fmt: skip
    downloaded = client.get(reverse("evaluation:report-csv"), query).content.decode("utf-8-sig")
    assert ["Read with care", PRACTITIONER_CAVEAT] in list(csv.reader(io.StringIO(downloaded)))
    pdf = _text(client.get(reverse("evaluation:report-pdf"), query).content)
    assert PRACTITIONER_CAVEAT in pdf
    by_gender = client.get(URL, query | {"breakdown": "gender"}).content.decode()
    assert "data-practitioner-caveat" not in by_gender


def test_the_choice_is_offered_only_to_someone_who_manages_a_service(client, hub):
    for user, offered in ((hub.service_manager, True), (hub.researcher, False)):
        client.force_login(user)
        choices = dict(client.get(URL).context["form"].fields["breakdown"].choices)
        assert ("practitioner" in choices) is offered


def test_a_referral_sent_on_is_the_referrers_and_one_received_is_its_episodes(hub, reports_alias):
    for student in students(hub, 8, start=500):
        referral = add_referral(hub, student, hub.counselling, dt.date(2025, 4, 1),
                                source="service", from_service=hub.wellbeing, first=3)  # fmt: skip
        episode = add_episode(hub, student, hub.counselling, dt.date(2025, 4, 4),
                              dt.date(2025, 6, 1))  # fmt: skip
        episode.practitioner = hub.counsellor
        episode.save()
        referral.episode = episode
        referral.created_by = hub.practitioner
        referral.save()

    wellbeing = build_report(ReportParameters(START, END, (hub.wellbeing.pk,), "practitioner"),
                             using="default", today=TODAY)  # fmt: skip
    assert wellbeing["groups"] == ["All students", "Priya", NOT_ALLOCATED]
    assert figure(wellbeing, "flows", "Wellbeing → Counselling", "Priya") == "10"
    counselling = build_report(
        ReportParameters(START, END, (hub.counselling.pk,), "practitioner"),
        using="default",
        today=TODAY,
    )
    assert figure(counselling, "activity", "Referrals", "Colin") == "10"
