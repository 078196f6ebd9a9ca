"""Demo self-referral: someone not yet registered asked the Northbridge Wellbeing Service for
help two days ago, and waits in its triage to be confirmed."""

import datetime as dt

from django.utils import timezone

from joinedup.referrals.models import Referral
from joinedup.referrals.selfreferral.services import PendingDetails, self_refer_unregistered


def add_demo_self_referrals(hub: dict) -> Referral:
    referral = self_refer_unregistered(
        service=hub["north_wellbeing"],
        university=hub["north"],
        details=PendingDetails(
            legal_given_name="Jordan",
            legal_family_name="Okafor",
            date_of_birth=dt.date(2005, 9, 3),
            email="jordan.okafor@example.net",
            phone="07700 900318",
        ),
        reason=(
            "Since moving into halls I have felt low and on edge most days. I am not sleeping "
            "and I have stopped going to lectures. I would like to talk to someone."
        ),
    )
    received = timezone.now() - dt.timedelta(days=2, hours=3)
    Referral.objects.filter(pk=referral.pk).update(
        created_at=received, sent_at=received, last_changed_at=received
    )
    return referral
