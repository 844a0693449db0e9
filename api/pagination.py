"""Opaque cursors: a signed position (a keyset id, or an offset tied to its filters), so a client
cannot forge one, and a cursor from other filters is refused rather than misread."""

from __future__ import annotations

import hashlib
import json

from django.core import signing

from api.problems import ApiProblem

SALT = "api.cursor"


def filters_key(filters: dict) -> str:
    return hashlib.sha256(json.dumps(filters, sort_keys=True).encode()).hexdigest()[:16]


def encode(kind: str, position: int, filters: dict | None = None) -> str:
    return signing.dumps([kind, position, filters_key(filters or {})], salt=SALT, compress=True)


def decode(cursor: str | None, kind: str, filters: dict | None = None) -> int | None:
    """The position in `cursor` (None for the first page); 400 if it is not one of ours."""
    if not cursor:
        return None
    try:
        got_kind, position, key = signing.loads(cursor, salt=SALT)
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise ApiProblem(400, "The cursor is not one this API gave.", ["bad_cursor"]) from exc
    if got_kind != kind or key != filters_key(filters or {}) or not isinstance(position, int):
        raise ApiProblem(400, "The cursor belongs to another list or filters.", ["bad_cursor"])
    return position
