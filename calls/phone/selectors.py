"""Reads for the browser phone, from the delegation cache: for whom the person may call, and
whose calls ring for them."""

from __future__ import annotations

import time

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


# The navigation's Phone link, asked of the cache once per sign-in and then every few minutes,
# not on every page: kept in the session, which each signed-in request reads anyway.
OFFER_SESSION_KEY = "phone_offered"
OFFER_TTL_SECONDS = 600


def remember_offer(request, offered: bool) -> bool:
    request.session[OFFER_SESSION_KEY] = [offered, time.time() + OFFER_TTL_SECONDS]
    return offered


def on_sign_in(sender, request, user, **kwargs) -> None:
    """`user_logged_in` receiver: whether the new session's navigation links the phone."""
    remember_offer(request, offers_phone(user))


def layout_facts(request) -> dict:
    """For the base layout: whether to link the phone (read only where the link is drawn)."""

    def phone_offered() -> bool:
        offered, until = request.session.get(OFFER_SESSION_KEY) or (False, 0)
        if until > time.time():
            return offered
        return remember_offer(request, offers_phone(request.user))

    return {"phone_offered": phone_offered}
