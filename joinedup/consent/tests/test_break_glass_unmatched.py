"""Emergency access cannot be used to find out who studies where: details that match no
student, and details that match one, get the same answer until the override opens."""

import re

import pytest
from django.urls import reverse

from joinedup.audit.models import AuditEvent
from joinedup.consent.models import BreakGlass

BREAK_GLASS = reverse("consent:break-glass-open")
REASON = "Risk to life: the student told the GP they have a plan and cannot be reached."


def _ask(client, hub, *, number="NB1000001", born="2004-05-17", reason=REASON):
    data = {
        "university": hub.university.pk,
        "student_number": number,
        "date_of_birth": born,
        "reason": reason,
    }
    response = client.post(BREAK_GLASS, data)
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", response.content.decode())
    # What the user typed is shown back to them; it is not the answer.
    return response.status_code, html.replace(number, "NUMBER").replace(born, "BORN")


def test_an_unknown_number_and_a_wrong_birth_date_get_the_same_answer_both_audited(hub, client):
    client.force_login(hub.crisis_practitioner)

    unknown = _ask(client, hub, number="NB0000000")
    wrong_birth_date = _ask(client, hub, born="2004-05-18")

    assert unknown == wrong_birth_date
    assert unknown[0] == 200
    assert "No student at that university matches those details." in unknown[1]
    assert not BreakGlass.objects.exists()
    attempts = AuditEvent.objects.filter(action="consent.break_glass.refused")
    assert [(a.actor, a.student, a.allowed) for a in attempts] == [
        (hub.crisis_practitioner, None, None)
    ] * 2


@pytest.mark.parametrize("reason", ["", "urgent urgent"])
def test_a_weak_reason_gets_the_same_answer_whether_or_not_the_details_match(hub, client, reason):
    client.force_login(hub.crisis_practitioner)

    matching = _ask(client, hub, reason=reason)
    unknown = _ask(client, hub, number="NB0000000", reason=reason)

    assert matching == unknown
    assert "No student at that university matches" not in matching[1]
    assert not BreakGlass.objects.exists()
    # Every refused attempt is audited, whatever was wrong with it.
    assert AuditEvent.objects.filter(action="consent.break_glass.refused").count() == 2
