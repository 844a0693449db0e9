"""The PowerShell script for pending change requests: right cmdlets, safe quoting, one failure
does not stop the rest."""

from datetime import UTC, datetime

import pytest

from delegation.changes.models import ChangeRequest
from delegation.changes.powershell import command_for, comment_text, script
from delegation.changes.snapshots import snapshot

ANN = "aaaaaaaa-0000-0000-0000-000000000001"
BOB = "bbbbbbbb-0000-0000-0000-000000000002"
WHEN = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def request(pk=7, kind="add", before=None, after=None, **kw):
    fields = {
        "delegator_object_id": ANN,
        "delegate_object_id": BOB,
        "delegator_name": "Ann Lee",
        "delegator_upn": "ann@contoso.test",
        "delegate_name": "Bob Roe",
        "delegate_upn": "bob@contoso.test",
    }
    fields.update(kw)
    return ChangeRequest(id=pk, kind=kind, before=before, after=after, **fields)


def test_an_add_names_all_five_actions_by_object_id():
    command, _ = command_for(request(after=snapshot(make_calls=True, join_active_calls=True)))
    assert command == (
        f"New-CsUserCallingDelegate -Identity '{ANN}' -Delegate '{BOB}'"
        " -MakeCalls $true -ReceiveCalls $false -ManageSettings $false"
        " -PickUpHeldCalls $false -JoinActiveCalls $true"
    )


def test_a_change_sets_only_the_actions_that_change():
    before = snapshot(make_calls=True)
    after = snapshot(make_calls=True, manage_settings=True)
    command, notes = command_for(request(kind="change", before=before, after=after))
    assert command == f"Set-CsUserCallingDelegate -Identity '{ANN}' -Delegate '{BOB}'" + (
        " -ManageSettings $true"
    )
    assert notes == []


def test_a_change_of_only_is_active_writes_no_command_and_says_powershell_cannot():
    before = snapshot(make_calls=True)
    after = snapshot(make_calls=True, is_active=False)
    command, notes = command_for(request(kind="change", before=before, after=after))
    assert command == ""
    assert any("no IsActive" in note for note in notes)


def test_an_inactive_add_warns_that_the_delegate_will_be_active():
    _, notes = command_for(request(after=snapshot(make_calls=True, is_active=False)))
    assert notes and "will be active" in notes[0]


def test_a_remove_names_both_people_by_object_id():
    command, _ = command_for(request(kind="remove", before=snapshot(make_calls=True)))
    assert command == f"Remove-CsUserCallingDelegate -Identity '{ANN}' -Delegate '{BOB}'"


def test_an_id_that_is_not_an_object_id_never_reaches_the_script():
    with pytest.raises(ValueError, match="not an object id"):
        command_for(request(kind="remove", delegate_object_id="bob'; Remove-Item C:\\"))


def test_the_script_stops_on_errors_wraps_each_request_and_reports_failures():
    text = script(
        [request(1, after=snapshot(make_calls=True)), request(2, kind="remove")],
        generated_at=WHEN,
    )
    assert "Connect-MicrosoftTeams" in text and "2 change request(s)" in text
    assert "$ErrorActionPreference = 'Stop'" in text
    assert text.count("try {") == 2 and text.count("} catch {") == 2
    assert "$failed += 2" in text and "'Change request 2 failed: '" in text
    assert text.index("Change request 1:") < text.index("Change request 2:")


HOSTILE_NAMES = [
    "Eve\nRemove-CsUserCallingDelegate -Identity x",
    "Eve\r\nWrite-Host pwned",
    "Eve\u2028Write-Host pwned",
    "Eve #> Write-Host pwned <#",
    "O'Brien $(Write-Host pwned)",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_a_name_cannot_break_out_of_its_comment(name):
    text = script([request(kind="remove", delegate_name=name)], generated_at=WHEN)
    [comment] = [line for line in text.splitlines() if line.startswith("# Change request 7:")]
    assert comment.startswith("# ")
    assert "#>" not in comment and "<#" not in comment
    assert "pwned" not in text.replace(comment, "")
    assert len(text.splitlines()) == len(
        script([request(kind="remove")], generated_at=WHEN).splitlines()
    )


def test_comment_text_flattens_every_line_break_python_knows():
    assert "\n" not in comment_text("a\nb\rc\x0bd\x0ce\x1cf\x85g\u2028h\u2029i")
    assert len(comment_text("a\nb\rc\x0bd\x0ce\x1cf\x85g\u2028h\u2029i").splitlines()) == 1
