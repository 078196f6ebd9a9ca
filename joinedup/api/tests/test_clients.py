"""Registering a partner system as a client: one system user, one membership, a secret."""

import base64
import io

import pytest
from django.core.management import CommandError, call_command

from joinedup.api.tests.conftest import Api
from joinedup.audit.models import AuditEvent
from joinedup.people.models import User


def test_the_command_registers_a_client_that_can_get_a_token_and_read(hub, client):
    out = io.StringIO()
    call_command(
        "create_client",
        service=str(hub.wellbeing.uuid),
        name="Northbridge EPR",
        scopes="api.read",
        stdout=out,
    )
    lines = dict(line.split(":", 1) for line in out.getvalue().splitlines() if ":" in line)
    client_id, secret = lines["client_id"].strip(), lines["client_secret"].strip()
    system_user = User.objects.get(first_name="Northbridge EPR")
    assert not system_user.has_usable_password()
    membership = system_user.memberships.get()
    assert (membership.service, membership.role) == (hub.wellbeing, "practitioner")
    assert AuditEvent.objects.filter(action="oauth.client.created").exists()
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    token = client.post(
        "/o/token/",
        {"grant_type": "client_credentials", "scope": "api.read"},
        headers={"Authorization": f"Basic {basic}"},
    ).json()["access_token"]
    assert Api(client, token).get("/students").json()["count"] == 1


def test_the_command_refuses_an_unknown_service_or_a_blank_name(hub):
    with pytest.raises(CommandError, match="No service"):
        call_command(
            "create_client",
            service="00000000-0000-0000-0000-000000000000",
            name="X",
            scopes="api.read",
        )
    with pytest.raises(CommandError, match="Give the client a name"):
        call_command("create_client", service=str(hub.wellbeing.uuid), name="  ", scopes="api.read")
    with pytest.raises(CommandError, match="Unknown scope"):
        call_command("create_client", service=str(hub.wellbeing.uuid), name="X", scopes="all")
    assert not User.objects.filter(email__endswith="@clients.joinedup.invalid").exists()
