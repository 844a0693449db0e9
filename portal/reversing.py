"""`reverse()` for the links a page draws many times: the navigation's dozen sections on every
page, and a person's link in each row of a table (a table of fifty grants names a hundred
people). Django's `reverse()` walks the resolver at each call; here each URL name is reversed
once per script prefix and URLconf (both per-thread settings `reverse()` reads too), and an
argument is put into its place when it can only read as itself in a URL."""

from __future__ import annotations

import re

from django.urls import get_script_prefix, get_urlconf, reverse

# Matches every object id converter's pattern and needs no quoting (letters and digits).
_PLACEHOLDER = "0reversingplaceholder0"
_reversed: dict[tuple, tuple[str, ...]] = {}


def _parts(name: str, with_argument: bool) -> tuple[str, ...]:
    key = (name, with_argument, get_script_prefix(), get_urlconf())
    parts = _reversed.get(key)
    if parts is None:
        if with_argument:
            parts = tuple(reverse(name, args=[_PLACEHOLDER]).split(_PLACEHOLDER))
        else:
            parts = (reverse(name),)
        _reversed[key] = parts  # a race only reverses the same URL twice
    return parts


def reverse_cached(name: str) -> str:
    """`reverse(name)` for a URL without arguments."""
    return _parts(name, with_argument=False)[0]


def reverse_with(name: str, value, safe: re.Pattern) -> str:
    """`reverse(name, args=[value])` for a URL of one argument whose converter's pattern `safe`
    is made of characters a URL takes as they are (letters, digits, "-"). Anything else goes
    through `reverse()` itself, which refuses it as before."""
    if not isinstance(value, str) or safe.fullmatch(value) is None:
        return reverse(name, args=[value])
    parts = _parts(name, with_argument=True)
    if len(parts) != 2:  # the placeholder is not where the argument goes: do not guess
        return reverse(name, args=[value])
    return value.join(parts)
