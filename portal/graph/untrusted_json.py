"""JSON from senders we do not control, read within bounds: size, nesting depth, and only values
every database we store them in accepts.

`json.loads` recurses once per nesting level: a small body of ten thousand `[` raises
RecursionError (a 500), not ValueError. So the depth is measured on the raw bytes first, with the
strings taken out, before the parser sees them. NaN, infinities, NUL characters and lone
surrogates parse in Python but PostgreSQL's jsonb refuses them, so they are refused here too.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


class UntrustedJsonError(ValueError):
    """Not JSON we accept: malformed, too deep, or holding a value we cannot store."""


class TooLarge(UntrustedJsonError):
    """Larger than the caller allows."""


def nesting_depth(raw: bytes) -> int:
    """The deepest nesting of arrays and objects, strings aside (an open string counts as text)."""
    depth = deepest = 0
    for bracket in _STRING.sub(b"", raw).translate(None, _NOT_BRACKETS):
        if bracket in b"[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _refuse_constant(name: str):
    raise UntrustedJsonError(f"{name} is not a number we store")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise UntrustedJsonError("a number too large to store")
    return value


def _check_text(value: Any) -> None:
    if isinstance(value, str):
        if "\x00" in value:
            raise UntrustedJsonError("a NUL character")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise UntrustedJsonError("a lone surrogate") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key)
            _check_text(item)
    elif isinstance(value, list):
        for item in value:
            _check_text(item)


def loads(raw: bytes, *, max_bytes: int, max_depth: int) -> Any:
    """The parsed value, or UntrustedJsonError (TooLarge past `max_bytes`)."""
    if len(raw) > max_bytes:
        raise TooLarge(f"more than {max_bytes} bytes")
    if nesting_depth(raw) > max_depth:
        raise UntrustedJsonError(f"nested deeper than {max_depth}")
    try:
        value = json.loads(raw, parse_constant=_refuse_constant, parse_float=_finite_float)
    except UntrustedJsonError:
        raise
    except (ValueError, RecursionError) as exc:  # RecursionError: a miscounted depth, still 4xx
        raise UntrustedJsonError(f"not JSON: {type(exc).__name__}") from None
    _check_text(value)
    return value
