"""The shape of a task as typed. Whom it may go to, and when it may be due, are decided in
`services` and `rules`, which say why in words."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from joinedup.people.models import CLINICAL_ROLES, Service, User

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def assign_choices(services: dict[int, str]) -> list[tuple[str, str]]:
    """Each of the author's services (anyone in it), then each clinician of them by name."""
    choices = [("", _("Choose…"))]
    found = Service.objects.filter(pk__in=services).order_by("name")
    choices += [(f"team:{s.uuid}", _("Anyone in %(service)s") % {"service": s.name}) for s in found]
    people = (
        User.objects.filter(
            memberships__service__in=found, memberships__role__in=CLINICAL_ROLES, is_active=True
        )
        .values_list("uuid", "first_name", "last_name", "email", "memberships__service__uuid",
                     "memberships__service__name")
        .order_by("first_name", "last_name", "memberships__service__name")
        .distinct()
    )  # fmt: skip
    choices += [
        (f"person:{uuid}:{service_uuid}", f"{f'{first} {last}'.strip() or email} ({service})")
        for uuid, first, last, email, service_uuid, service in people
    ]
    return choices


class TaskForm(forms.Form):
    title = forms.CharField(
        label=_("What needs doing"), max_length=200,
        error_messages={"required": _("Say what needs doing.")},
    )  # fmt: skip
    detail = forms.CharField(
        label=_("Detail (optional)"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )
    due_on = forms.DateField(
        label=_("Due by"), widget=DATE,
        error_messages={"required": _("Enter the date it is due by."),
                        "invalid": _("Enter a date, such as 14/03/2026.")},
    )  # fmt: skip
    # Parsed here and checked by the rule: a value naming someone outside the author's
    # services (a crafted request) gets the rule's words, not "select a valid choice".
    assign_to = forms.CharField(
        label=_("For"), widget=forms.Select(),
        error_messages={"required": _("Choose who the task is for.")},
    )  # fmt: skip

    def __init__(self, *args, services: dict[int, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assign_to"].widget.choices = assign_choices(services)

    def clean_assign_to(self) -> tuple[Service, User | None]:
        kind, _sep, rest = self.cleaned_data["assign_to"].partition(":")
        person_uuid, _sep, service_uuid = rest.rpartition(":")
        try:
            service = Service.objects.filter(uuid=service_uuid).first()
            person = User.objects.filter(uuid=person_uuid).first() if kind == "person" else None
        except ValidationError:  # not a uuid
            service = person = None
        if service is None or kind not in ("team", "person") or (kind == "person" and not person):
            raise ValidationError(_("Choose who the task is for."))
        return service, person


class DoneForm(forms.Form):
    outcome = forms.CharField(required=False)
