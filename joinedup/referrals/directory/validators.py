"""Field validators of the service directory: phone numbers, opening hours and topics."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from joinedup.referrals.directory import rules

_PHONE = re.compile(r"\+?[0-9 ]+")


def validate_phone(value: str) -> None:
    """Digits and spaces, perhaps a leading +, with 3 to 15 digits.

    Three digits allow 999 and 111; six allow helplines such as Samaritans' 116 123.
    """
    digits = sum(c.isdigit() for c in value)
    if not _PHONE.fullmatch(value.strip()) or not 3 <= digits <= 15:
        raise ValidationError(
            _("Enter a phone number using only digits and spaces, like 0161 496 0000."),
            code="phone",
        )


def validate_opening_hours(value) -> None:
    """Opening hours as stored: weekday "0" (Monday) to "6" → a list of ["HH:MM", "HH:MM"]."""
    problem = rules.opening_hours_problem(value)
    if problem:
        raise ValidationError(problem, code="opening_hours")


def validate_topics(value) -> None:
    if not isinstance(value, list) or not all(
        isinstance(topic, str) and topic and topic == rules.normalise_topic(topic)
        for topic in value
    ):
        raise ValidationError(_("Topics must be a list of lower-case words."), code="topics")
