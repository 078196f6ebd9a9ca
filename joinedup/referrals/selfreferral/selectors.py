"""Reads for self-referral: the service a form is for, the signed-in student's own record,
and a self-referral as its service's triage opens it (through the access policy)."""

from dataclasses import dataclass

from django.http import Http404, HttpRequest
from django.utils import timezone

from joinedup.consent.policy import decide, get_student_for_user
from joinedup.people.intake import Found
from joinedup.people.models import Organisation, Student
from joinedup.referrals.directory.selectors import Listing, get_listing, recent_waits_by_service
from joinedup.referrals.selectors import ReferralView, get_referral_for_user
from joinedup.referrals.selfreferral import rules, services


@dataclass(frozen=True)
class Offer:
    """A service that takes self-referrals, and the wait to tell someone referring."""

    listing: Listing
    wait_days: int | None

    @property
    def service(self):
        return self.listing.service


def get_offer(service_uuid) -> Offer:
    """The service, if its directory entry takes self-referrals; else Http404."""
    listing = get_listing(service_uuid, timezone.now(), waits_by_service=recent_waits_by_service)
    if listing.entry is None or not listing.entry.takes("self"):
        raise Http404("This service does not take self-referrals.")
    return Offer(
        listing,
        rules.wait_to_tell(listing.service.waiting_standard_days, listing.typical_wait_days),
    )


def own_record(user, *, request: HttpRequest | None = None) -> Student | None:
    """A signed-in student's own record, read through the policy (basis "self")."""
    student = getattr(user, "student_record", None) if user.is_authenticated else None
    if student is None or not decide(user, student, "identity", request=request).allowed:
        return None
    return student


def universities_for(offer: Offer) -> list[Organisation]:
    """Where the person may say they study: the service's own university, if it is one,
    else every university of the hub."""
    own = offer.service.organisation
    if own.kind == Organisation.Kind.UNIVERSITY:
        return [own]
    return list(Organisation.objects.filter(kind=Organisation.Kind.UNIVERSITY))


@dataclass
class Triage:
    """A self-referral with a pending record, as its service's triage sees it."""

    view: ReferralView
    duplicates: list[Found]

    @property
    def referral(self):
        return self.view.referral


def get_triage_for_user(user, referral_uuid, *, request: HttpRequest | None = None) -> Triage:
    """A pending record's self-referral waiting for a decision, for a clinician of the
    service it was sent to (the referral's own gate: `get_referral_for_user`); else 404."""
    view = get_referral_for_user(user, referral_uuid, request=request)
    referral = view.referral
    if not view.is_receiver or not rules.may_triage(referral.state, referral.student.is_pending):
        raise Http404("No such self-referral.")
    # Each likely duplicate named is read through the policy, as at registration.
    for found in (duplicates := services.likely_duplicates(user, referral.student)):
        if found.student is not None:
            get_student_for_user(user, found.student.uuid, request=request)
    return Triage(view, duplicates)
