from django import forms
from django.core.exceptions import ValidationError
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext_lazy as _

from joinedup.people.models import Organisation
from joinedup.referrals.directory import rules
from joinedup.referrals.directory.selectors import DirectoryFilters
from joinedup.referrals.directory.validators import validate_phone
from joinedup.referrals.models import DirectoryEntry
from joinedup.referrals.models.directory import IN_WELSH

DAYS = range(7)


class _TagsField(forms.Field):
    """A repeated query parameter (?topic=a&topic=b) read as a set of normalised tags."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        return frozenset(filter(None, map(rules.normalise_topic, value or [])))


class HelpNowForm(forms.Form):
    """Whose university's contacts the help page shows, for someone not signed in."""

    university = forms.ModelChoiceField(
        label=_("Your university"),
        queryset=Organisation.objects.filter(kind=Organisation.Kind.UNIVERSITY).order_by("name"),
        to_field_name="uuid",
        required=False,
        empty_label=_("Choose your university"),
    )


class DirectorySearchForm(forms.Form):
    """The directory's GET form. Values it cannot read are ignored rather than refused."""

    q = forms.CharField(required=False, max_length=200)
    open_now = forms.BooleanField(required=False)
    self_referral = forms.BooleanField(required=False)
    topic = _TagsField(required=False)
    kind = forms.MultipleChoiceField(required=False, choices=Organisation.Kind.choices)

    def search(self) -> tuple[str, DirectoryFilters]:
        self.is_valid()
        data = self.cleaned_data
        return data.get("q", "").strip(), DirectoryFilters(
            is_open_now=data.get("open_now", False),
            accepts_self_referral=data.get("self_referral", False),
            topics=data.get("topic", frozenset()),
            organisation_kinds=frozenset(data.get("kind", ())),
        )


class _DayHoursField(forms.CharField):
    """One weekday's opening hours as written ("09:00–17:00, 18:00–20:00"), read as spans."""

    def clean(self, value):
        try:
            return rules.parse_day_hours(super().clean(value))
        except rules.HoursError as error:
            raise ValidationError(str(error), code="hours") from error


def _text(label, *, required=False, help_text="", rows=3, required_message=""):
    return forms.CharField(
        label=label,
        required=required,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": rows}),
        error_messages={"required": required_message} if required_message else None,
    )


class DirectoryEntryForm(forms.Form):
    """A service's directory entry as its organisation's admin writes it.

    Opening hours are one text field per weekday ("09:00–17:00, 18:00–20:00"); `values()`
    turns the cleaned form into the keyword arguments of `update_directory_entry`.
    """

    purpose = _text(
        _("What the service is for"),
        required=True,
        required_message=_("Say what the service is for."),
    )
    who_for = _text(
        _("Who it is for"),
        required=True,
        required_message=_("Say who the service is for."),
    )
    eligibility = _text(
        _("Eligibility and thresholds"),
        help_text=_("In plain words: who the service can and cannot help, and when."),
    )
    how_to_refer = _text(_("How to refer"))
    information_needed = _text(
        _("What a referral needs"),
        help_text=_("The information the service asks for, so nobody has to be asked twice."),
    )
    accepts_referrals_from = forms.MultipleChoiceField(
        label=_("Who can refer"),
        choices=DirectoryEntry.Source.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    phone = forms.CharField(
        label=_("Phone"), required=False, max_length=30, validators=[validate_phone],
        widget=forms.TextInput(attrs={"type": "tel"}),
    )  # fmt: skip
    email = forms.EmailField(
        label=_("Email"),
        required=False,
        error_messages={"invalid": _("Enter an email address like wellbeing@example.ac.uk.")},
    )
    address = _text(_("Address"))
    out_of_hours = _text(
        _("Out of hours or in a crisis"),
        help_text=_("What to do when the service is closed, or if someone is in crisis."),
    )
    self_help = _text(
        _("Self-help while waiting"),
        help_text=_(
            "What students on the waiting list can do meanwhile: one suggestion on each line, "
            "with a web address where there is one. Students waiting for the service see it."
        ),
    )
    topics = forms.CharField(
        label=_("Topics"),
        required=False,
        max_length=500,
        help_text=_(
            "Separate topics with commas, for example: anxiety, eating difficulties, "
            "international students."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for day in DAYS:
            self.fields[f"hours_{day}"] = _DayHoursField(
                label=WEEKDAYS[day],
                required=False,
                max_length=100,
                widget=forms.TextInput(attrs={"class": "nhsuk-input nhsuk-input--width-20"}),
            )
        self.fields["phone"].widget.attrs.update(
            {"class": "nhsuk-input nhsuk-input--width-20", "type": "tel", "autocomplete": "off"}
        )
        self.fields["email"].widget.attrs["spellcheck"] = "false"
        for name in IN_WELSH:
            self.fields[f"welsh_{name}"] = _text(
                _("%(field)s, in Welsh") % {"field": self.fields[name].label}
            )
            self.fields[f"welsh_{name}"].widget.attrs["lang"] = "cy"

    def welsh_fields(self):
        return [self[f"welsh_{name}"] for name in IN_WELSH]

    def hours_fields(self):
        return [self[f"hours_{day}"] for day in DAYS]

    def values(self) -> dict:
        data = self.cleaned_data
        values = {
            name: data[name] for name in self.fields if not name.startswith(("hours_", "welsh_"))
        }
        values["welsh"] = {
            name: words for name in IN_WELSH if (words := data[f"welsh_{name}"].strip())
        }
        values["topics"] = data["topics"].split(",")
        values["opening_hours"] = {
            str(day): data[f"hours_{day}"] for day in DAYS if data[f"hours_{day}"]
        }
        return values


def initial_for(entry: DirectoryEntry | None) -> dict:
    """The edit form's starting values: the entry as it is, hours written as in the form."""
    if entry is None:
        return {}
    initial = {name: getattr(entry, name) for name in DirectoryEntryForm.base_fields}
    initial["topics"] = ", ".join(entry.topics)
    initial.update({f"welsh_{name}": words for name, words in entry.welsh.items()})
    for day in DAYS:
        spans = rules.spans_of(entry.opening_hours, day)
        initial[f"hours_{day}"] = rules.format_day_hours(spans) if spans else ""
    return initial
