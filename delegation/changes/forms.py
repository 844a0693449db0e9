"""Forms of the change pages. They validate input; the rules (who may, 25/25, self, disabled
people, licences) are the services' to check.

Each form that asks for a change carries an idempotency key made when it is rendered: a double
submit finds the request the first submit made instead of asking again.
"""

from __future__ import annotations

import uuid

from django import forms

from delegation.changes.models import ChangeRequest
from delegation.changes.snapshots import snapshot
from portal.allowed_actions import ACTIONS
from portal.graph.directory import is_object_id

DAMAGED = "This form is damaged; open it again."


def new_key() -> str:
    return uuid.uuid4().hex


class KeyedForm(forms.Form):
    idempotency_key = forms.CharField(
        widget=forms.HiddenInput, max_length=64, error_messages={"required": DAMAGED}
    )

    def clean_idempotency_key(self) -> str:
        try:
            return uuid.UUID(self.cleaned_data["idempotency_key"]).hex
        except ValueError as exc:
            raise forms.ValidationError(DAMAGED) from exc


def _object_id(value: str, words: str) -> str:
    value = (value or "").strip().lower()
    if not is_object_id(value):
        raise forms.ValidationError(words)
    return value


class GrantForm(KeyedForm):
    """Add a delegate, or change one's allowed actions and active state, for a time or not."""

    delegate = forms.CharField(
        max_length=64, error_messages={"required": "Choose the delegate from the directory."}
    )
    is_active = forms.BooleanField(required=False, initial=True, label="Active")
    ends_at = forms.DateTimeField(
        required=False,
        label="Ends on (optional)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
        error_messages={"invalid": "Give the end as a date and time."},
    )
    end_action = forms.ChoiceField(
        choices=ChangeRequest.OnEnd.choices,
        initial=ChangeRequest.OnEnd.REMOVE,
        label="At the end",
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(required=False, max_length=500, label="Reason (optional)")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for action in ACTIONS:
            self.fields[action.field] = forms.BooleanField(
                required=False, label=action.label, help_text=action.means
            )

    def clean_delegate(self) -> str:
        return _object_id(self.cleaned_data["delegate"], "Choose the delegate from the directory.")

    @property
    def action_fields(self):
        return [self[action.field] for action in ACTIONS]

    @property
    def after(self) -> dict:
        data = self.cleaned_data
        return snapshot(
            is_active=data["is_active"], **{action.field: data[action.field] for action in ACTIONS}
        )


class RemoveForm(KeyedForm):
    delegate = forms.CharField(max_length=64)
    reason = forms.CharField(required=False, max_length=500)

    def clean_delegate(self) -> str:
        return _object_id(self.cleaned_data["delegate"], "There is no such delegate.")


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("reject", "Reject")])
    note = forms.CharField(required=False, max_length=500, label="Note (optional)")


class ImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="The organisation export's columns; add a Remove column (yes) to remove.",
        error_messages={"required": "Choose a CSV file.", "empty": "The file is empty."},
    )
