"""The Teams PowerShell script that applies pending change requests (GRAPH_CONTRACT §9).

Used when the tenant refuses Graph's writes, or chooses PowerShell: an admin runs it after
`Connect-MicrosoftTeams`. Each request is one command in its own try/catch, so one failure is
reported with its request id and the rest still run. People are named by object id, quoted with
`powershell_quote` (the reviews' command uses it too); their names appear only in comments, made
single-line first.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from datetime import datetime

from delegation.changes import snapshots
from portal.allowed_actions import ACTIONS
from portal.graph.directory import is_object_id

# PowerShell ends a single-quoted string at any of these, not only at the ASCII apostrophe.
_PS_SINGLE_QUOTES = "'\u2018\u2019\u201a\u201b"


def powershell_quote(value: str) -> str:
    """A PowerShell single-quoted literal: nothing inside is expanded; each quote character
    PowerShell knows (' and the typographic ones) is doubled, as '' is."""
    return "'" + "".join(c * 2 if c in _PS_SINGLE_QUOTES else c for c in value) + "'"


def comment_text(text: str) -> str:
    """Text that stays inside one `#` comment line whatever it holds: every line break and
    control character becomes a space, and `<#`/`#>` are split so that the line cannot open or
    close a block comment even if someone later wraps the script in one."""
    flat = "".join(" " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in str(text))
    return flat.replace("<#", "< #").replace("#>", "# >")


def _person(name: str, upn: str, object_id: str) -> str:
    bits = [b for b in (name, f"<{upn}>" if upn else "") if b]
    return comment_text(" ".join(bits) or object_id)


def _flag(value) -> str:
    return "$true" if value else "$false"


def _ids(request) -> str:
    for object_id in (request.delegator_object_id, request.delegate_object_id):
        # Quoting makes any text safe; checking keeps a garbled id from reaching Teams at all.
        if not is_object_id(object_id):
            raise ValueError(f"change request {request.pk}: {object_id!r} is not an object id")
    return (
        f" -Identity {powershell_quote(request.delegator_object_id)}"
        f" -Delegate {powershell_quote(request.delegate_object_id)}"
    )


def command_for(request) -> tuple[str, list[str]]:
    """(the command, comment lines to put before it). An empty command: nothing PowerShell can
    do (the comments say why)."""
    notes: list[str] = []
    after = snapshots.normalised(request.after)
    before = snapshots.normalised(request.before)
    if request.kind == "remove":
        return "Remove-CsUserCallingDelegate" + _ids(request), notes
    if request.kind == "add":
        flags = "".join(f" -{a.powershell} {_flag(after[a.field])}" for a in ACTIONS)
        if not after["is_active"]:
            notes.append("Teams PowerShell has no IsActive: this delegate will be active.")
        return "New-CsUserCallingDelegate" + _ids(request) + flags, notes
    changed = [a for a in ACTIONS if before is None or before[a.field] != after[a.field]]
    if before is not None and before["is_active"] != after["is_active"]:
        notes.append("Teams PowerShell has no IsActive: active/inactive is left as it is.")
    if not changed:
        notes.append("Nothing PowerShell can change: only IsActive differs.")
        return "", notes
    flags = "".join(f" -{a.powershell} {_flag(after[a.field])}" for a in changed)
    return "Set-CsUserCallingDelegate" + _ids(request) + flags, notes


def _block(request) -> list[str]:
    command, notes = command_for(request)
    delegator = _person(request.delegator_name, request.delegator_upn, request.delegator_object_id)
    delegate = _person(request.delegate_name, request.delegate_upn, request.delegate_object_id)
    lines = [
        f"# Change request {int(request.pk)}: {request.kind} {delegate} as delegate of {delegator}",
        *(f"# {comment_text(note)}" for note in notes),
    ]
    if not command:
        return [*lines, ""]
    request_id = int(request.pk)  # an int: nothing from the request's text enters the code
    return [
        *lines,
        "try {",
        f"    {command}",
        f"    Write-Output 'Change request {request_id}: done'",
        "} catch {",
        f"    $failed += {request_id}",
        f"    Write-Warning ('Change request {request_id} failed: ' + $_.Exception.Message)",
        "}",
        "",
    ]


def script(requests: Iterable, *, generated_at: datetime) -> str:
    """The whole script for these requests, in the order given."""
    requests = list(requests)
    lines = [
        f"# Teams delegation portal: {len(requests)} change request(s),"
        f" written {generated_at.isoformat(timespec='seconds')}.",
        "# Run in PowerShell after Connect-MicrosoftTeams (MicrosoftTeams module 4.0.0 or later).",
        "# The portal marks each request done when its next check reads Teams.",
        "$ErrorActionPreference = 'Stop'  # so that every failure reaches its catch",
        "$failed = @()",
        "",
    ]
    for request in requests:
        lines += _block(request)
    lines += [
        "if ($failed.Count -gt 0) {",
        "    Write-Warning ('Failed change requests: ' + ($failed -join ', '))",
        "} else {",
        "    Write-Output 'All change requests done.'",
        "}",
    ]
    return "\n".join(lines) + "\n"
