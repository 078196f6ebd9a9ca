from django.core.management.base import BaseCommand

from joinedup.operations.recovery import recover_abandoned


class Command(BaseCommand):
    help = (
        "Fail the tasks (and the bulk exports and research extracts they were making) left "
        "running by a worker that stopped without finishing them. Run every few minutes."
    )

    def handle(self, *args, **options):
        self.stdout.write(f"Failed {recover_abandoned()} task(s) left by a stopped worker.")
