"""The portal's own forms."""

from django import forms

from portal.models import AuditEvent


def error_words(form: forms.Form) -> str:
    """A bound form's refusals as one sentence (a message or a JSON error)."""
    return " ".join(message for errors in form.errors.values() for message in errors)


class AuditFilterForm(forms.Form):
    action = forms.CharField(required=False, max_length=64)
    outcome = forms.ChoiceField(
        required=False, choices=[("", "Any outcome"), *AuditEvent.Outcome.choices]
    )
    actor = forms.CharField(required=False, max_length=256, label="Who")
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
