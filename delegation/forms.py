"""Forms of the dashboards: the organisation table's filters and a grant review."""

from __future__ import annotations

from django import forms

from delegation.models import GrantReview
from delegation.selectors.grants import RISKS, SORTS
from portal import allowed_actions

SORT_LABELS = {
    "newest": "Newest first",
    "oldest": "Oldest first",
    "delegator": "Delegator name",
    "delegate": "Delegate name",
    "department": "Department",
    "changed": "Last changed",
}


class DelegationFilterForm(forms.Form):
    person = forms.CharField(
        required=False, max_length=100, label="Person", help_text="Start of a name, UPN or mail"
    )
    department = forms.CharField(required=False, max_length=256, label="Department")  # delegator's
    action = forms.ChoiceField(
        required=False,
        label="Allowed action",
        choices=[("", "Any action")] + [(a.field, a.label) for a in allowed_actions.ACTIONS],
    )
    active = forms.ChoiceField(
        required=False,
        label="State",
        choices=[("", "Active or not"), ("yes", "Active"), ("no", "Inactive")],
    )
    sort = forms.ChoiceField(
        required=False, label="Sort by", choices=[(k, SORT_LABELS[k]) for k in SORTS]
    )
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def filters(self) -> dict:
        """The cleaned filters (empty ones dropped), for the selector and the export link."""
        self.is_valid()  # cleaned_data then holds the valid fields only; errors show on the form
        data = {k: v for k, v in getattr(self, "cleaned_data", {}).items() if k != "page" and v}
        data["person"] = " ".join(data.get("person", "").split())
        return {k: v for k, v in data.items() if v}


class ReviewForm(forms.Form):
    grant = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.ChoiceField(choices=[(code, risk.title) for code, risk in RISKS.items()])
    decision = forms.ChoiceField(choices=GrantReview.Decision.choices)
    note = forms.CharField(required=False, max_length=1000, widget=forms.Textarea)
