"""Reads for the browser phone, from the delegation cache: for whom the person may call, and
whose calls ring for them."""

from __future__ import annotations

from calls.selectors import eligible_delegators
from delegation.models import DirectoryUser


def receives_for(user) -> list[DirectoryUser]:
    """People whose active grant lets this person receive their calls."""
    return eligible_delegators(user, "receive_calls")


def phone_delegators(user) -> list[DirectoryUser]:
    """The people this person may call for (an active grant with makeCalls): the phone is
    offered to them only."""
    return eligible_delegators(user)


def offers_phone(user) -> bool:
    return bool(phone_delegators(user))


def layout_facts(request) -> dict:
    """For the base layout's navigation: whether to link the phone (asked only when shown)."""
    user = getattr(request, "user", None)
    return {"phone_offered": lambda: offers_phone(user)}
