"""Safety plans: written with the student, their part theirs to edit, shared by consent."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from joinedup.consent.services import open_care_relationship
from joinedup.consent.tests.factories import give_consent
from joinedup.risk.models import SafetyPlan
from joinedup.risk.services import save_safety_plan


def write(hub, **values):
    return save_safety_plan(
        actor=hub.practitioner,
        student=hub.student,
        service=hub.wellbeing,
        **(
            {
                "warning_signs": "Not sleeping; avoiding friends.",
                "professional_contacts": "Priya, Wellbeing, 0113 496 0000",
            }
            | values
        ),
    )


def test_the_practitioner_writes_the_plan_and_the_student_edits_their_part(hub, client):
    plan = write(hub)
    assert "Samaritans: 116 123" in plan.crisis_numbers
    client.force_login(hub.student_user)
    url = reverse("portal:safety-plan")
    assert "Not sleeping; avoiding friends." in client.get(url).content.decode()
    client.post(
        url,
        {
            "plan": plan.uuid,
            "warning_signs": "Not sleeping.",
            "things_that_help": "Music; a walk by the river.",
        },
    )
    plan.refresh_from_db()
    assert (plan.warning_signs, plan.things_that_help) == (
        "Not sleeping.",
        "Music; a walk by the river.",
    )
    assert plan.professional_contacts == "Priya, Wellbeing, 0113 496 0000"


def test_each_number_in_the_plan_is_one_the_student_can_tap(hub, client):
    write(hub, people_and_places="My sister Sam, 07700 900123\nThe library, quiet floor")
    client.force_login(hub.student_user)
    html = client.get(reverse("portal:safety-plan")).content.decode()
    for number in ("tel:07700900123", "tel:01134960000", "tel:999", "tel:111", "tel:116123"):
        assert f'href="{number}"' in html
    assert "07700 900123</a><br>The library, quiet floor" in html


def test_the_student_cannot_change_the_professional_part(hub):
    plan = write(hub)
    with pytest.raises(ValidationError, match="You cannot change: professional_contacts"):
        save_safety_plan(
            actor=hub.student_user,
            student=hub.student,
            service=hub.wellbeing,
            professional_contacts="Someone else",
        )
    assert SafetyPlan.objects.get(pk=plan.pk).professional_contacts.startswith("Priya")


def test_an_empty_plan_is_refused(hub):
    with pytest.raises(ValidationError, match="Write at least one part"):
        save_safety_plan(
            actor=hub.practitioner, student=hub.student, service=hub.wellbeing, warning_signs=" "
        )
    assert not SafetyPlan.objects.exists()


def test_another_service_sees_the_plan_only_with_consent(hub, client):
    write(hub)
    open_care_relationship(student=hub.student, service=hub.crisis, reason="referral")
    client.force_login(hub.crisis_practitioner)
    url = reverse("risk:safety-plan", args=[hub.student.uuid])
    assert "Not sleeping; avoiding friends." not in client.get(url).content.decode()
    give_consent(hub, "risk", hub.crisis)
    assert "Not sleeping; avoiding friends." in client.get(url).content.decode()


def test_the_staff_page_saves_the_plan(hub, client):
    client.force_login(hub.practitioner)
    url = reverse("risk:safety-plan", args=[hub.student.uuid])
    response = client.post(url, {"warning_signs": "Low mood.", "crisis_numbers": "999"})
    assert response.status_code == 302
    assert SafetyPlan.objects.get().warning_signs == "Low mood."


def test_outsiders_cannot_open_the_plan(hub, client):
    write(hub)
    client.force_login(hub.outsider)
    assert client.get(reverse("risk:safety-plan", args=[hub.student.uuid])).status_code == 404
