from django import forms
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from joinedup.consent.models import Category, DataSharingAgreement, Purpose
from joinedup.governance import rules
from joinedup.governance.models import OverrideReview, RightsRequest
from joinedup.governance.staff import Place
from joinedup.lib.forms import DAY, day_field
from joinedup.people.models import Organisation, Role, User


class ReviewForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Was the emergency access appropriate?"),
        choices=OverrideReview.Outcome.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Say whether the emergency access was appropriate.")},
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Needed when it was not appropriate: why, and what happens next."),
    )


class AuditSearchForm(forms.Form):
    student = forms.CharField(
        label=_("Student number or NHS number"), required=False, max_length=20,
        help_text=_("Leave empty to see entries about every student."),
    )  # fmt: skip
    staff = forms.CharField(
        label=_("Member of staff"), required=False, max_length=254,
        help_text=_("Their name or email address, or part of it."),
    )  # fmt: skip
    place = forms.ChoiceField(label=_("Service or department"), required=False)
    override = forms.UUIDField(
        label=_("Emergency override reference"), required=False,
        help_text=_("From an override's review. Finds what was done under it, whatever the "
                    "period below."),
        error_messages={"invalid": _("Enter the reference as the override's review shows it, "
                                     "like 1b4e28ba-2fa1-11d2-883f-0016d3cca427.")},
    )  # fmt: skip
    reads_only = forms.BooleanField(
        label=_("Only reads of records, allowed or refused"), required=False,
        help_text=_("Leaves out changes, and this log's own searches."),
    )  # fmt: skip
    start = day_field(_("From"), required=_("Enter the first day of the period."))
    end = day_field(_("To"), required=_("Enter the last day of the period."))

    def __init__(self, data, *, places: list[str]):
        super().__init__(data)
        self.fields["place"].choices = [("", _("Any")), *((p, p) for p in places)]  # type: ignore[attr-defined]

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if cleaned.get("override"):
            return cleaned  # the period is the override's own
        if start and end and (problem := rules.period_problem(start, end)):
            self.add_error("end", problem)
        return cleaned


