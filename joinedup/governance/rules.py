"""Reviewing emergency overrides: when a review is overdue, and what a review must say."""

from datetime import datetime, timedelta

from django.utils.translation import gettext as _

# An override not reviewed within this long after it was opened is overdue.
REVIEW_WITHIN = timedelta(days=7)
APPROPRIATE, NOT_APPROPRIATE = "appropriate", "not_appropriate"
OUTCOMES = (APPROPRIATE, NOT_APPROPRIATE)


def is_overdue(opened_at: datetime, now: datetime, *, reviewed: bool) -> bool:
    return not reviewed and now - opened_at > REVIEW_WITHIN


def review_problem(outcome: str, note: str) -> dict[str, str]:
    """What is missing from a review, by field; empty when it can be recorded. A finding
    that an override was not appropriate must say why."""
    problems = {}
    if outcome not in OUTCOMES:
        problems["outcome"] = _("Say whether the emergency access was appropriate.")
    elif outcome == NOT_APPROPRIATE and not note.strip():
        problems["note"] = _("Say why it was not appropriate, and what happens next.")
    return problems
