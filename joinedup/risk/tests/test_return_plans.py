"""Return to study after a crisis: agreed between services, both views kept on a
disagreement, adjustments alone reach the department with consent, the student's view."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from joinedup.consent.policy import decide
from joinedup.consent.tests.factories import give_consent
from joinedup.risk.models import ReturnToStudyPlan
from joinedup.risk.services import save_return_plan


def agree(hub, **changes):
    values = {
        "actor": hub.practitioner,
        "student": hub.student,
        "nhs_service": hub.crisis,
        "university_service": hub.wellbeing,
        "support_agreed": "Weekly wellbeing check-ins.",
        "who_does_what": "Crisis Team: follow-up call. Wellbeing: weekly sessions.",
        "adjustments": "Extension of two weeks on the history essay.",
        "review_on": timezone.localdate() + dt.timedelta(days=14),
        "fit_to_study": "agreed",
        "nhs_view": "",
        "university_view": "",
    } | changes
    return save_return_plan(**values)


def test_a_disagreement_keeps_both_views(hub):
    with pytest.raises(ValidationError) as refused:
        agree(hub, fit_to_study="disagreed", nhs_view="Not yet: too soon after admission.")
    assert refused.value.message_dict == {
        "university_view": ["When the services disagree, record both views."]
    }
    plan = agree(
        hub,
        fit_to_study="disagreed",
        nhs_view="Not yet.",
        university_view="Yes, with a reduced timetable.",
    )
    assert (plan.nhs_view, plan.university_view) == ("Not yet.", "Yes, with a reduced timetable.")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"nhs_service": "wellbeing"}, "nhs_service"),
        ({"support_agreed": " "}, "support_agreed"),
        ({"review_on": dt.date(2020, 1, 1)}, "review_on"),
        ({"fit_to_study": ""}, "fit_to_study"),
    ],
)
def test_a_bad_plan_says_why_and_saves_nothing(hub, changes, field):
    if changes.get("nhs_service") == "wellbeing":
        changes["nhs_service"] = hub.wellbeing
    with pytest.raises(ValidationError) as refused:
        agree(hub, **changes)
    assert field in refused.value.message_dict
    assert not ReturnToStudyPlan.objects.exists()


def test_only_the_adjustments_reach_the_department_and_only_with_consent(hub, client):
    agree(hub)
    client.force_login(hub.academic)
    record_url = reverse("record:student-detail", args=[hub.student.uuid])
    assert "Extension of two weeks" not in client.get(record_url).content.decode()
    give_consent(hub, "adjustments", hub.history, purpose="academic_support")
    give_consent(hub, "adjustments", hub.history)
    html = client.get(record_url).content.decode()
    assert "Extension of two weeks" in html
    assert "Weekly wellbeing check-ins" not in html
    assert not decide(hub.academic, hub.student, "risk").allowed


def test_the_student_reads_the_plan_and_writes_their_view(hub, client):
    plan = agree(hub)
    client.force_login(hub.student_user)
    url = reverse("portal:return-plans")
    assert "Weekly wellbeing check-ins." in client.get(url).content.decode()
    client.post(url, {"plan": plan.uuid, "student_view": "Ready, if I can start part-time."})
    plan.refresh_from_db()
    assert plan.student_view == "Ready, if I can start part-time."


def test_the_staff_page_records_a_plan(hub, client):
    client.force_login(hub.practitioner)
    url = reverse("risk:return-plans", args=[hub.student.uuid])
    response = client.post(
        url,
        {
            "nhs_service": hub.crisis.pk,
            "university_service": hub.wellbeing.pk,
            "support_agreed": "Check-ins.",
            "who_does_what": "Wellbeing calls weekly.",
            "review_on": (timezone.localdate() + dt.timedelta(days=7)).isoformat(),
            "fit_to_study": "disagreed",
            "nhs_view": "Not yet.",
        },
    )
    assert response.status_code == 200
    assert "When the services disagree, record both views." in response.content.decode()
    assert not ReturnToStudyPlan.objects.exists()