class AgreementForm(forms.Form):
    organisation = forms.ModelChoiceField(
        label=_("Your organisation"), queryset=Organisation.objects.none(), empty_label=None
    )
    partner = forms.ModelChoiceField(
        label=_("The other organisation"), queryset=Organisation.objects.none(),
        empty_label=_("Choose the organisation"),
        error_messages={
            "required": _("Choose the organisation the agreement is with."),
            "invalid_choice": _("An agreement is between two organisations: choose the "
                                "other organisation from the list."),
        },
    )  # fmt: skip
    title = forms.CharField(
        label=_("Title"), max_length=200,
        error_messages={"required": _("Give the agreement a title both sides will know it by.")},
    )  # fmt: skip
    lawful_basis = forms.ChoiceField(
        label=_("Lawful basis of the sharing (UK GDPR Article 6)"), widget=forms.RadioSelect,
        choices=DataSharingAgreement.LawfulBasis.choices,
        help_text=_("An NHS body or a university sharing for care usually relies on a public "
                    "task. Consent is rarely right where there is a power imbalance."),
        error_messages={"required": _("Choose the lawful basis of the sharing (UK GDPR "
                                      "Article 6).")},
    )  # fmt: skip
    condition = forms.ChoiceField(
        label=_("Condition for sharing health data (UK GDPR Article 9)"),
        widget=forms.RadioSelect, choices=DataSharingAgreement.Condition.choices,
        error_messages={"required": _("Choose the condition for sharing health data (UK GDPR "
                                      "Article 9).")},
    )  # fmt: skip
    categories = forms.MultipleChoiceField(
        label=_("Kinds of record it covers"), widget=forms.CheckboxSelectMultiple,
        # Case notes never leave the service that wrote them, whatever is agreed.
        choices=[(c.value, c.label) for c in Category if c != Category.NOTES],
        error_messages={"required": _("Choose the kinds of record the agreement covers.")},
    )  # fmt: skip
    purposes = forms.MultipleChoiceField(
        label=_("What they may be used for"), widget=forms.CheckboxSelectMultiple,
        choices=Purpose.choices,
        error_messages={"required": _("Choose what the records may be used for.")},
    )  # fmt: skip
    starts_on = day_field(_("Starts on"), required=_("Enter the day the agreement starts."))
    ends_on = day_field(
        _("Ends on"), help_text=_("Leave empty if it runs until either side ends it.")
    )
    review_on = day_field(_("Review by"), help_text=_("You will be reminded 30 days before."))
    follow_up_hours = forms.IntegerField(
        label=_("Follow-up time (hours)"), initial=72,
        help_text=_("After an NHS crisis contact or discharge, the university follows up "
                    "within this many hours."),
        error_messages={"required": _("Give the follow-up time in hours."),
                        "invalid": _("Give the follow-up time in whole hours, such as 72.")},
    )  # fmt: skip

    def __init__(self, data, *, own: list[int], agreement: DataSharingAgreement | None = None):
        """A new agreement between one of `own` and another; or new terms for `agreement`
        (its organisations stay)."""
        initial = None
        if agreement is not None:
            initial = {name: getattr(agreement, name) for name in rules.AGREEMENT_TERMS}
        super().__init__(data, initial=initial)
        self.agreement = agreement
        if agreement is not None:
            del self.fields["organisation"], self.fields["partner"]
        else:
            self.fields["organisation"].queryset = Organisation.objects.filter(pk__in=own)  # type: ignore[attr-defined]
            self.fields["partner"].queryset = Organisation.objects.exclude(pk__in=own)  # type: ignore[attr-defined]

    def clean(self):
        """Every problem at once: the fields', then the agreement's rule over those given."""
        cleaned = super().clean()
        if self.agreement is not None:
            own, partner = (side.organisation_id for side in self.agreement.sides.all())
        else:
            chosen = cleaned.get("organisation"), cleaned.get("partner")
            own, partner = (org.pk if org else None for org in chosen)
        problems = rules.agreement_problems(
            own=own or 0, partner=partner,
            categories=cleaned.get("categories") or [], purposes=cleaned.get("purposes") or [],
            starts_on=cleaned.get("starts_on"), ends_on=cleaned.get("ends_on"),
            review_on=cleaned.get("review_on"),
            follow_up_hours=cleaned.get("follow_up_hours") or 0,
            lawful_basis=cleaned.get("lawful_basis") or "",
            condition=cleaned.get("condition") or "",
        )  # fmt: skip
        for field, problem in problems.items():
            if field not in self.errors:
                self.add_error(field, problem)
        return cleaned


class ActivateForm(forms.Form):
    signatory = forms.CharField(
        label=_("Signed for your organisation by"), max_length=200,
        help_text=_("The name and role of who signed it, such as your Caldicott Guardian or "
                    "Senior Information Risk Owner. The other side reads this."),
        error_messages={"required": _("Give the name and role of who signed the agreement for "
                                      "your organisation.")},
    )  # fmt: skip


class AgreementReviewForm(forms.Form):
    next_review_on = day_field(
        _("Next review by"), required=_("Enter the date of the next review.")
    )
    note = forms.CharField(
        label=_("What the review found"), required=False, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("The other organisation's admins read this in the history."),
    )  # fmt: skip


class WithdrawForm(forms.Form):
    note = forms.CharField(
        label=_("Why are you withdrawing it?"), max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The other organisation's admins read this. To change its terms, use "
                    "“Change its terms” instead."),
        error_messages={"required": _("Say why you are withdrawing the draft.")},
    )  # fmt: skip


class SuspendForm(forms.Form):
    note = forms.CharField(
        label=_("Why are you suspending it?"), max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The other organisation's admins read this."),
        error_messages={"required": _("Say why you are suspending the agreement.")},
    )  # fmt: skip


