import json
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from joinedup.fhir.services import CLIENT_ROLES, create_client
from joinedup.people.models import Role, Service


class Command(BaseCommand):
    help = (
        "Register a system client (OAuth 2.0 client credentials) acting for one service, and "
        "print its client id and secret (stored hashed: note it now), or, with --jwks, register "
        "its public keys for SMART Backend Services (it signs its own assertions; no secret)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--service", required=True, help="The uuid of the service it acts for.")
        parser.add_argument("--name", required=True, help="The partner system's name.")
        parser.add_argument(
            "--scopes",
            required=True,
            help='Space-separated, e.g. "system/*.read api.read" (see OAUTH2_PROVIDER["SCOPES"]).',
        )
        parser.add_argument(
            "--role",
            default=Role.PRACTITIONER,
            choices=CLIENT_ROLES,
            help="The seat it takes in the service (default: practitioner).",
        )
        parser.add_argument(
            "--jwks",
            type=Path,
            help="A JSON file holding the client's public keys as a JWK Set (private_key_jwt).",
        )

    def handle(self, *args, service, name, scopes, role, jwks, **options):
        service_obj = Service.objects.select_related("organisation").filter(uuid=service).first()
        if service_obj is None:
            raise CommandError(f"No service with uuid {service}.")
        keys = _read_jwks(jwks) if jwks else None
        try:
            application, secret = create_client(
                service=service_obj, name=name, scopes=scopes.split(), role=role, jwks=keys
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        self.stdout.write(f"Client for {service_obj} ({service_obj.organisation}).")
        self.stdout.write(f"client_id: {application.client_id}")
        if keys:
            self.stdout.write(
                f"It authenticates with assertions signed by one of its {len(keys['keys'])} "
                "registered keys (private_key_jwt, RS384 or ES384); it has no secret."
            )
            return
        self.stdout.write(f"client_secret: {secret}")
        self.stdout.write("The secret is shown once; store it in the partner system now.")


def _read_jwks(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except OSError as error:
        raise CommandError(f"Cannot read {path}: {error.strerror}.") from None
    except ValueError:
        raise CommandError(f"{path} is not JSON; give the public keys as a JWK Set.") from None
