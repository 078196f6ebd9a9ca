from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from joinedup.messaging import rules


class MessageForm(forms.Form):
    """A message to write. Its rules (not empty, not too long) live in `rules.problem_with`,
    so the form keeps what was typed and says what to change."""

    body = forms.CharField(
        label=_("Your message"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 5}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Worded per request, in the reader's language (a class attribute is worded once).
        self.fields["body"].help_text = gettext("Up to %(longest)s characters.") % {
            "longest": f"{rules.LONGEST:,}"
        }

    def clean_body(self) -> str:
        body: str = self.cleaned_data["body"]
        problem = rules.problem_with(body)
        if problem:
            raise forms.ValidationError(problem)
        return body
