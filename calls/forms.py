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
from portal.roles import user_has_capability


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
    """E.164, or ValidationError in words a person understands. A number written without a
    country code is read in CALLS_DEFAULT_REGION; one written with the 00 international prefix
    works from any region (North America dials 011, so `0044...` is not theirs to read)."""
    text = raw.strip()
    number = _parsed(text, settings.CALLS_DEFAULT_REGION or None)
    if (number is None or not phonenumbers.is_valid_number(number)) and text.startswith("00"):
        number = _parsed("+" + text[2:], None) or number
    if number is None:
        raise forms.ValidationError("That is not a phone number.")
    if number.extension:
        # Graph dials E.164 numbers, which have no extension: dropping it would ring the wrong
        # desk, so it is refused in words.
        raise forms.ValidationError(
            f"The portal cannot dial extension {number.extension}: calls go to whole numbers "
            "only. Call the main number and ask for the extension, or call the person from "
            "the directory."
        )
    if not phonenumbers.is_valid_number(number):
        raise forms.ValidationError("That phone number is not valid.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _parsed(text: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None


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
        # Only choices the person may submit: a call of their own needs the capability.
        self.can_place_own = user_has_capability(user, "place_calls_any")
        if self.can_place_own:
            choices.insert(0, ("", "Nobody: the call is mine"))
        else:
            self.fields["on_behalf_of"].required = True
            self.fields["on_behalf_of"].error_messages["required"] = (
                "Choose whom you are calling for: you may only call on someone's behalf."
            )
        self.fields["on_behalf_of"].choices = choices

    @property
    def can_be_submitted(self) -> bool:
        """False when every choice would be refused: no calling rights and no delegator."""
        return self.can_place_own or bool(self.delegators)

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
        if not person_id and not delegator_id:
            raise forms.ValidationError("Choose one person, or one person's delegates.")
        if not delegator_id:  # "Ring all" names the delegator; it wins over a chosen person
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
