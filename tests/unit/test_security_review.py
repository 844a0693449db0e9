"""Regression tests of the security review (pure logic): each one failed before its fix."""

from __future__ import annotations

import pytest

from delegation.reviews import powershell_quote


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
