from django.core.management.base import BaseCommand

from joinedup.governance.retention import list_due
from joinedup.people.models import Organisation


class Command(BaseCommand):
    help = (
        "List, for each organisation, the records past their retention period, for its "
        "admins to confirm their erasure (run daily). Nothing is erased here."
    )

    def handle(self, *args, **options):
        for organisation in Organisation.objects.order_by("name"):
            run = list_due(organisation)
            if run is not None:
                self.stdout.write(f"{organisation.name}: {run.count} records.")
        self.stdout.write(self.style.SUCCESS("Listed."))
