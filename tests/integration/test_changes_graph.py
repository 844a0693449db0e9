"""Changes applied against graphsim over real HTTPS with real tokens: the sync account's for
helpdesk, a person's own for their own line; verified by re-reading the delegator's delegates;
the tenant's refusal handed to Teams PowerShell and verified by "check now"; a write answered 504
settled by the re-read, never sent twice; one delegator changed twice at once; the end-date job;
drift after a sync; a CSV import applied exactly under injected faults."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.utils import timezone

from delegation.changes import states
from delegation.changes.models import ChangeRequest
from delegation.changes.services import batch as batches
from delegation.changes.services import due, script, verify
from delegation.changes.services.apply import apply_change
from delegation.changes.services.request import remove, request_change
from delegation.changes.snapshots import snapshot
from delegation.models import Delegation, DelegationChange, GrantReview
from delegation.sync.service import sync_now
from portal.models import User
from tests.support.changes import CALLS, key
from tests.support.processes import point_workers_at_graphsim
from tests.support.threads import at_once
from tests.support.waiting import wait_for

pytestmark = pytest.mark.django_db
WRITES = "/beta/{who}/communications/callSettings/{kind}"


def ask(actor, teams, delegator, delegate, after=CALLS, **kw):
    kw.setdefault("idempotency_key", key())
    return request_change(
        actor=actor,
        delegator_id=teams.id(delegator),
        delegate_id=teams.id(delegate),
        after=after,
        **kw,
    )


def applied(change) -> ChangeRequest:
    """What the apply task does with the request."""
    return apply_change(change.pk)


def cached(teams, delegator, delegate) -> Delegation | None:
    return Delegation.objects.filter(
        delegator__object_id=teams.id(delegator), delegate__object_id=teams.id(delegate)
    ).first()


# --- through Graph, verified -------------------------------------------------------------------
def test_helpdesk_adds_a_delegate_through_graph_and_it_is_verified_in_teams_and_the_cache(
    teams, make_user, change_tasks
):
    change = applied(ask(make_user("helpdesk"), teams, "boss", "nobody"))
    assert change.status == states.VERIFIED, change.failure
    assert change.method == "graph" and change.graph_request_id and change.verified_at
    assert teams.grant("boss", "nobody") == CALLS
    row = cached(teams, "boss", "nobody")
    assert row.make_calls and row.receive_calls and row.created_in_teams is not None
    history = DelegationChange.objects.get(change_request=change)
    assert (history.kind, history.run) == ("added", None)
    assert teams.writes("POST") == 1
    # The cache holds what the next sync reads: it finds nothing to change.
    assert sync_now().delegations_added == 0


def test_a_change_and_a_removal_go_through_graph_and_are_verified(teams, make_user, change_tasks):
    helpdesk = make_user("helpdesk")
    wanted = snapshot(is_active=False, make_calls=True, join_active_calls=True)
    change = applied(ask(helpdesk, teams, "boss", "assistant", wanted))
    assert (change.kind, change.status) == ("change", states.VERIFIED), change.failure
    assert teams.grant("boss", "assistant") == wanted
    removal = applied(ask(helpdesk, teams, "boss", "deputy", None))
    assert (removal.kind, removal.status) == ("remove", states.VERIFIED), removal.failure
    assert teams.grant("boss", "deputy") is None and cached(teams, "boss", "deputy") is None
    assert DelegationChange.objects.get(change_request=removal).kind == "removed"


def test_a_person_changes_their_own_line_with_their_own_token(
    teams, signed_in_client, change_tasks
):
    signed_in_client("boss@contoso.test")
    boss = User.objects.get(upn="boss@contoso.test")
    change = applied(ask(boss, teams, "boss", "nobody", snapshot(receive_calls=True)))
    assert (change.acting_as, change.status) == ("self", states.VERIFIED), change.failure
    assert teams.grant("boss", "nobody") == snapshot(receive_calls=True)


def test_a_person_without_a_usable_token_is_handed_to_powershell(teams, make_user, change_tasks):
    boss = make_user(None, upn="boss@contoso.test", object_id=teams.id("boss"))
    change = applied(ask(boss, teams, "boss", "nobody"))
    assert change.status == states.AWAITING_POWERSHELL
    assert "no Microsoft sign-in" in change.failure and teams.writes("POST") == 0


# --- the tenant refuses: Teams PowerShell, then "check now" -------------------------------------
@pytest.mark.parametrize("status", [405, 501])
def test_a_tenant_refusing_graph_writes_hands_the_change_to_powershell_then_check_now_verifies(
    teams, make_user, change_tasks, status
):
    teams.config(delegation_writes="reject", delegation_write_status=status)
    helpdesk = make_user("helpdesk")
    change = applied(ask(helpdesk, teams, "boss", "nobody"))
    assert change.status == states.AWAITING_POWERSHELL and change.method == "powershell"
    assert "refused" in change.failure and teams.grant("boss", "nobody") is None
    text = script.powershell_script(helpdesk).text
    command = (
        f"New-CsUserCallingDelegate -Identity '{teams.id('boss')}' -Delegate '{teams.id('nobody')}'"
        " -MakeCalls $true -ReceiveCalls $true -ManageSettings $false"
    )
    assert command in text
    result = verify.check_now(helpdesk, teams.id("boss"))  # the admin has not run it yet
    assert result.read and result.verified == []
    teams.set("boss", "nobody", make_calls=True, receive_calls=True)  # as PowerShell would
    result = verify.check_now(helpdesk, teams.id("boss"))
    change.refresh_from_db()
    assert result.verified == [change.pk] and change.status == states.VERIFIED
    assert DelegationChange.objects.get(change_request=change).kind == "added"


def test_the_tenant_setting_powershell_sends_nothing_to_graph(
    teams, make_user, change_tasks, settings
):
    settings.DELEGATION_WRITE_METHOD = "powershell"
    change = applied(ask(make_user("helpdesk"), teams, "boss", "nobody"))
    assert change.status == states.AWAITING_POWERSHELL and teams.writes("POST") == 0


def test_a_powershell_change_is_verified_by_the_next_sync(teams, make_user, change_tasks, settings):
    settings.DELEGATION_WRITE_METHOD = "powershell"
    change = applied(ask(make_user("helpdesk"), teams, "boss", "nobody"))
    teams.set("boss", "nobody", make_calls=True, receive_calls=True)
    run = sync_now()
    assert verify.reverify_after_sync(run.pk)["verified"] == [change.pk]


# --- doubt: a write answered 504 -----------------------------------------------------------------
def test_a_write_applied_but_answered_504_is_settled_by_the_reread_and_never_sent_twice(
    teams, make_user, change_tasks
):
    teams.config(fail_next=[{"status": 504, "path_contains": "/delegates", "after_apply": True}])
    change = applied(ask(make_user("helpdesk"), teams, "boss", "nobody"))
    assert change.status == states.VERIFIED, change.failure
    assert teams.writes("POST") == 1 and change.attempts == 1
    assert teams.grant("boss", "nobody") == CALLS


def test_a_write_lost_before_it_was_applied_is_sent_again_only_after_the_reread(
    teams, make_user, change_tasks
):
    teams.config(fail_next=[{"status": 504, "path_contains": "/delegates"}])
    change = applied(ask(make_user("helpdesk"), teams, "boss", "nobody"))
    assert change.status == states.REQUESTED and "no clear answer" in change.failure
    assert teams.grant("boss", "nobody") is None and teams.writes("POST") == 1
    change = applied(change)  # the retry job's turn
    assert change.status == states.VERIFIED and change.attempts == 2
    assert teams.writes("POST") == 2


def test_a_definite_no_from_graph_fails_the_request_with_graphs_words(
    teams, make_user, change_tasks
):
    teams.set("boss", "nobody", make_calls=True, receive_calls=False)  # the cache does not know
    change = applied(ask(make_user("helpdesk"), teams, "boss", "nobody"))
    assert change.status == states.FAILED and "already a delegate" in change.failure
    assert cached(teams, "boss", "nobody").make_calls  # the re-read taught the cache


# --- two requests for one delegator at once -------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_two_changes_to_one_delegator_at_once_are_applied_one_after_the_other(
    teams, make_user, change_tasks
):
    helpdesk = make_user("helpdesk")
    first = ask(helpdesk, teams, "boss", "nobody")
    second = ask(helpdesk, teams, "boss", "assistant", None)
    done = []
    at_once(lambda change: done.append(apply_change(change.pk).status), first, second)
    assert done == [states.VERIFIED, states.VERIFIED]
    assert teams.grant("boss", "nobody") == CALLS and teams.grant("boss", "assistant") is None
    assert cached(teams, "boss", "nobody") and not cached(teams, "boss", "assistant")


# --- a review's revoke ----------------------------------------------------------------------------
def test_a_revoke_decision_is_removed_through_graph_and_verified(teams, make_user, change_tasks):
    grant = cached(teams, "boss", "assistant")
    manager = make_user("manager")
    review = GrantReview.objects.create(
        delegator=grant.delegator, delegate=grant.delegate, decision="revoke", reviewer=manager
    )
    change = applied(
        remove(
            actor=manager,
            delegator_id=teams.id("boss"),
            delegate_id=teams.id("assistant"),
            idempotency_key=key(),
            review=review,
        )
    )
    assert (change.kind, change.status, change.method) == ("remove", states.VERIFIED, "graph")
    assert change.review_id == review.pk
    assert teams.grant("boss", "assistant") is None and cached(teams, "boss", "assistant") is None
    assert teams.writes("DELETE") == 1


# --- for a time -----------------------------------------------------------------------------------
def test_a_time_boxed_grant_is_ended_by_the_job_at_its_time(teams, make_user, change_tasks):
    ends = timezone.now() + timedelta(days=7)
    change = applied(ask(make_user("helpdesk"), teams, "boss", "nobody", ends_at=ends))
    assert change.status == states.VERIFIED
    assert due.end_due(now=ends - timedelta(minutes=1)) == []
    [ending_id] = due.end_due(now=ends + timedelta(minutes=1))
    ending = apply_change(ending_id)
    change.refresh_from_db()
    assert ending.status == states.VERIFIED and change.status == states.ENDED
    assert change.ended_by == ending and teams.grant("boss", "nobody") is None


def test_a_time_boxed_change_restores_the_actions_it_had_before(teams, make_user, change_tasks):
    before = teams.grant("boss", "assistant")
    ends = timezone.now() + timedelta(days=1)
    change = applied(
        ask(make_user("helpdesk"), teams, "boss", "assistant", snapshot(make_calls=True),
            ends_at=ends, end_action="restore")
    )  # fmt: skip
    assert change.status == states.VERIFIED
    [ending_id] = due.end_due(now=ends)
    assert apply_change(ending_id).status == states.VERIFIED
    assert teams.grant("boss", "assistant") == before


# --- drift ----------------------------------------------------------------------------------------
def test_a_grant_changed_in_teams_behind_the_portal_is_marked_drifted_after_the_next_sync(
    teams, make_user, change_tasks
):
    change = applied(ask(make_user("helpdesk"), teams, "boss", "nobody"))
    teams.set("boss", "nobody", receive_calls=False)
    run = sync_now()
    assert verify.reverify_after_sync(run.pk)["drifted"] == [change.pk]
    change.refresh_from_db()
    assert change.status == states.DRIFTED


# --- a CSV import, applied exactly under faults --------------------------------------------------
def test_a_csv_import_is_applied_exactly_once_per_row_under_injected_faults(
    teams, make_user, change_tasks
):
    helpdesk = make_user("helpdesk")
    delegates = [u["userPrincipalName"] for u in teams.sim.get("truth")["users"]][20:40]
    rows = ["Delegator UPN,Delegator object id,Delegate UPN,Delegate object id,Active,"
            "Make calls,Receive calls,Manage call and delegate settings,Pick up held calls,"
            "Join active calls"]  # fmt: skip
    wanted = []
    for upn in delegates:
        if teams.grant("nobody", upn.split("@")[0]) is None and upn != "nobody@contoso.test":
            rows.append(f"nobody@contoso.test,,{upn},,yes,yes,no,no,no,no")
            wanted.append(upn.split("@")[0])
    wanted = wanted[:15]
    rows = rows[: len(wanted) + 1]
    nobody_id = teams.id("nobody")
    before = sum(r["delegator"] == nobody_id for r in teams.sim.get("truth")["delegations"])
    batch = batches.dry_run(helpdesk, io.BytesIO("\n".join(rows).encode()), file_name="x.csv")
    assert batch.can_apply and batch.adds == len(wanted), batch.refused_rows
    batches.apply_batch(helpdesk, batch.pk)
    teams.config(
        fault_rate=0.2,
        fault_kinds=["503", "504", "drop"],
        fail_next=[
            {"status": 504, "path_contains": "/delegates", "after_apply": True},
            {"status": "drop", "path_contains": "/delegates", "after_apply": True},
        ],
    )
    batch = batches.run_batch(batch.pk)
    teams.config(fault_rate=0.0, fail_next=[])
    assert batch.status == "succeeded", batch.error
    assert (batch.applied, batch.failed, batch.progress_done) == (len(wanted), 0, len(wanted))
    for local in wanted:
        assert teams.grant("nobody", local) == snapshot(make_calls=True), local
    assert ChangeRequest.objects.filter(batch=batch, status=states.VERIFIED).count() == len(wanted)
    nobody = teams.id("nobody")
    assert sum(row["delegator"] == nobody for row in teams.sim.get("truth")["delegations"]) == (
        before + len(wanted)
    )
    assert teams.sim.get("stats")["faults_total"] >= 2  # the faults did happen
    # No write was sent again after it had been applied: Teams never answered "already there".
    assert "409" not in teams.sim.get("stats")["routes"].get(f"POST {WRITES}", {})


def csv_of(teams, delegator: str, delegates: list[str]) -> io.BytesIO:
    header = ("Delegator UPN,Delegator object id,Delegate UPN,Delegate object id,Active,"
              "Make calls,Receive calls,Manage call and delegate settings,Pick up held calls,"
              "Join active calls")  # fmt: skip
    rows = [f"{delegator}@contoso.test,,{d}@contoso.test,,yes,yes,yes,no,no,no" for d in delegates]
    return io.BytesIO("\n".join([header, *rows]).encode())


class WorkerDied(BaseException):
    """What a killed worker looks like to the code it was running: it simply stops."""


def test_a_batch_whose_worker_died_mid_write_is_finished_by_the_redelivered_task_exactly_once(
    teams, make_user, change_tasks, monkeypatch, settings
):
    from delegation.changes import locks
    from portal.graph import delegation_writes

    settings.DELEGATION_CHANGE_LEASE_SECONDS = 1
    helpdesk = make_user("helpdesk")
    names = ["nobody", "noanswer", "unreachable", "transferfail"]
    batch = batches.dry_run(helpdesk, csv_of(teams, "deputy", names))
    assert batch.can_apply, [r.errors for r in batch.planned_rows.all()]
    batches.apply_batch(helpdesk, batch.pk)
    real_add, calls = delegation_writes.add_delegate, []

    def dies_after_the_second_write(*args, **kwargs):
        calls.append(args)
        answer = real_add(*args, **kwargs)  # Teams applies it...
        if len(calls) == 2:
            raise WorkerDied  # ...and the worker is killed before it hears the answer
        return answer

    with monkeypatch.context() as crash:
        crash.setattr(delegation_writes, "add_delegate", dies_after_the_second_write)
        crash.setattr(locks, "release", lambda *a: None)  # a killed worker releases nothing
        with pytest.raises(WorkerDied):
            batches.run_batch(batch.pk)
    settings.DELEGATION_BATCH_STALE_SECONDS = 0
    stuck = ChangeRequest.objects.get(batch=batch, status=states.APPLYING)
    assert stuck.write_sent_at is not None

    batch = batches.run_batch(batch.pk)  # the redelivered task takes the batch over
    assert batch.status == "succeeded", batch.error
    assert ChangeRequest.objects.filter(batch=batch).count() == len(names)
    assert ChangeRequest.objects.filter(batch=batch, status=states.VERIFIED).count() == len(names)
    for name in names:
        assert teams.grant("deputy", name) == CALLS
    assert teams.writes("POST") == len(names)  # the stuck one was settled by a re-read
    assert "409" not in teams.sim.get("stats")["routes"][f"POST {WRITES}"]


# --- a real Celery worker -----------------------------------------------------------------------
@pytest.fixture
def worker_env(graphsim, monkeypatch):
    """What the worker process needs (it reads the environment): graphsim, the sync account's
    delegated token, retries without waiting."""
    return point_workers_at_graphsim(
        monkeypatch, graphsim, SYNC_USE_APP_ONLY="false", DELEGATION_CHANGE_RETRY_SECONDS="0"
    )


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_applies_a_queued_change_and_a_csv_import(
    teams, make_user, worker_env, celery_worker_process
):
    helpdesk = make_user("helpdesk")
    change = ask(helpdesk, teams, "boss", "nobody")  # change_tasks once the request is saved

    def settled(row):
        row.refresh_from_db()
        return row.status not in (
            *states.PENDING - {states.AWAITING_POWERSHELL},
            "queued",
            "running",
        )

    wait_for(lambda: settled(change), timeout=90)
    assert change.status == states.VERIFIED, change.failure
    assert teams.grant("boss", "nobody") == CALLS

    batch = batches.dry_run(helpdesk, csv_of(teams, "deputy", ["noanswer", "unreachable"]))
    batches.apply_batch(helpdesk, batch.pk)
    wait_for(lambda: settled(batch), timeout=90)
    assert (batch.status, batch.applied, batch.progress_done) == ("succeeded", 2, 2), batch.error
    assert teams.grant("deputy", "unreachable") == CALLS
