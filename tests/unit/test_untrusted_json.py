"""JSON from senders we do not control: bounded in size and depth, storable everywhere."""

from __future__ import annotations

import pytest

from portal.graph.untrusted_json import TooLarge, UntrustedJsonError, loads, nesting_depth


@pytest.mark.parametrize(
    ("raw", "depth"),
    [
        (b"1", 0),
        (b"[]", 1),
        (b'{"a": [{"b": []}]}', 4),
        (b'{"a": "[[[[{{{{"}', 1),  # brackets inside strings are text
        (b'{"a": "say \\"[[[\\" twice"}', 1),  # escaped quotes do not end the string
        (b'["\\\\", [[]]]', 3),  # an escaped backslash before the closing quote
    ],
)
def test_nesting_depth_counts_brackets_outside_strings(raw, depth):
    assert nesting_depth(raw) == depth


def test_a_body_nested_past_the_limit_is_refused_before_the_parser_recurses():
    with pytest.raises(UntrustedJsonError):
        loads(b"[" * 100_000 + b"]" * 100_000, max_bytes=1_000_000, max_depth=32)


def test_a_body_within_bounds_parses():
    assert loads(b'{"value": [{"n": 1.5}]}', max_bytes=100, max_depth=3) == {"value": [{"n": 1.5}]}


def test_a_body_past_the_size_limit_is_too_large():
    with pytest.raises(TooLarge):
        loads(b"[" + b"1," * 100 + b"1]", max_bytes=100, max_depth=3)


@pytest.mark.parametrize(
    "raw", [b"NaN", b"[Infinity]", b"[-Infinity]", b"[1e400]", b'["a\\u0000"]', b'{"\\udc00": 1}']
)
def test_values_postgresql_cannot_store_are_refused(raw):
    with pytest.raises(UntrustedJsonError):
        loads(raw, max_bytes=100, max_depth=3)


def test_bytes_that_are_not_utf8_are_refused():
    with pytest.raises(UntrustedJsonError):
        loads(b'["\xff"]', max_bytes=100, max_depth=3)
