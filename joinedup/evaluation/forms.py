"""Forms of the evaluation app: a report's period and parameters, research extracts, saving
a report, evaluation projects."""

from datetime import timedelta

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from joinedup.consent.models import DataSharingAgreement, agreement_in_force
from joinedup.evaluation import reports, research
from joinedup.evaluation.models import EvaluationProject, SavedReport
from joinedup.evaluation.services import DEFAULT_K
from joinedup.measures import instruments
from joinedup.referrals import forms as referrals_forms

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
_DATE_ERRORS = {"invalid": _("Enter a real date, like 2025-09-01.")}
# The longest period a report or benchmark may cover: longer ones take the reports database
# a long time and no question the sector asks needs them.
LONGEST_PERIOD = timedelta(days=366 * 10)


class PeriodForm(referrals_forms.PeriodForm):
    """A report's period (the pathway map's, start inclusive and end exclusive) of at most ten
    years. The report page, its downloads, saving a snapshot, benchmarking and the API all
    read their period through this form, so each refuses the same periods with the same
    message."""

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end - start > LONGEST_PERIOD and "end" not in self.errors:
            self.add_error("end", _("A report can cover at most ten years."))
        if start and start > timezone.localdate() and "start" not in self.errors:
            self.add_error(
                "start", _("This period has not begun: choose a start on or before today.")
            )
        return cleaned


def _services_field(not_listed: str) -> forms.ModelMultipleChoiceField:
    """Services chosen as checkboxes from those the user may use (the form sets the
    queryset); `not_listed` says why a service put in the address is refused."""
    return forms.ModelMultipleChoiceField(
        label=_("Services"),
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("Choose at least one service."),
            "invalid_choice": not_listed,
            "invalid_pk_value": _("Choose services from the list."),
        },
    )


