"""A demo emergency override for the university's admin to review: a counsellor opened one
student's record this morning, when the student rang off in distress, read it, and the
override has since ended."""

from django.utils import timezone

from joinedup.consent.policy import decide_many
from joinedup.consent.services import open_break_glass
from joinedup.people.models import Student, User

REASON = (
    "Risk to life: the student rang the counselling line in distress, said they had taken "
    "tablets and rang off. I need their address and safety plan to send help."
)


def add_demo_overrides(hub) -> None:
    counsellor = User.objects.get(email="counsellor@demo.joinedup.example")
    student = (
        Student.objects.filter(university=hub["north"])
        .exclude(care_relationships__service=hub["north_counselling"])
        .order_by("pk")
        .first()
    )
    access = open_break_glass(actor=counsellor, student=student, reason=REASON)
    decide_many(counsellor, student, ["identity", "risk"])  # what it read
    # Help reached the student; the override has ended, ready for its review.
    access.expires_at = timezone.now()
    access.save(update_fields=["expires_at"])
