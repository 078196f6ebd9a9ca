from django.core.management.base import BaseCommand

from joinedup.governance.services import escalate_overdue_reviews


class Command(BaseCommand):
    help = (
        "Email each organisation's data protection contact and admins about emergency "
        "accesses not reviewed within 7 days, once each (run daily)."
    )

    def handle(self, *args, **options):
        count = escalate_overdue_reviews()
        self.stdout.write(self.style.SUCCESS(f"Escalated {count} overdue override reviews."))
