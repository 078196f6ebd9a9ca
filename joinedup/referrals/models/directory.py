"""The service directory: what each service is for, who it is for and how to reach it."""

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone, translation
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from joinedup.people.models import Service
from joinedup.referrals.directory import rules
from joinedup.referrals.directory.validators import (
    validate_opening_hours,
    validate_phone,
    validate_topics,
)

__all__ = ["DirectoryEntry", "Said"]

# The entry's own words a service may also write in Welsh, for students reading in Welsh.
IN_WELSH = (
    "purpose",
    "who_for",
    "eligibility",
    "how_to_refer",
    "information_needed",
    "out_of_hours",
    "self_help",
)


@dataclass(frozen=True)
class Said:
    """Some of an entry's words in the reader's language, or in English where the service
    wrote none in Welsh; `lang` is then "en-GB", for the element that shows them."""

    text: str
    lang: str = ""

    def __str__(self) -> str:
        return self.text


def validate_referral_sources(value) -> None:
    known = DirectoryEntry.Source.values
    if not isinstance(value, list) or not all(source in known for source in value):
        raise ValidationError(
            _("Referral sources must be among: %(sources)s.") % {"sources": ", ".join(known)},
            code="referral_sources",
        )


def validate_welsh(value) -> None:
    if not isinstance(value, dict) or not all(
        name in IN_WELSH and isinstance(words, str) for name, words in value.items()
    ):
        raise ValidationError(
            _("Welsh words may be given for: %(fields)s.") % {"fields": ", ".join(IN_WELSH)},
            code="welsh",
        )


class DirectoryEntry(models.Model):
    """One service's page in the hub's directory, written by its organisation's admins.

    `accepts_self_referral` repeats whether "self" is in `accepts_referrals_from`, kept in step
    on save, so code that only asks "can a student refer themselves?" reads one column.
    """

    class Source(models.TextChoices):
        SELF = "self", gettext_lazy("Students themselves (self-referral)")
        SERVICE = "service", gettext_lazy("Another service or professional")
        GP = "gp", gettext_lazy("A GP")
        ACADEMIC = "academic", gettext_lazy("Academic staff (personal tutors, course leads)")

    service = models.OneToOneField(Service, models.CASCADE, related_name="directory_entry")
    purpose = models.TextField(gettext_lazy("what the service is for"))
    who_for = models.TextField(gettext_lazy("who it is for"))
    eligibility = models.TextField(gettext_lazy("eligibility and thresholds"), blank=True)
    how_to_refer = models.TextField(gettext_lazy("how to refer"), blank=True)
    information_needed = models.TextField(gettext_lazy("information a referral needs"), blank=True)
    accepts_self_referral = models.BooleanField(
        gettext_lazy("accepts self-referral"), default=False
    )
    accepts_referrals_from = models.JSONField(
        gettext_lazy("accepts referrals from"),
        default=list,
        blank=True,
        validators=[validate_referral_sources],
    )
    phone = models.CharField(max_length=30, blank=True, validators=[validate_phone])
    email = models.EmailField(blank=True)
    address = models.TextField(blank=True)
    opening_hours = models.JSONField(
        gettext_lazy("opening hours"),
        default=dict,
        blank=True,
        validators=[validate_opening_hours],
        help_text=gettext_lazy(
            'Weekday "0" (Monday) to "6" (Sunday) → list of ["HH:MM", "HH:MM"] spans, UK time.'
        ),
    )
    out_of_hours = models.TextField(gettext_lazy("out of hours or in a crisis"), blank=True)
    # Shown to students on its waiting list: one suggestion per line, links as written.
    self_help = models.TextField(gettext_lazy("self-help while waiting"), blank=True)
    topics = models.JSONField(default=list, blank=True, validators=[validate_topics])
    # The words of IN_WELSH the service wrote in Welsh, by field name; blank where it did not.
    welsh = models.JSONField(
        gettext_lazy("in Welsh"), default=dict, blank=True, validators=[validate_welsh]
    )
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name_plural = gettext_lazy("directory entries")

    def __str__(self):
        return str(self.service)

    def save(self, *args, **kwargs):
        self.accepts_self_referral = self.takes(self.Source.SELF)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "accepts_referrals_from" in update_fields:
            kwargs["update_fields"] = {*update_fields, "accepts_self_referral"}
        super().save(*args, **kwargs)

    def takes(self, source: str) -> bool:
        """Whether the service accepts referrals of this kind ("self", "service", "gp", ...)."""
        return source in self.accepts_referrals_from

    @property
    def referral_source_labels(self) -> list[str]:
        return [
            label for value, label in self.Source.choices if value in self.accepts_referrals_from
        ]

    @property
    def said(self) -> dict[str, Said]:
        """The words of IN_WELSH as the reader of this page reads them."""
        if translation.get_language() != "cy":
            return {name: Said(getattr(self, name)) for name in IN_WELSH}
        return {
            name: Said(welsh) if (welsh := (self.welsh or {}).get(name, "").strip())
            else Said(getattr(self, name), "en-GB" if getattr(self, name) else "")
            for name in IN_WELSH
        }  # fmt: skip

    @property
    def self_help_lines(self) -> list[str]:
        return [line.strip() for line in self.said["self_help"].text.splitlines() if line.strip()]

    @property
    def weekly_hours(self) -> list[tuple[str, str]]:
        """(weekday name, hours in words) from Monday to Sunday."""
        return [
            (WEEKDAYS[day], rules.format_day_hours(rules.spans_of(self.opening_hours, day)))
            for day in range(7)
        ]
