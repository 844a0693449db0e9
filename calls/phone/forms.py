"""What the phone page reports about a call, validated before it is audited: bounded choices,
a delegator of the person's own, a callee that is an object id or an E.164 number."""

from __future__ import annotations

import uuid

from django import forms

from calls.forms import normalise_phone
from calls.phone import selectors

EVENTS = ("started", "ended", "failed")


class CallReportForm(forms.Form):
    event = forms.ChoiceField(choices=[(e, e) for e in EVENTS])
    direction = forms.ChoiceField(choices=[("outgoing", "outgoing"), ("incoming", "incoming")])
    on_behalf_of = forms.CharField(required=False, max_length=64)
    target = forms.CharField(required=False, max_length=64)
    code = forms.IntegerField(required=False, min_value=0, max_value=999_999)
    sub_code = forms.IntegerField(required=False, min_value=0, max_value=9_999_999)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_target(self) -> str:
        raw = self.cleaned_data["target"].strip()
        if not raw:
            return ""
        if raw.startswith("+"):
            return normalise_phone(raw)
        try:
            return str(uuid.UUID(raw))
        except ValueError as exc:
            raise forms.ValidationError("Not a Teams person's object id.") from exc

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        outgoing = data["direction"] == "outgoing"
        people = selectors.phone_delegators if outgoing else selectors.receives_for
        allowed = {person.object_id for person in people(self.user)}
        if outgoing and not data["target"]:
            raise forms.ValidationError("An outgoing call names whom it calls.")
        if not allowed:
            raise forms.ValidationError("Nobody lets you take part in their calls.")
        if (outgoing or data["on_behalf_of"]) and data["on_behalf_of"] not in allowed:
            raise forms.ValidationError("That person does not let you take part in their calls.")
        return data
