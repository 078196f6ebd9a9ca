"""The shapes of what is written to the record: notes, addenda, letters and documents.
What may be written, and by whom, is decided in `services` and `rules`."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from joinedup.consent.models import Category
from joinedup.lib.forms import moment_field
from joinedup.record.models import ContactKind
from joinedup.record.selectors import DOCUMENT_CATEGORIES


class NoteForm(forms.Form):
    contact_kind = forms.ChoiceField(
        label=_("Kind of contact"), choices=[("", _("Choose…")), *ContactKind.choices],
        error_messages={"required": _("Choose the kind of contact.")},
    )  # fmt: skip
    contact_at = moment_field(
        _("When the contact took place"), required=_("Enter when the contact took place.")
    )
    body = forms.CharField(
        label=_("Note"), widget=forms.Textarea(attrs={"rows": 12}), strip=False,
        required=False,  # an empty note is refused by the rule, in its words
    )  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound and "contact_at" not in self.initial:
            self.initial["contact_at"] = timezone.localtime().replace(second=0, microsecond=0)


class AddendumForm(forms.Form):
    body = forms.CharField(
        label=_("Addendum"), widget=forms.Textarea(attrs={"rows": 5}), strip=False,
        required=False,
        help_text=_("What it corrects or adds. The note itself stays as it was signed."),
    )  # fmt: skip


class LetterForm(forms.Form):
    template = forms.ModelChoiceField(
        label=_("Letter"), queryset=None, to_field_name="uuid", empty_label=_("Choose…"),
        error_messages={"required": _("Choose a letter."),
                        "invalid_choice": _("Choose one of your service's letters.")},
    )  # fmt: skip
    recipient = forms.CharField(
        label=_("To"), widget=forms.Textarea(attrs={"rows": 4}), max_length=500,
        help_text=_("Name and address, one line each."),
        error_messages={"required": _("Say who the letter is to, with their address.")},
    )  # fmt: skip
    message = forms.CharField(
        label=_("Your message"), widget=forms.Textarea(attrs={"rows": 6}), required=False,
        max_length=5000, help_text=_("Merged where the letter says {{ message }}."),
    )  # fmt: skip

    def __init__(self, *args, templates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = templates
        self.fields["template"].label_from_instance = lambda template: template.name


class DocumentForm(forms.Form):
    file = forms.FileField(
        label=_("File"), help_text=_("A PDF or an image (PNG, JPEG, GIF, WebP, TIFF, HEIC)."),
        error_messages={"required": _("Choose a file to upload."),
                        "empty": _("The file is empty."),
                        "invalid": _("Choose a file to upload.")},
    )  # fmt: skip
    title = forms.CharField(
        label=_("What it is"), max_length=200,
        error_messages={"required": _("Say what the document is.")},
    )  # fmt: skip
    category = forms.ChoiceField(
        label=_("File it under"),
        choices=[(c, Category(c).label) for c in DOCUMENT_CATEGORIES],
        help_text=_("Who may read it follows the category: notes never leave your service."),
    )  # fmt: skip
    is_private = forms.BooleanField(label=_("Private to my service"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The browser's own file input: NHS.UK's styles for text inputs do not fit it.
        self.fields["file"].widget.attrs = {"accept": "application/pdf,image/*"}
