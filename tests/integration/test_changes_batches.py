"""CSV imports before Graph: the dry run stores a plan and applies nothing; a file refused whole
leaves no batch; only a clean plan may be applied, once; a plan the cache outran applies
nothing. (Applying against graphsim: test_changes_graph.py.)"""

from __future__ import annotations

import io

import pytest

from delegation.changes.csv_import import FileRefused
from delegation.changes.models import ChangeBatch, ChangeBatchRow, ChangeRequest
from delegation.changes.services import batch as batches
from delegation.changes.services.request import ChangeRefused
from delegation.exports import HEADER, csv_lines
from delegation.models import Delegation
from portal.models import AuditEvent
from tests.support.factories import grant, person

pytestmark = pytest.mark.django_db
COLUMNS = ["Delegator UPN", "Delegator object id", "Delegate UPN", "Delegate object id",
           "Active", "Make calls", "Receive calls", "Manage call and delegate settings",
           "Pick up held calls", "Join active calls", "Remove"]  # fmt: skip


def export() -> bytes:
    return "".join(csv_lines(Delegation.objects.select_related("delegator", "delegate"))).encode()


def csv_file(*rows, header=COLUMNS) -> io.BytesIO:
    lines = [",".join(header), *(",".join(row) for row in rows)]
    return io.BytesIO(("\n".join(lines) + "\n").encode())


def row(delegator, delegate, flags="yes yes no no no no", remove=""):
    return [delegator.upn, "", delegate.upn, "", *flags.split(), remove]


@pytest.fixture
def helpdesk(make_user):
    return make_user("helpdesk")


def test_an_unedited_export_plans_nothing_and_cannot_be_applied(
    helpdesk, change_people, change_tasks
):
    grant(change_people["boss"], change_people["assistant"], make_calls=True)
    grant(change_people["boss"], change_people["deputy"], receive_calls=True, is_active=False)
    batch = batches.dry_run(helpdesk, io.BytesIO(export()), file_name="export.csv")
    assert (batch.rows, batch.unchanged, batch.to_apply, batch.can_apply) == (2, 2, 0, False)
    with pytest.raises(ChangeRefused, match="changes nothing"):
        batches.apply_batch(helpdesk, batch.pk)


def test_a_dry_run_stores_each_rows_plan_and_applies_nothing(helpdesk, change_people, change_tasks):
    boss, assistant, deputy = (
        change_people["boss"],
        change_people["assistant"],
        change_people["deputy"],
    )
    grant(boss, assistant, make_calls=True)
    upload = csv_file(
        row(boss, assistant, "yes yes yes no no no"),  # a change
        row(boss, deputy),  # an add
        row(deputy, assistant, remove="no"),  # another add
    )
    batch = batches.dry_run(helpdesk, upload, file_name="team.csv")
    assert (batch.status, batch.adds, batch.changes, batch.refused_rows) == ("planned", 2, 1, 0)
    assert batch.can_apply and batch.progress_total == 3 and len(batch.file_sha256) == 64
    rows = list(ChangeBatchRow.objects.filter(batch=batch).order_by("line"))
    assert [(r.line, r.kind) for r in rows] == [(2, "change"), (3, "add"), (4, "add")]
    assert rows[0].changed_keys == ["receive_calls"]
    assert not ChangeRequest.objects.exists() and change_tasks == []
    assert AuditEvent.objects.get(action="change.batch.dry_run").outcome == "success"


def test_row_errors_are_kept_and_such_a_plan_cannot_be_applied(
    helpdesk, change_people, change_tasks
):
    boss = change_people["boss"]
    unknown = ["zed@contoso.test", "", change_people["assistant"].upn, "", *["yes"] * 6, ""]
    formula = [boss.upn, "", "=cmd|' /C calc'!A0", "", *["yes"] * 6, ""]
    upload = csv_file(unknown, formula, row(boss, boss), row(boss, change_people["disabled"]))
    batch = batches.dry_run(helpdesk, upload)
    errors = {r.line: " ".join(r.errors) for r in ChangeBatchRow.objects.filter(batch=batch)}
    assert "No one in the directory has the UPN “zed@contoso.test”" in errors[2]
    assert "holds a formula" in errors[3]
    assert "cannot be their own delegate" in errors[4]
    assert "is disabled" in errors[5]
    assert batch.refused_rows == 4 and not batch.can_apply
    with pytest.raises(ChangeRefused, match="4 row"):
        batches.apply_batch(helpdesk, batch.pk)
    assert change_tasks == [] and not ChangeRequest.objects.exists()


