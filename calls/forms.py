"""Forms of the calls pages. They validate input; the rules are checked by the services.

Each form carries an idempotency key made when it is rendered: submitting it twice finds what
the first submit did instead of acting again.
"""

from __future__ import annotations

import uuid

import phonenumbers
from django import forms
from django.conf import settings

from calls import selectors


def new_key() -> str:
    return uuid.uuid4().hex


class KeyedForm(forms.Form):
    idempotency_key = forms.CharField(
        widget=forms.HiddenInput,
        max_length=64,
        error_messages={"required": "This form is damaged; open it again."},
    )

    def clean_idempotency_key(self) -> str:
        value = self.cleaned_data["idempotency_key"]
        try:
            return uuid.UUID(value).hex
        except ValueError as exc:
            raise forms.ValidationError("This form is damaged; open it again.") from exc


def normalise_phone(raw: str) -> str:
    """E.164, or ValidationError in words a person understands."""
    try:
        number = phonenumbers.parse(raw, settings.CALLS_DEFAULT_REGION or None)
    except phonenumbers.NumberParseException as exc:
        raise forms.ValidationError("That is not a phone number.") from exc
    if not phonenumbers.is_valid_number(number):
        raise forms.ValidationError("That phone number is not valid.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class StartCallForm(KeyedForm):
    person = forms.CharField(required=False, max_length=64)
    phone = forms.CharField(
        required=False,
        max_length=32,
        label="or a phone number",
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    on_behalf_of = forms.ChoiceField(
        required=False,
        label="On behalf of",
        error_messages={
            "invalid_choice": "That person does not let you make calls on their behalf."
        },
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.delegators = {d.object_id: d for d in selectors.eligible_delegators(user)}
        choices = [(oid, d.label) for oid, d in self.delegators.items()]
        self.fields["on_behalf_of"].choices = [("", "Nobody: the call is mine"), *choices]

    def clean_person(self):
        object_id = self.cleaned_data["person"].strip()
        if not object_id:
            return None
        person = selectors.directory_person(object_id)
        if person is None:
            raise forms.ValidationError("That person is not in the directory, or cannot be called.")
        return person

    def clean_phone(self) -> str:
        raw = self.cleaned_data["phone"].strip()
        return normalise_phone(raw) if raw else ""

    def clean_on_behalf_of(self):
        object_id = self.cleaned_data["on_behalf_of"]
        return self.delegators.get(object_id) if object_id else None

    def clean(self):
        data = super().clean()
        person, phone = data.get("person"), data.get("phone")
        if not self.errors and not person and not phone:
            raise forms.ValidationError("Choose a person or type a phone number to call.")
        if person and phone:
            raise forms.ValidationError("Call either a person or a phone number, not both.")
        return data


class TransferForm(KeyedForm):
    target = forms.CharField(
        max_length=64,
        label="Transfer to",
        error_messages={"required": "Choose someone to transfer the call to."},
    )
    replaces = forms.TypedChoiceField(
        required=False, coerce=int, empty_value=None, label="Consultation call (optional)"
    )

    def __init__(self, *args, user, call, **kwargs):
        super().__init__(*args, **kwargs)
        self.consultations = {c.pk: c for c in selectors.my_other_connected_calls(user, call)}
        self.fields["replaces"].choices = [
            ("", "None: blind transfer"),
            *[(pk, f"Call to {c.target_label}") for pk, c in self.consultations.items()],
        ]

    def clean_target(self):
        person = selectors.directory_person(self.cleaned_data["target"].strip())
        if person is None:
            raise forms.ValidationError("That person is not in the directory, or cannot be called.")
        return person

    def clean_replaces(self):
        pk = self.cleaned_data["replaces"]
        return self.consultations.get(pk) if pk else None


class RedirectForm(KeyedForm):
    person = forms.CharField(required=False, max_length=64)
    delegator = forms.CharField(required=False, max_length=64)

    def clean(self):
        data = super().clean()
        person_id, delegator_id = data.get("person", ""), data.get("delegator", "")
        if bool(person_id) == bool(delegator_id):
            raise forms.ValidationError("Choose one person, or one person's delegates.")
        if person_id:
            person = selectors.directory_person(person_id)
            if person is None:
                raise forms.ValidationError("That person is not in the directory.")
            data["targets"] = [person]
        else:
            delegator = selectors.directory_person(delegator_id)
            targets = selectors.receivers_for(delegator)
            if not targets:
                raise forms.ValidationError("Nobody may receive that person's calls.")
            data["targets"] = targets
        return data


class EndForm(KeyedForm):
    pass
