"""Subject access: the student downloads everything held about them that they may see."""

import json

from django.urls import reverse

from joinedup.audit.models import AuditEvent
from joinedup.measures.tests.factories import record, start_episode
from joinedup.record.tests.factories import write_entry


def test_the_download_holds_the_record_without_what_was_withheld(hub, client):
    write_entry(hub.student, "assessment", hub.wellbeing, hub.practitioner, body="My story")
    write_entry(
        hub.student,
        "risk",
        hub.wellbeing,
        hub.practitioner,
        body="HELD BACK",
        withheld_reason="For safety.",
    )
    record(start_episode(hub), hub.practitioner)
    client.force_login(hub.student_user)
    response = client.get(reverse("portal:my-data"))
    assert response["Content-Disposition"] == 'attachment; filename="my-joinedup-record.json"'
    data = json.loads(response.content)
    assert [e["text"] for e in data["record"]] == ["My story"]
    assert data["questionnaires"][0]["measure"] == "PHQ-9"
    assert len(data["questionnaires"][0]["answers"]) == 9
    assert data["identity"]["student_number"] == "NB1000001"
    assert "HELD BACK" not in response.content.decode()
    assert AuditEvent.objects.filter(action="portal.data.downloaded").exists()


def test_only_students_download_their_own_data(hub, client):
    client.force_login(hub.practitioner)
    assert client.get(reverse("portal:my-data")).status_code == 403