def test_a_26th_delegate_in_a_file_is_refused_on_its_line(helpdesk, change_people, change_tasks):
    boss = change_people["boss"]
    for i in range(24):
        grant(boss, person(f"Filler {i}"), make_calls=True)
    batch = batches.dry_run(
        helpdesk,
        csv_file(row(boss, change_people["assistant"]), row(boss, change_people["deputy"])),
    )
    [refused] = ChangeBatchRow.objects.filter(batch=batch).exclude(errors=[])
    assert refused.line == 3 and "already has 25 delegates" in refused.errors[0]


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"Who,What\nx,y\n", "Unknown columns"),
        (",".join(HEADER).encode("utf-16"), "UTF-8"),
        ("Délégant;UPN\n".encode("latin-1"), "not UTF-8"),
        (b"x" * 2048, "larger than"),
    ],
)
def test_a_file_that_cannot_be_used_is_refused_whole(helpdesk, settings, content, words):
    settings.DELEGATION_CSV_MAX_BYTES = 1024
    with pytest.raises(FileRefused, match=words):
        batches.dry_run(helpdesk, io.BytesIO(content), file_name="bad.csv")
    assert not ChangeBatch.objects.exists()
    assert AuditEvent.objects.get(action="change.batch.dry_run").outcome == "denied"


def test_too_many_rows_is_refused_by_the_setting(helpdesk, change_people, settings):
    settings.DELEGATION_CSV_MAX_ROWS = 1
    upload = csv_file(
        row(change_people["boss"], change_people["assistant"]),
        row(change_people["boss"], change_people["deputy"]),
    )
    with pytest.raises(FileRefused, match="more than 1 rows"):
        batches.dry_run(helpdesk, upload)


def test_someone_without_manage_delegations_may_import_only_their_own_line(
    make_user, change_people, change_tasks
):
    boss = change_people["boss"]
    me = make_user(None, upn=boss.upn, object_id=boss.object_id)
    upload = csv_file(
        row(boss, change_people["assistant"]),
        row(change_people["deputy"], change_people["assistant"]),
    )
    batch = batches.dry_run(me, upload)
    errors = {r.line: r.errors for r in ChangeBatchRow.objects.filter(batch=batch)}
    assert errors[2] == [] and errors[3] == ["You may not change this delegator's delegates."]


def test_a_clean_plan_is_queued_once(helpdesk, change_people, change_tasks):
    batch = batches.dry_run(
        helpdesk, csv_file(row(change_people["boss"], change_people["assistant"]))
    )
    assert batches.apply_batch(helpdesk, batch.pk).status == "queued"
    assert change_tasks == [(batches.RUN_TASK, batch.pk)]
    with pytest.raises(ChangeRefused, match="already applied"):
        batches.apply_batch(helpdesk, batch.pk)
    with pytest.raises(ChangeRefused, match="may not apply"):
        batches.apply_batch(make_user_none(), batch.pk)


def make_user_none():
    from portal.models import User

    return User.objects.create(username="stranger")


def test_a_plan_the_cache_outran_applies_nothing(helpdesk, change_people, change_tasks):
    boss, assistant = change_people["boss"], change_people["assistant"]
    batch = batches.dry_run(helpdesk, csv_file(row(boss, assistant)))
    batches.apply_batch(helpdesk, batch.pk)
    grant(boss, assistant, receive_calls=True)  # a sync found it meanwhile
    batch = batches.run_batch(batch.pk)
    assert batch.status == "failed" and "changed since the dry run" in batch.error
    assert "Line 2" in batch.error and not ChangeRequest.objects.exists()
