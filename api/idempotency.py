"""The Idempotency-Key every write takes. Change requests and calls keep theirs on their rows
(the services find a repeat there); writes without such a column (a sync) remember the answer
in Django's cache for a day, per acting user."""

from __future__ import annotations

from django.core.cache import cache
from ninja import Header

from api.schemas import KEY

DAY = 24 * 3600
IdempotencyKey = Header(
    ...,
    alias="Idempotency-Key",
    pattern=KEY,
    description="A new random key per intended write (8-64 of A-Z a-z 0-9 . _ : -); "
    "sending the same key again answers with the first result and writes nothing.",
)


def _key(user, action: str, key: str) -> str:
    return f"api-idem:{user.pk}:{action}:{key}"


def remembered(user, action: str, key: str):
    return cache.get(_key(user, action, key))


def remember(user, action: str, key: str, value) -> None:
    cache.set(_key(user, action, key), value, DAY)