def place_choices(organisations) -> list[tuple[str, str]]:
    """Every place a role can be held in these organisations: the organisation itself, each
    of its services and each of its departments."""
    choices = [("", _("Choose where"))]
    for org in organisations:
        choices.append((f"organisation:{org.pk}", _("%(org)s (the whole organisation)")
                        % {"org": org.name}))  # fmt: skip
        choices += [(f"service:{s.pk}", _("%(service)s (service)") % {"service": s.name})
                    for s in org.services.all()]  # fmt: skip
        choices += [(f"department:{d.pk}", _("%(dept)s (department)") % {"dept": d.name})
                    for d in org.departments.all()]  # fmt: skip
    return choices


class RoleForm(forms.Form):
    role = forms.ChoiceField(
        label=_("Role"), choices=[("", _("Choose a role")), *Role.choices],
        error_messages={"required": _("Choose the role.")},
    )  # fmt: skip
    place = forms.ChoiceField(
        label=_("Where"), error_messages={"required": _("Choose where the role is held.")},
        help_text=_("Practitioners, triage, liaison and service managers work in a service; "
                    "academics in a department; admins and researchers in the organisation."),
    )  # fmt: skip

    def __init__(self, data=None, *, organisations, **kwargs):
        super().__init__(data, **kwargs)
        self.organisations = list(organisations.prefetch_related("services", "departments"))
        self.fields["place"].choices = place_choices(self.organisations)  # type: ignore[attr-defined]

    def chosen_place(self) -> Place:
        kind, pk = self.cleaned_data["place"].split(":")
        for org in self.organisations:
            if kind == "organisation" and org.pk == int(pk):
                return Place(org)
            for service in org.services.all():
                if kind == "service" and service.pk == int(pk):
                    return Place(org, service=service)
            for department in org.departments.all():
                if kind == "department" and department.pk == int(pk):
                    return Place(org, department=department)
        raise ValueError(pk)  # a choice the field accepted is one of these


class InviteForm(RoleForm):
    email = forms.EmailField(
        label=_("Their work email address"), max_length=254,
        error_messages={"required": _("Enter the email address to send the invitation to."),
                        "invalid": _("Enter an email address like name@example.ac.uk.")},
    )  # fmt: skip
    field_order = ["email", "role", "place"]


class SuspendPersonForm(forms.Form):
    reason = forms.CharField(
        label=_("Why are you suspending them?"), max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Say why you are suspending them.")},
    )  # fmt: skip


