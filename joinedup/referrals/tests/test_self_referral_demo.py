"""The demo hub has a self-referral waiting in the university wellbeing service's triage."""

from joinedup.record.demo import build_demo_hub
from joinedup.referrals.models import Referral


def test_a_pending_self_referral_waits_in_the_university_wellbeing_triage(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    build_demo_hub(students_per_university=3)
    referral = Referral.objects.get(student__is_pending=True)
    assert (referral.source, referral.state) == ("self", "sent")
    assert referral.to_service.name == "Northbridge Wellbeing Service"
    assert referral.student.university.name == "University of Northbridge"
