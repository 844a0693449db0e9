"""Form input that needs no database: phone numbers and the idempotency key."""

import pytest
from django import forms

from calls.forms import EndForm, normalise_phone


@pytest.mark.parametrize(
    "typed, region, e164",
    [
        ("(425) 555-0100", "US", "+14255550100"),
        ("+44 20 7946 0958", "US", "+442079460958"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("+33 1 42 68 53 00", "FR", "+33142685300"),
    ],
)
def test_phone_numbers_are_normalised_to_e164(settings, typed, region, e164):
    settings.CALLS_DEFAULT_REGION = region
    assert normalise_phone(typed) == e164


@pytest.mark.parametrize(
    "typed, region, e164",
    [
        ("0044 20 7946 0958", "US", "+442079460958"),  # North America dials 011, not 00
        ("00 1 425 555 0100", "US", "+14255550100"),
        ("0044 20 7946 0958", "GB", "+442079460958"),
        ("00442079460958", "DE", "+442079460958"),
        ("0011 44 20 7946 0958", "AU", "+442079460958"),  # a region's own prefix still works
    ],
)
def test_numbers_written_with_the_00_international_prefix_work_from_any_region(
    settings, typed, region, e164
):
    settings.CALLS_DEFAULT_REGION = region
    assert normalise_phone(typed) == e164


def test_the_default_region_is_the_setting(settings):
    settings.CALLS_DEFAULT_REGION = "GB"
    assert normalise_phone("020 7946 0958") == "+442079460958"
    settings.CALLS_DEFAULT_REGION = "US"
    with pytest.raises(forms.ValidationError):
        normalise_phone("020 7946 0958")


@pytest.mark.parametrize(
    "typed", ["+1 425 555 0100 ext 5", "(425) 555-0100 x12", "+44 20 7946 0958 ext. 3"]
)
def test_an_extension_is_refused_in_words_never_dropped(settings, typed):
    settings.CALLS_DEFAULT_REGION = "US"
    with pytest.raises(forms.ValidationError) as refused:
        normalise_phone(typed)
    assert "cannot dial extension" in str(refused.value)


@pytest.mark.parametrize("typed", ["12", "call me", "+1 555", "555-0100-999-999-999"])
def test_what_is_not_a_valid_number_is_refused_in_words(settings, typed):
    settings.CALLS_DEFAULT_REGION = "US"
    with pytest.raises(forms.ValidationError) as refused:
        normalise_phone(typed)
    assert "number" in str(refused.value)


def test_the_idempotency_key_must_be_one_the_portal_could_have_made():
    assert not EndForm({"idempotency_key": "../../etc"}).is_valid()
    form = EndForm({"idempotency_key": "6F9619FF-8B86-D011-B42D-00C04FC964FF"})
    assert form.is_valid()
    assert form.cleaned_data["idempotency_key"] == "6f9619ff8b86d011b42d00c04fc964ff"