class JoinForm(forms.Form):
    first_name = forms.CharField(
        label=_("First name"), max_length=150,
        error_messages={"required": _("Enter your first name.")},
    )  # fmt: skip
    last_name = forms.CharField(
        label=_("Last name"), max_length=150,
        error_messages={"required": _("Enter your last name.")},
    )  # fmt: skip
    password = forms.CharField(
        label=_("Choose a password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 8 characters, not a common one, and not one you use anywhere else."),
        error_messages={"required": _("Choose a password.")},
    )  # fmt: skip
    password_again = forms.CharField(
        label=_("Type the password again"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": _("Type the password again.")},
    )  # fmt: skip

    def __init__(self, data=None, *, email: str):
        super().__init__(data)
        self.email = email

    def clean(self):
        cleaned = super().clean()
        password, again = cleaned.get("password"), cleaned.get("password_again")
        if password and again and password != again:
            self.add_error("password_again", _("The two passwords are not the same."))
        elif password:
            try:
                validate_password(password, User(email=self.email, first_name=cleaned.get(
                    "first_name", ""), last_name=cleaned.get("last_name", "")))  # fmt: skip
            except ValidationError as error:
                self.add_error("password", error)
        return cleaned


class RightsRequestForm(forms.ModelForm):
    organisation = forms.ModelChoiceField(
        label=_("Organisation asked"), queryset=Organisation.objects.none(), empty_label=None
    )

    class Meta:
        model = RightsRequest
        fields = ["organisation", "kind", "received_on", "received_by", "requester",
                  "student_number", "details"]  # fmt: skip
        labels = {
            "kind": _("What they ask for"), "received_on": _("Received on"),
            "received_by": _("How it came"), "requester": _("Who asks"),
            "student_number": _("Their student number, if they are a student"),
            "details": _("What they asked, in their words"),
        }  # fmt: skip
        help_texts = {
            "received_on": _("The clock starts on this day."),
            "requester": _("Their name, and who they act for if not themselves."),
        }  # fmt: skip
        widgets = {"received_on": DAY, "kind": forms.RadioSelect,
                   "received_by": forms.RadioSelect,
                   "details": forms.Textarea(attrs={"rows": 3})}  # fmt: skip
        error_messages = {
            "kind": {"required": _("Choose what they ask for.")},
            "received_on": {"required": _("Enter the day the request came in."),
                            "invalid": _("Enter a real date, such as 1/12/2026.")},
            "received_by": {"required": _("Choose how the request came.")},
            "requester": {"required": _("Enter who made the request.")},
        }  # fmt: skip

    def __init__(self, data=None, *, own: list[int], instance=None):
        super().__init__(data, instance=instance)
        if instance is not None:  # a correction: the organisation asked stays as logged
            del self.fields["organisation"]
        else:
            self.fields["organisation"].queryset = Organisation.objects.filter(pk__in=own)  # type: ignore[attr-defined]
        # Radios start with none chosen, not a blank one ticked.
        self.fields["kind"].choices = RightsRequest.Kind.choices  # type: ignore[attr-defined]
        self.fields["received_by"].choices = RightsRequest.Received.choices  # type: ignore[attr-defined]

    def clean_received_on(self):
        day = self.cleaned_data["received_on"]
        if problem := rules.received_problem(day, timezone.localdate()):
            raise forms.ValidationError(problem)
        return day


class AnswerForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("How was it answered?"), choices=RightsRequest.Outcome.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Say how the request was answered.")},
    )  # fmt: skip
    responded_on = day_field(_("Answer sent on"), required=_("Enter the day the answer was sent."))
    response = forms.CharField(
        label=_("What was sent"), required=False, max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Needed when it was done in part or refused: the exemption or reason."),
    )  # fmt: skip


class ExtendForm(forms.Form):
    extension_reason = forms.CharField(
        label=_("Why more time is needed"), max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Tell the requester within the first month, with this reason."),
        error_messages={"required": _(
            "Say why: the request is complex, or one of several from the same person.")},
    )  # fmt: skip


class OptOutAnswerForm(forms.Form):
    file = forms.FileField(
        label=_("The file the service returned"), allow_empty_file=True,
        help_text=_("The .dat file from your MESH mailbox: NHS numbers, one per line."),
        error_messages={"required": _("Choose the file the service returned.")},
    )  # fmt: skip
    everyone_opted_out = forms.BooleanField(
        label=_("The service returned an empty file: everyone checked has opted out"),
        required=False,
    )

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("file")
        if upload is not None and upload.size == 0 and not cleaned.get("everyone_opted_out"):
            self.add_error("file", _(
                "The file is empty. If the service returned it empty, everyone checked has "
                "opted out: tick the box below and import it again."
            ))  # fmt: skip
        return cleaned


class RetentionForm(forms.Form):
    category = forms.ChoiceField(label=_("Kind of record"), choices=Category.choices)
    years = forms.IntegerField(
        label=_("Years kept after the last contact"),
        error_messages={"required": _("Give the period in years."),
                        "invalid": _("Give the period in whole years, such as 6.")},
    )  # fmt: skip
    why = forms.CharField(
        label=_("Why"), required=False, max_length=300,
        help_text=_("Needed for a period shorter than the default. It is kept in the audit "
                    "log."),
    )  # fmt: skip


class CorrectionForm(RightsRequestForm):
    """The details a request was logged with, put right, and why (a changed day received
    moves the statutory clock, so the log keeps the reason with the old and new day)."""

    why = forms.CharField(
        label=_("Why are you correcting it?"), max_length=300,
        help_text=_("For example: the letter was dated 28 November but reached us on 2 December."),
        error_messages={"required": _("Say why the details are being corrected.")},
    )  # fmt: skip

    def __init__(self, data=None, *, instance):
        super().__init__(data, own=[], instance=instance)
