"""What a view found for the person asking, or a 404: selectors answer None for "not there or
not yours", so nobody learns from the status whether someone else's row exists."""

from __future__ import annotations

from typing import TypeVar

from django.http import Http404

T = TypeVar("T")


def found(value: T | None, missing: str) -> T:
    """`value`, or a 404 that says `missing`."""
    if value is None:
        raise Http404(missing)
    return value
