"""Forms for registering, finding and merging students: the shape of the input, and the
checks of each field, with a message beside the field at fault."""

import datetime as dt
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from joinedup.people.intake import Place, StudentDetails
from joinedup.people.models import Organisation, Service
from joinedup.people.rules import (
    MINIMUM_AGE,
    OLDEST_AGE,
    DateProblem,
    date_of_birth_problem,
    parse_date,
)
from joinedup.people.validators import normalise_nhs_number, validate_nhs_number, validate_uk_phone

DATE_OF_BIRTH_PROBLEMS = {
    DateProblem.NOT_A_DATE: _("Enter the date of birth as a real date, like 14/03/2004."),
    DateProblem.SHORT_YEAR: _("Enter the year of birth in full, like 14/03/2004."),
    DateProblem.IN_FUTURE: _("The date of birth cannot be in the future."),
    DateProblem.UNDER_MINIMUM_AGE: _(
        "This date of birth makes the student under %(age)d. JoinedUp is for students aged "
        "%(age)d and over: check the date."
    )
    % {"age": MINIMUM_AGE},
    DateProblem.TOO_OLD: _("This date of birth makes the student over %(age)d: check the year.")
    % {"age": OLDEST_AGE},
}


class DateOfBirthField(forms.Field):
    """A date of birth typed as people write it: 14/03/2004, 2004-03-14, 14 March 2004."""

    widget = forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"})

    def to_python(self, value: Any) -> dt.date | None:
        text = str(value or "").strip()
        if not text:
            return None
        parsed = parse_date(text)
        if isinstance(parsed, DateProblem):
            raise ValidationError(DATE_OF_BIRTH_PROBLEMS[parsed], code=parsed.value)
        problem = date_of_birth_problem(parsed, timezone.localdate())
        if problem is not None:
            raise ValidationError(DATE_OF_BIRTH_PROBLEMS[problem], code=problem.value)
        return parsed


def _widths(form: forms.Form, widths: dict[str, int]) -> None:
    """NHS.UK fixed-width inputs, sized to what each field holds."""
    for name, width in widths.items():
        widget = form.fields[name].widget
        widget.attrs["class"] = f"nhsuk-input nhsuk-input--width-{width}"


