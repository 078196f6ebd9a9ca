from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from joinedup.fhir.services import CLIENT_ROLES, create_client
from joinedup.people.models import Role, Service


class Command(BaseCommand):
    help = (
        "Register a system client (OAuth 2.0 client credentials) acting for one service, and "
        "print its client id and secret. The secret is stored hashed: note it now."
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

    def handle(self, *args, service, name, scopes, role, **options):
        service_obj = Service.objects.select_related("organisation").filter(uuid=service).first()
        if service_obj is None:
            raise CommandError(f"No service with uuid {service}.")
        try:
            application, secret = create_client(
                service=service_obj, name=name, scopes=scopes.split(), role=role
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        self.stdout.write(f"Client for {service_obj} ({service_obj.organisation}).")
        self.stdout.write(f"client_id: {application.client_id}")
        self.stdout.write(f"client_secret: {secret}")
        self.stdout.write("The secret is shown once; store it in the partner system now.")
