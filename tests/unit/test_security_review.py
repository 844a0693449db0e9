"""Regression tests of the security review (pure logic): each one failed before its fix."""

from __future__ import annotations

import pytest

from delegation.reviews import powershell_quote
from portal.graph.calls import _call_path
from portal.graph.delegations import grant_from_item
from portal.graph.directory import is_object_id
from portal.graph.errors import GraphError


@pytest.mark.parametrize("quote", ["\u2018", "\u2019", "\u201a", "\u201b"])
def test_powershell_quote_escapes_typographic_single_quotes(quote):
    # PowerShell closes a single-quoted string at these too: a name or UPN cached from Graph
    # holding one would end the literal and run the rest of the command it is pasted into.
    value = f"x{quote}; Remove-CsUserCallingDelegate -Identity boss; {quote}"
    quoted = powershell_quote(value)
    assert quoted == "'" + value.replace(quote, quote * 2) + "'"
    body = quoted[1:-1]
    # Every quote character inside the literal comes in pairs: none can close it.
    for run in body.replace("''", "").split():
        assert not any(c in "'\u2018\u2019\u201a\u201b" for c in run.replace(quote * 2, ""))


def test_an_object_id_with_a_trailing_newline_is_not_an_object_id():
    # "$" matches before a final "\n": such an id from Graph reached URLs and the cache, and
    # every page linking that person failed (the URL converter refuses it).
    guid = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
    assert is_object_id(guid)
    assert not is_object_id(guid + "\n")
    assert grant_from_item({"id": guid + "\n", "allowedActions": {}}) is None


@pytest.mark.parametrize("graph_id", ["..", "x/../..", "a%2F..", "abc\n", "", "a b"])
def test_a_call_id_that_could_leave_the_calls_collection_is_refused(graph_id):
    with pytest.raises(GraphError):
        _call_path(graph_id, "transfer")


def test_a_guid_call_id_makes_its_path():
    assert _call_path("4a1b0c5e-known-call", "transfer") == (
        "/communications/calls/4a1b0c5e-known-call/transfer"
    )
