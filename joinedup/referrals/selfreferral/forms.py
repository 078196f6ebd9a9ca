"""Forms of self-referral: the shape of what a person or triage types, nothing more."""

from django import forms
from django.utils.translation import gettext_lazy as _

from joinedup.people.forms import DateOfBirthField
from joinedup.people.models import Organisation
from joinedup.referrals.models import Referral
from joinedup.referrals.selfreferral import rules
from joinedup.referrals.selfreferral.services import NO_CONTACT, PendingDetails

REASON_HELP = _(
    "In your own words: what is happening, and what you would like help with. Say as much or as "
    "little as you like."
)


class _ContactMixin:
    def clean(self):
        data = super().clean()
        if rules.contact_missing(data.get("email") or "", data.get("phone") or ""):
            self.add_error("email", NO_CONTACT)
        return data


class StudentSelfReferralForm(_ContactMixin, forms.Form):
    """A signed-in student's self-referral: their contact details as their record has them."""

    email = forms.EmailField(label=_("Email address"), required=False)
    phone = forms.CharField(label=_("Phone number"), max_length=30, required=False)
    reason = forms.CharField(label=_("What would you like help with?"), help_text=REASON_HELP,
                             widget=forms.Textarea(attrs={"rows": 6}))  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].widget.attrs["autocomplete"] = "email"
        self.fields["phone"].widget.attrs.update(autocomplete="tel", type="tel")


class UnregisteredSelfReferralForm(_ContactMixin, forms.Form):
    """Someone not signed in: who they are, how to reach them, and what they want help with."""

    legal_given_name = forms.CharField(label=_("First name"), max_length=100)
    legal_family_name = forms.CharField(label=_("Last name"), max_length=100)
    date_of_birth = DateOfBirthField(
        label=_("Date of birth"), help_text=_("For example, 14/03/2004")
    )
    university = forms.ModelChoiceField(
        label=_("Your university"), queryset=Organisation.objects.none(), empty_label=None
    )
    student_number = forms.CharField(
        label=_("Student number (if you know it)"), max_length=20, required=False
    )
    email = forms.EmailField(label=_("Email address"), required=False)
    phone = forms.CharField(label=_("Phone number"), max_length=30, required=False)
    gp_practice = forms.ModelChoiceField(
        label=_("Your GP practice (if you know it)"),
        queryset=Organisation.objects.filter(kind=Organisation.Kind.GP_PRACTICE),
        required=False, empty_label=_("Not known"),
        help_text=_("Some services, such as NHS Talking Therapies, are for people registered "
                    "with a GP."),
    )  # fmt: skip
    is_not_gp_registered = forms.BooleanField(
        label=_("I am not registered with a GP"), required=False
    )
    reason = forms.CharField(label=_("What would you like help with?"), help_text=REASON_HELP,
                             widget=forms.Textarea(attrs={"rows": 6}))  # fmt: skip

    def __init__(self, *args, universities, **kwargs):
        super().__init__(*args, **kwargs)
        ids = [u.pk for u in universities]
        self.fields["university"].queryset = Organisation.objects.filter(pk__in=ids)
        # A university's own service: its students need not say where they study.
        self.only_university = universities[0] if len(ids) == 1 else None
        if self.only_university is not None:
            del self.fields["university"]
        for name, hint in [("legal_given_name", "given-name"), ("legal_family_name",
                           "family-name"), ("email", "email"), ("phone", "tel")]:  # fmt: skip
            self.fields[name].widget.attrs["autocomplete"] = hint
        self.fields["phone"].widget.attrs["type"] = "tel"
        self.fields["date_of_birth"].widget.attrs["autocomplete"] = "bday"

    def chosen_university(self) -> Organisation:
        return self.only_university or self.cleaned_data["university"]

    def details(self) -> PendingDetails:
        data = self.cleaned_data
        return PendingDetails(
            legal_given_name=data["legal_given_name"],
            legal_family_name=data["legal_family_name"],
            date_of_birth=data["date_of_birth"],
            student_number=data["student_number"],
            email=data["email"],
            phone=data["phone"],
            gp_practice=data["gp_practice"],
            is_not_gp_registered=data["is_not_gp_registered"],
        )


class ConfirmForm(forms.Form):
    """Confirm as a new student (with their number), or as one of the likely duplicates."""

    as_student = forms.TypedChoiceField(
        label=_("Who is this?"), coerce=int, required=False, widget=forms.RadioSelect,
        empty_value=None,
    )  # fmt: skip
    student_number = forms.CharField(label=_("Student number"), max_length=20, required=False)
    confirmed_different = forms.BooleanField(
        label=_("This is a different person from every record listed"), required=False
    )

    def __init__(self, *args, duplicates, **kwargs):
        super().__init__(*args, auto_id="id_confirm_%s", **kwargs)
        new = [("", _("A new student: confirm this record"))]
        self.fields["as_student"].choices = new + [
            (str(f.duplicate.key), _("Record %(n)d listed above") % {"n": n})
            for n, f in enumerate(duplicates, 1)
        ]
        self.fields["as_student"].initial = ""
        if not duplicates:
            del self.fields["confirmed_different"]
            self.fields["as_student"].widget = forms.HiddenInput()


class RejectForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Why"),
        choices=[
            (v, label)
            for v, label in Referral.DeclineReason.choices
            if v in rules.REJECTION_REASONS
        ],
        widget=forms.RadioSelect,
    )
    signposted_to = forms.CharField(
        label=_("Where you suggest they go instead (optional)"), max_length=200, required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, auto_id="id_reject_%s", **kwargs)
