"""A moment as a student reads it, in their language: "Monday 2 March at 10:00" (UK time)."""

from datetime import datetime

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _


def day_and_time(moment: datetime, *, short: bool = False) -> str:
    """Long ("Monday 2 March at 10:00") for messages; short ("Mon 2 Mar at 10:00") for texts."""
    local = timezone.localtime(moment)
    day = date_format(local, "D j M" if short else "l j F")
    return _("%(day)s at %(time)s") % {"day": day, "time": date_format(local, "H:i")}


def day(moment: datetime) -> str:
    """A date in words: "2 March 2026"."""
    return date_format(timezone.localtime(moment), "j F Y")
