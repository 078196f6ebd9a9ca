from django.core.management import call_command

from joinedup.feedback.models import Action, AdvisoryGroup, Feedback
from joinedup.feedback.selectors import open_invitations
from joinedup.people.models import Student


def test_the_demo_hub_has_feedback_actions_a_group_and_an_invitation(db):
    call_command("demo", verbosity=0)
    assert Feedback.objects.filter(anonymous=True, student__isnull=True).exists()
    assert Feedback.objects.filter(anonymous=False, student__isnull=False).exists()
    assert Feedback.objects.filter(themes__isnull=True).count() == 0
    assert {a.status for a in Action.objects.all()} == {"done", "in_progress"}
    student = Student.objects.get(user__email="student@demo.joinedup.example")
    assert AdvisoryGroup.objects.filter(members=student).exists()
    assert [e.service.name for e in open_invitations(student)] == [
        "Northbridge Counselling Service"
    ]
