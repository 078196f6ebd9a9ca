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


class EveryWidget(forms.Form):
    name = forms.CharField()
    note = forms.CharField(widget=forms.Textarea)
    kind = forms.ChoiceField(choices=[("a", "A"), ("b", "B")])
    when = forms.ChoiceField(choices=[("a", "A"), ("b", "B")], widget=forms.RadioSelect)
    which = forms.MultipleChoiceField(
        choices=[("a", "A"), ("b", "B")], widget=forms.CheckboxSelectMultiple
    )
    agree = forms.BooleanField()
    short = forms.CharField(
        widget=forms.TextInput(attrs={"class": "nhsuk-input nhsuk-input--width-4"})
    )


def test_every_widget_is_drawn_with_its_nhsuk_class_unless_it_names_its_own():
    html = str(EveryWidget())
    for field, css in [
        ("name", "nhsuk-input"), ("note", "nhsuk-textarea"), ("kind", "nhsuk-select"),
        ("when_0", "nhsuk-radios__input"), ("when_1", "nhsuk-radios__input"),
        ("which_0", "nhsuk-checkboxes__input"), ("agree", "nhsuk-checkboxes__input"),
        ("short", "nhsuk-input nhsuk-input--width-4"),
    ]:  # fmt: skip
        tag = next(t for t in html.split("<") if f'id="id_{field}"' in t)
        assert f'class="{css}"' in tag, (field, tag)