class RegisterStudentForm(forms.Form):
    place = forms.ChoiceField(
        label=_("Registering for"),
        help_text=_("Your service, and the student's university."),
        error_messages={"required": _("Choose your service and the student's university.")},
    )
    legal_given_name = forms.CharField(
        label=_("Legal first name"),
        max_length=100,
        error_messages={"required": _("Enter the student's legal first name.")},
    )
    legal_family_name = forms.CharField(
        label=_("Legal last name"),
        max_length=100,
        error_messages={"required": _("Enter the student's legal last name.")},
    )
    preferred_name = forms.CharField(
        label=_("Preferred name (optional)"),
        max_length=100,
        required=False,
        help_text=_("The name they want to be called: shown everywhere instead of the first."),
    )
    pronouns = forms.CharField(label=_("Pronouns (optional)"), max_length=40, required=False)
    date_of_birth = DateOfBirthField(
        label=_("Date of birth"),
        help_text=_("For example, 14/03/2004 or 14 March 2004."),
        error_messages={"required": _("Enter the student's date of birth.")},
    )
    student_number = forms.CharField(
        label=_("Student number"),
        max_length=20,
        error_messages={"required": _("Enter the student number from their university.")},
    )
    nhs_number = forms.CharField(
        label=_("NHS number (optional)"),
        max_length=20,
        required=False,
        help_text=_("10 digits, like 943 476 5919. Leave blank if the student does not know it."),
        validators=[validate_nhs_number],
    )
    email = forms.EmailField(
        label=_("Email (optional)"),
        required=False,
        error_messages={"invalid": _("Enter an email address like name@example.ac.uk.")},
    )
    phone = forms.CharField(
        label=_("Phone (optional)"),
        max_length=30,
        required=False,
        help_text=_("A UK number."),
        validators=[validate_uk_phone],
        widget=forms.TextInput(attrs={"type": "tel"}),
    )
    gp_practice = forms.ModelChoiceField(
        label=_("GP practice (optional)"),
        queryset=Organisation.objects.filter(kind=Organisation.Kind.GP_PRACTICE),
        required=False,
        empty_label=_("Not known"),
    )
    is_not_gp_registered = forms.BooleanField(
        label=_("The student is not registered with a GP"), required=False
    )
    reason = forms.CharField(
        label=_("Why the student came to you"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Recorded as their self-referral to your service, which lets your service read "
            "their record while it is open. Declining, withdrawing or discharging it ends that."
        ),
        error_messages={"required": _("Say why the student came to you.")},
    )

    def __init__(self, *args: Any, places: list[Place], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _widths(self, {"date_of_birth": 10, "student_number": 10, "nhs_number": 10,
                       "pronouns": 10, "phone": 20, "preferred_name": 20})  # fmt: skip
        self.places = {
            f"{p.service.pk}:{u.pk}": (p.service, u) for p in places for u in p.universities
        }
        field = cast(forms.ChoiceField, self.fields["place"])
        field.choices = [
            (key, f"{service.name} — {university.name}")
            for key, (service, university) in self.places.items()
        ]
        if len(self.places) == 1:
            field.initial = next(iter(self.places))

    def clean_place(self) -> tuple[Service, Organisation]:
        return self.places[self.cleaned_data["place"]]

    def clean_student_number(self) -> str:
        return "".join(self.cleaned_data["student_number"].split()).upper()

    def clean_nhs_number(self) -> str:
        return normalise_nhs_number(self.cleaned_data["nhs_number"])

    def clean(self) -> dict[str, Any]:
        data = cast(dict[str, Any], super().clean())
        if data.get("gp_practice") and data.get("is_not_gp_registered"):
            self.add_error(
                "is_not_gp_registered",
                _("Either choose their GP practice or say they are not registered, not both."),
            )
        return data

    def details(self) -> StudentDetails:
        data = self.cleaned_data
        return StudentDetails(
            student_number=data["student_number"],
            legal_given_name=data["legal_given_name"].strip(),
            legal_family_name=data["legal_family_name"].strip(),
            date_of_birth=data["date_of_birth"],
            nhs_number=data["nhs_number"],
            preferred_name=data["preferred_name"].strip(),
            pronouns=data["pronouns"].strip(),
            email=data["email"],
            phone=data["phone"].strip(),
            gp_practice=data["gp_practice"],
            is_not_gp_registered=data["is_not_gp_registered"],
        )


class FindStudentForm(forms.Form):
    q = forms.CharField(
        widget=forms.TextInput(attrs={"type": "search"}),
        label=_("Name, student number, NHS number or date of birth"),
        max_length=100,
        required=False,
        help_text=_(
            "Names in any order (Morgan Jo), part of a number (at least 4 digits), or a date "
            "of birth like 14/03/2004."
        ),
    )


class MergeForm(forms.Form):
    university = forms.ModelChoiceField(
        label=_("University"),
        queryset=Organisation.objects.none(),
        error_messages={"required": _("Choose the university.")},
    )
    kept = forms.CharField(
        label=_("Student number of the record to keep"),
        max_length=20,
        error_messages={"required": _("Enter the student number of the record to keep.")},
    )
    merged = forms.CharField(
        label=_("Student number of the record to merge into it"),
        max_length=20,
        help_text=_("This record's entries move to the one kept; it is then closed."),
        error_messages={"required": _("Enter the student number of the record to merge.")},
    )

    def __init__(self, *args: Any, universities: list[Organisation], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _widths(self, {"kept": 10, "merged": 10})
        field = cast(forms.ModelChoiceField, self.fields["university"])
        field.queryset = Organisation.objects.filter(pk__in=[u.pk for u in universities])
        if len(universities) == 1:
            field.initial = universities[0].pk
            field.widget = forms.HiddenInput()

    def clean_kept(self) -> str:
        return "".join(self.cleaned_data["kept"].split()).upper()

    def clean_merged(self) -> str:
        return "".join(self.cleaned_data["merged"].split()).upper()
