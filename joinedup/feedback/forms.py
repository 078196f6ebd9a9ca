from django import forms
from django.utils.translation import gettext_lazy as _

from joinedup.feedback.models import (
    COMMENT_MAX_LENGTH,
    Action,
    AdvisoryGroup,
    Agreement,
    Decision,
    Draft,
    Feedback,
    GroupAction,
    Meeting,
    Rating,
    Theme,
)

_DATE = forms.DateInput(attrs={"type": "date"})


def _rating_field(label, choices):
    return forms.TypedChoiceField(
        label=label,
        choices=[*choices, ("", _("Rather not say"))],
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
    )


class FeedbackForm(forms.Form):
    overall = _rating_field(Feedback._meta.get_field("overall").verbose_name, Rating.choices)
    listened_to = _rating_field(
        Feedback._meta.get_field("listened_to").verbose_name, Agreement.choices
    )
    help_in_time = _rating_field(
        Feedback._meta.get_field("help_in_time").verbose_name, Agreement.choices
    )
    knew_what_next = _rating_field(
        Feedback._meta.get_field("knew_what_next").verbose_name, Agreement.choices
    )
    comment = forms.CharField(
        label=Feedback._meta.get_field("comment").verbose_name,
        help_text=_("What helped, what did not, and what would you change? At most %(n)s "
                    "characters.") % {"n": f"{COMMENT_MAX_LENGTH:,}"},
        required=False,
        max_length=COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={
            "max_length": _("Your comment is %(show_value)s characters long; the most we "
                            "can take is %(limit_value)s.")
        },
    )  # fmt: skip
    anonymous = forms.TypedChoiceField(
        label=_("Put your name to it?"),
        help_text=_(
            "If you stay anonymous, nobody at the service can tell the feedback is yours, "
            "and we cannot tell you what changed because of it. Leave names out of your "
            "comment if you want it to stay anonymous."
        ),
        choices=[
            ("no", _("Yes: the service may know it is from me, and I will hear what they do")),
            ("yes", _("No: keep it anonymous")),
        ],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": _("Say whether to put your name to your feedback.")},
    )


class TagForm(forms.Form):
    themes = forms.ModelMultipleChoiceField(
        label=_("Themes"),
        queryset=Theme.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    new_themes = forms.CharField(
        label=_("New themes"),
        help_text=_("Separate themes with commas."),
        required=False,
        max_length=400,
    )

    def __init__(self, *args, feedback, **kwargs):
        super().__init__(*args, prefix=str(feedback.uuid), **kwargs)
        self.fields["themes"].queryset = feedback.service.feedback_themes.all()
        self.fields["themes"].initial = [t.pk for t in feedback.themes.all()]


class ActionForm(forms.ModelForm):
    scope = forms.ChoiceField(label=_("For"))

    class Meta:
        model = Action
        fields = ["title", "description", "themes"]
        widgets = {"themes": forms.CheckboxSelectMultiple}

    def __init__(self, *args, scopes, themes, **kwargs):
        """`scopes`: (value, label, organisation, service) for each place the manager may
        act; `themes`: the themes they may link."""
        super().__init__(*args, **kwargs)
        self.scopes = {
            value: (organisation, service) for value, _l, organisation, service in scopes
        }
        self.fields["scope"].choices = [(value, label) for value, label, *_rest in scopes]
        self.fields["themes"].queryset = themes
        self.fields["themes"].label_from_instance = lambda t: f"{t.name} ({t.service.name})"
        self.order_fields(["scope", "title", "description", "themes"])


class ActionStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("New status"), choices=Action.Status.choices)
    note = forms.CharField(
        label=_("What changed (published to students)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class GroupForm(forms.ModelForm):
    class Meta:
        model = AdvisoryGroup
        fields = ["name", "purpose"]
        widgets = {"purpose": forms.Textarea(attrs={"rows": 3})}


class MeetingForm(forms.ModelForm):
    class Meta:
        model = Meeting
        fields = ["held_on", "agenda", "minutes"]
        widgets = {"held_on": _DATE}


class GroupActionForm(forms.ModelForm):
    class Meta:
        model = GroupAction
        fields = ["description", "owner", "due_on"]
        widgets = {"due_on": _DATE}


class DecisionForm(forms.ModelForm):
    class Meta:
        model = Decision
        fields = ["text", "decided_on"]
        widgets = {"decided_on": _DATE, "text": forms.Textarea(attrs={"rows": 3})}


class DraftForm(forms.ModelForm):
    class Meta:
        model = Draft
        fields = ["title", "body", "comments_close_on"]
        widgets = {"comments_close_on": _DATE}


class MemberForm(forms.Form):
    student_number = forms.CharField(label=_("Student number"), max_length=20)


class CommentForm(forms.Form):
    text = forms.CharField(
        label=_("Your comment"),
        max_length=COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("Write a comment before sending it.")},
    )


# The parts of an advisory group a manager adds on the group's page, by URL name.
GROUP_PARTS = {
    "meeting": MeetingForm,
    "action": GroupActionForm,
    "decision": DecisionForm,
    "draft": DraftForm,
}
