from django.core.management.base import BaseCommand, CommandError

from joinedup.operations.recovery import ATTEMPTS, retry_failed_sends


class Command(BaseCommand):
    help = (
        "Queue again the emails and text messages that failed because their server could "
        "not be reached, after a growing wait. Run every few minutes. Fails (so that the "
        "scheduler's run says so) while any message of the past day was given up on."
    )

    def handle(self, *args, **options):
        retried, given_up = retry_failed_sends()
        self.stdout.write(f"Queued {retried} failed message(s) again.")
        if given_up:
            raise CommandError(
                f"{given_up} message(s) of the past day could not be sent in {ATTEMPTS} "
                "attempts: check the mail server (EMAIL_HOST) and the worker's log."
            )
