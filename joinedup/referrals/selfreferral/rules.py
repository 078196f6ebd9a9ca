"""Self-referral: who may refer themselves to a service, what they are told about the wait,
and what a service's triage may do with a self-referral from someone not yet registered.

Pure functions over plain values; the services and views call them.
"""

from enum import StrEnum

# A self-referral is decided like any referral, once its record is confirmed: only one still
# waiting for that decision may be confirmed or rejected.
AWAITING_DECISION = "sent"
# What a rejection may give as its reason: those a person can be told in plain words without
# any clinical detail (`services.REJECTION_WORDS`).
REJECTION_REASONS = ("not_eligible", "out_of_area", "no_contact", "duplicate", "student")


class Refusal(StrEnum):
    """Why the self-referral form does not take a referral from this person."""

    NOT_TAKEN = "not_taken"  # the service's directory entry does not accept self-referral
    STAFF = "staff"  # a member of staff refers a student from the student's record
    ALREADY_OPEN = "already_open"  # the student already has a referral open with the service


def refusal(*, accepts_self: bool, is_staff: bool, has_open_referral: bool) -> Refusal | None:
    """Why this person may not refer themselves to the service now, or None."""
    if not accepts_self:
        return Refusal.NOT_TAKEN
    if is_staff:
        return Refusal.STAFF
    if has_open_referral:
        return Refusal.ALREADY_OPEN
    return None


def contact_missing(email: str, phone: str) -> bool:
    """Whether the person left the service no way to reach them (an email or a phone)."""
    return not (email.strip() or phone.strip())


def student_number(text: str) -> str:
    """A student number as stored: no spaces, capitals (as registration stores it)."""
    return "".join(text.split()).upper()


def number_on_confirm(current: str, given: str) -> str:
    """The student number a confirmed record keeps: the one triage gives, else the one the
    person typed; empty when neither is known (a confirmed record needs one)."""
    return student_number(given) or student_number(current)


def wait_to_tell(standard_days: int | None, typical_days: int | None) -> int | None:
    """The wait in days to tell someone who has just referred themselves: the typical wait
    now (what recent referrals actually waited) when known, else the service's standard,
    else None (the page says the service will be in touch, without a figure)."""
    if typical_days is not None:
        return typical_days
    return standard_days


def may_triage(state: str, is_pending: bool) -> bool:
    """Whether a self-referral's record may be confirmed or the self-referral rejected: a
    pending record's referral still waiting for a decision."""
    return is_pending and state == AWAITING_DECISION


def may_reject_for(reason: str) -> bool:
    """Whether `reason` may be given to a person whose self-referral is rejected."""
    return reason in REJECTION_REASONS
