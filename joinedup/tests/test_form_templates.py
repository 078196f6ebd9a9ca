"""The NHS.UK form templates: each error beside its field, and all of them in the summary."""

from django import forms


class ExampleForm(forms.Form):
    reason = forms.CharField(label="Reason", help_text="Say why.")
    agree = forms.BooleanField(label="I agree")

    def clean(self):
        raise forms.ValidationError("Something is wrong with the whole form.")


def test_field_errors_show_beside_the_field_and_in_the_summary():
    html = str(ExampleForm(data={}))

    assert 'class="nhsuk-error-summary"' in html
    assert "Something is wrong with the whole form." in html
    assert '<a href="#id_reason">This field is required.</a>' in html
    assert '<a href="#id_agree">This field is required.</a>' in html
    assert html.count("nhsuk-form-group--error") == 2
    assert '<span class="nhsuk-error-message" id="id_reason_error">' in html
    assert '<span class="nhsuk-error-message" id="id_agree_error">' in html
    assert 'aria-describedby="id_reason_helptext id_reason_error"' in html


def test_a_form_without_errors_has_no_summary():
    html = str(ExampleForm())

    assert "nhsuk-error-summary" not in html
    assert "nhsuk-form-group--error" not in html
    assert "nhsuk-error-message" not in html