class ReportForm(PeriodForm):
    """A report's parameters, named as the saved-report pages read them from the query: the
    period, the services `user` may report on, and an optional breakdown."""

    service = _services_field(
        _("You may report only on the services listed here: a service of another "
          "organisation, or one that does not exist, cannot be chosen.")
    )  # fmt: skip
    breakdown = forms.ChoiceField(
        label=_("Break every figure down by"),
        required=False,
        choices=[("", _("No breakdown: all students")), *reports.BREAKDOWNS.items()],
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["service"].queryset = reports.report_services_for(user)
        self.fields["service"].label_from_instance = lambda s: f"{s.name} ({s.organisation.name})"
        if not reports.manages_a_service(user):
            breakdown = self.fields["breakdown"]
            breakdown.choices = [c for c in breakdown.choices if c[0] != "practitioner"]

    def clean(self):
        cleaned = super().clean()
        services = cleaned.get("service")
        if (
            cleaned.get("breakdown") == "practitioner"
            and services
            and not reports.may_break_down_by_practitioner(self.user, services)
        ):
            self.add_error(
                "breakdown",
                _("Only a manager of each chosen service may break its figures down by "
                  "practitioner."),
            )  # fmt: skip
        return cleaned

    def parameters(self) -> reports.ReportParameters:
        data = self.cleaned_data
        return reports.ReportParameters(
            data["start"],
            data["end"],
            tuple(sorted(s.pk for s in data["service"])),
            data["breakdown"],
        )

    def problems(self) -> list[str]:
        """Every error in words, each with the label of its field, for pages that show the
        parameters' problems rather than the form itself."""
        return [
            f"{self.fields[name].label}: {message}" if name in self.fields else str(message)
            for name, messages in self.errors.items()
            for message in messages
        ]


class CalibrationForm(forms.Form):
    """What a measure with no published reliable change index is worked out from, for one
    of the services `user` manages (`reports.managed_services_for`)."""

    service = forms.ModelChoiceField(label=_("Service"), queryset=None)
    code = forms.ChoiceField(
        label=_("Measure"), choices=[(code, code) for code in reports.UNCALIBRATED]
    )
    first_score_sd = forms.FloatField(
        label=_("Standard deviation of first scores"),
        error_messages={
            "required": _("Give the standard deviation as a number, such as 7.5."),
            "invalid": _("Give the standard deviation as a number, such as 7.5."),
        },
    )
    reliability = forms.FloatField(
        label=_("Reliability"),
        error_messages={
            "required": _("Give the reliability as a number, such as 0.94."),
            "invalid": _("Give the reliability as a number, such as 0.94."),
        },
        help_text=_("Internal consistency (Cronbach's alpha) or test-retest, above 0 and below 1."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        services = reports.managed_services_for(user)
        self.fields["service"].queryset = services
        self.fields["service"].label_from_instance = lambda s: f"{s.name} ({s.organisation.name})"
        if len(services) == 1:
            self.fields["service"].initial = services[0].pk
        ranges = "; ".join(
            f"the {code} from {instruments.get(code).score_min:g} to "
            f"{instruments.get(code).score_max:g}"
            for code in reports.UNCALIBRATED
        )
        self.fields["first_score_sd"].help_text = _(
            "In points of the measure's main score (%(ranges)s), from a clinical sample such as "
            "your own service's first scores."
        ) % {"ranges": ranges}

    def clean(self):
        cleaned = super().clean()
        code, sd = cleaned.get("code"), cleaned.get("first_score_sd")
        if code and sd is not None:
            instrument = instruments.get(code)
            # No scores within a range spread more than half of it.
            widest = (instrument.score_max - instrument.score_min) / 2
            if not 0 < sd <= widest:
                self.add_error(
                    "first_score_sd",
                    _(
                        "Give a standard deviation above 0 and at most %(widest)g, half the "
                        "%(code)s's range."
                    )
                    % {"widest": widest, "code": code},
                )
        reliability = cleaned.get("reliability")
        if reliability is not None and not 0 < reliability < 1:
            self.add_error(
                "reliability", _("Give a reliability above 0 and below 1, such as 0.94.")
            )
        return cleaned


class ExtractForm(forms.Form):
    starts_on = forms.DateField(
        label=_("Episodes starting from"),
        widget=_DATE,
        error_messages={**_DATE_ERRORS, "required": _("Enter the first day of the period.")},
    )
    ends_on = forms.DateField(
        label=_("Up to (not including)"),
        widget=_DATE,
        error_messages={**_DATE_ERRORS, "required": _("Enter the day after the period ends.")},
    )
    services = _services_field(
        _("You may extract only from the services listed here: a service of another "
          "organisation, or one that does not exist, cannot be chosen.")
    )  # fmt: skip
    k = forms.IntegerField(
        label=_("Smallest group of students (k)"),
        help_text=_("Every combination of institution, age band, gender, ethnicity group, "
                    "disability, international status, service and referral month must "
                    "describe at least this many students. 5 unless your data sharing "
                    "agreement says otherwise."),
        initial=DEFAULT_K,
        min_value=2,
        max_value=50,
        error_messages={
            "min_value": _("k must be at least 2."),
            "max_value": _("k must be 50 or less."),
            "invalid": _("Enter k as a whole number."),
            "required": _("Enter k, the smallest group of students."),
        },
    )  # fmt: skip

    approved_under = forms.ModelChoiceField(
        label=_("If k is below the hub's minimum: the data sharing agreement that allows it"),
        queryset=DataSharingAgreement.objects.none(),
        required=False,
        empty_label=_("None"),
    )
    approval = forms.CharField(
        label=_("Who approved the smaller k, and where that is recorded"),
        required=False,
        max_length=300,
        help_text=_("For example: the Caldicott guardian, minutes of 3 March 2026."),
    )

    def __init__(self, *args, services, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["approved_under"].queryset = DataSharingAgreement.objects.filter(
            agreement_in_force(timezone.localdate())
        ).order_by("title")
        self.fields["services"].queryset = services
        for name, width in (("starts_on", 10), ("ends_on", 10), ("k", 2)):
            self.fields[name].widget.attrs["class"] = f"nhsuk-input nhsuk-input--width-{width}"
        self.fields["services"].label_from_instance = lambda s: f"{s.name} ({s.organisation.name})"

    def clean(self):
        cleaned = super().clean()
        starts_on, ends_on = cleaned.get("starts_on"), cleaned.get("ends_on")
        if starts_on and ends_on and starts_on >= ends_on:
            self.add_error("ends_on", _("The end of the period must be after its start."))
        k = cleaned.get("k")
        agreement, approval = cleaned.get("approved_under"), cleaned.get("approval", "")
        if k is not None and research.k_problem(
            k, settings.RESEARCH_MIN_K, agreement=agreement is not None, approval=approval
        ):
            # Said at each box still to fill in, so the researcher sees which is missing.
            minimum = settings.RESEARCH_MIN_K
            if agreement is None:
                self.add_error("approved_under", _(
                    "k below %(minimum)s needs the data sharing agreement that allows it: "
                    "choose it, or raise k to %(minimum)s."
                ) % {"minimum": minimum})  # fmt: skip
            if not approval.strip():
                self.add_error("approval", _(
                    "k below %(minimum)s needs who approved it and where that is recorded."
                ) % {"minimum": minimum})  # fmt: skip
        return cleaned


class SaveReportForm(forms.ModelForm):
    class Meta:
        model = SavedReport
        fields = ["title"]
        labels = {"title": _("Name this snapshot")}
        error_messages = {"title": {"required": _("Give the snapshot a name.")}}


class _ProjectForm(forms.ModelForm):
    """Each stage is its own form, so a project can be planned now and reported later."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if field.required:
                label = str(field.label or name).lower()
                field.error_messages["required"] = _("Enter %(what)s.") % {"what": label}


class PlanForm(_ProjectForm):
    class Meta:
        model = EvaluationProject
        fields = [
            "title", "question", "design", "involved", "student_involvement", "starts_on",
            "ends_on",
        ]  # fmt: skip
        widgets = {
            "question": forms.Textarea(attrs={"rows": 3}),
            "involved": forms.Textarea(attrs={"rows": 3}),
            "student_involvement": forms.Textarea(attrs={"rows": 3}),
            "starts_on": _DATE,
            "ends_on": _DATE,
        }
        error_messages = {
            "starts_on": _DATE_ERRORS,
            "ends_on": _DATE_ERRORS,
        }

    def clean(self):
        cleaned = super().clean()
        starts_on, ends_on = cleaned.get("starts_on"), cleaned.get("ends_on")
        if starts_on and ends_on and starts_on > ends_on:
            self.add_error("ends_on", _("The end of the timescale must not be before its start."))
        return cleaned


class ConductForm(_ProjectForm):
    class Meta:
        model = EvaluationProject
        fields = ["data_used", "saved_reports"]
        widgets = {
            "data_used": forms.Textarea(attrs={"rows": 4}),
            "saved_reports": forms.CheckboxSelectMultiple,
        }
        help_texts = {
            "data_used": _("Routine outcome measures, feedback, interviews, a research extract…"),
        }

    def __init__(self, *args, saved_reports, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["saved_reports"].queryset = saved_reports


class FindingsForm(_ProjectForm):
    """The report stage of a project: what it found."""

    class Meta:
        model = EvaluationProject
        fields = ["findings", "what_works", "what_could_improve", "recommendations"]
        widgets = {name: forms.Textarea(attrs={"rows": 4}) for name in fields}


class ShareForm(_ProjectForm):
    class Meta:
        model = EvaluationProject
        fields = ["shared_with", "shared_on"]
        widgets = {"shared_with": forms.Textarea(attrs={"rows": 3}), "shared_on": _DATE}
        help_texts = {
            "shared_with": _("For example the student advisory group, the partnership board, "
                             "a sector conference."),
        }  # fmt: skip
        error_messages = {"shared_on": _DATE_ERRORS}


STAGE_FORMS = {"plan": PlanForm, "conduct": ConductForm, "report": FindingsForm, "share": ShareForm}
