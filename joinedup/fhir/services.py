"""Changes the FHIR server makes itself, and registering the system clients of both the
FHIR server and the JSON API.

Writes of clinical data go through the other apps' services (`joinedup.fhir.importing`).
"""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import get_application_model

from joinedup.audit.services import Entry, append
from joinedup.fhir.models import ClientRegistration
from joinedup.fhir.smart import checked_jwks
from joinedup.people.models import CLINICAL_ROLES, Membership, Role, User

CLIENT_EMAIL_DOMAIN = "clients.joinedup.invalid"
# The seats a system may take: clinical ones, or the aggregate-only roles for reports.
CLIENT_ROLES = (*sorted(CLINICAL_ROLES), Role.SERVICE_MANAGER, Role.RESEARCHER)


def create_client(
    *,
    service,
    name: str,
    scopes: list[str],
    role: str = Role.PRACTITIONER,
    jwks: dict | None = None,
    actor=None,
) -> tuple[object, str]:
    """Register a system client acting for `service`: a system user with one membership
    there (the seat every read is decided for) and a confidential client-credentials
    application limited to `scopes`. Returns the application and its secret, which is
    stored hashed and cannot be shown again. A client registered with public keys (`jwks`,
    SMART Backend Services) authenticates with signed assertions only: its secret is ""."""
    known = settings.OAUTH2_PROVIDER["SCOPES"]
    unknown = [s for s in scopes if s not in known]
    if unknown or not scopes:
        raise ValidationError(
            f"Unknown scope {unknown[0]!r}." if unknown else "Give the client at least one scope."
        )
    if not name.strip():
        raise ValidationError("Give the client a name.")
    if role not in CLIENT_ROLES:
        raise ValidationError(f"Choose a role from: {', '.join(CLIENT_ROLES)}.")
    if jwks is not None:
        jwks = checked_jwks(jwks)
    application_model = get_application_model()
    secret = generate_client_secret()
    with transaction.atomic():
        user = User.objects.create_user(
            f"client-{uuid.uuid4().hex[:12]}@{CLIENT_EMAIL_DOMAIN}",
            password=None,
            first_name=name.strip()[:150],
        )
        Membership.objects.create(
            user=user, organisation=service.organisation, service=service, role=role
        )
        application = application_model.objects.create(
            name=name.strip(),
            user=user,
            client_type=application_model.CLIENT_CONFIDENTIAL,
            authorization_grant_type=application_model.GRANT_CLIENT_CREDENTIALS,
            client_secret=secret,
        )
        ClientRegistration.objects.create(
            client_id=application.client_id, scopes=" ".join(scopes), jwks=jwks
        )
        append(
            [
                Entry(
                    action="oauth.client.created",
                    actor=actor,
                    reason=f"{name}: {role} of {service} ({' '.join(scopes)})"
                    + (" with public keys" if jwks else ""),
                )
            ]
        )
    return application, "" if jwks else secret
