"""After a sync: drift and PowerShell requests settled from the refreshed cache. Time-boxed
grants: the end-date job makes each ending once, with a clock the test controls."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from delegation.changes import states
from delegation.changes.models import ChangeRequest
from delegation.changes.services import due, outcome
from delegation.changes.services.request import APPLY_TASK
from delegation.changes.services.verify import reverify_after_sync
from delegation.changes.snapshots import snapshot
from delegation.models import DelegationChange, SyncRun
from tests.support.changes import (
    CALLS,
    made,
)
from tests.support.factories import grant, person
from tests.support.threads import at_once

pytestmark = pytest.mark.django_db
NOW = timezone.now()


def finished_sync(**fields) -> SyncRun:
    return SyncRun.objects.create(
        trigger="schedule",
        status=fields.pop("status", SyncRun.Status.SUCCEEDED),
        started_at=timezone.now(),
        finished_at=timezone.now(),
        **fields,
    )


# --- drift ----------------------------------------------------------------------------------------
def test_a_verified_grant_that_teams_no_longer_holds_as_asked_is_marked_drifted(change_people):
    boss, assistant = change_people["boss"], change_people["assistant"]
    change = made(boss, assistant, CALLS, verified_at=timezone.now() - timedelta(hours=1))
    grant(boss, assistant, make_calls=True)  # the sync found receive_calls taken away
    result = reverify_after_sync(finished_sync().pk)
    change.refresh_from_db()
    assert result["drifted"] == [change.pk]
    assert change.status == states.DRIFTED and change.drifted_at is not None


def test_a_drifted_grant_that_holds_again_is_verified_again(change_people):
    boss, assistant = change_people["boss"], change_people["assistant"]
    change = made(boss, assistant, CALLS, status=states.DRIFTED)
    grant(boss, assistant, make_calls=True, receive_calls=True)
    reverify_after_sync(finished_sync().pk)
    change.refresh_from_db()
    assert change.status == states.VERIFIED


def test_a_removal_is_drifted_when_the_grant_comes_back(change_people):
    boss, assistant = change_people["boss"], change_people["assistant"]
    change = made(boss, assistant, None, before=CALLS, verified_at=timezone.now() - timedelta(1))
    grant(boss, assistant, make_calls=True)
    reverify_after_sync(finished_sync().pk)
    change.refresh_from_db()
    assert change.status == states.DRIFTED


def test_an_older_request_superseded_by_a_newer_one_is_not_drift(change_people):
    boss, assistant = change_people["boss"], change_people["assistant"]
    old = made(boss, assistant, CALLS, verified_at=timezone.now() - timedelta(hours=2))
    new = made(
        boss,
        assistant,
        snapshot(make_calls=True),
        before=CALLS,
        verified_at=timezone.now() - timedelta(hours=1),
    )
    grant(boss, assistant, make_calls=True)
    reverify_after_sync(finished_sync().pk)
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.status, new.status) == (states.VERIFIED, states.VERIFIED)


def test_people_the_sync_could_not_read_and_requests_verified_after_it_began_are_left(
    change_people,
):
    boss, assistant, deputy = (
        change_people["boss"],
        change_people["assistant"],
        change_people["deputy"],
    )
    unread = made(boss, assistant, CALLS, verified_at=timezone.now() - timedelta(hours=1))
    run = finished_sync(status=SyncRun.Status.PARTIAL, failed_user_ids=[boss.object_id])
    late = made(deputy, assistant, CALLS, verified_at=timezone.now() + timedelta(seconds=1))
    reverify_after_sync(run.pk)
    for change in (unread, late):
        change.refresh_from_db()
        assert change.status == states.VERIFIED


def test_a_failed_sync_settles_nothing(change_people):
    change = made(
        change_people["boss"], change_people["assistant"], CALLS, verified_at=timezone.now()
    )
    assert reverify_after_sync(finished_sync(status=SyncRun.Status.FAILED).pk) == {
        "verified": [],
        "drifted": [],
    }
    change.refresh_from_db()
    assert change.status == states.VERIFIED


def test_a_powershell_request_the_sync_shows_applied_is_verified_and_linked_to_history(
    change_people,
):
    boss, assistant = change_people["boss"], change_people["assistant"]
    change = made(
        boss, assistant, snapshot(is_active=False, make_calls=True),
        status=states.AWAITING_POWERSHELL, method="powershell",
    )  # fmt: skip
    run = finished_sync()
    g = grant(boss, assistant, make_calls=True)  # PowerShell cannot set IsActive: not compared
    row = DelegationChange.objects.create(
        run=run, at=timezone.now(), delegator=boss, delegate=assistant, kind="added",
        after={"is_active": g.is_active},
    )  # fmt: skip
    assert reverify_after_sync(run.pk)["verified"] == [change.pk]
    change.refresh_from_db()
    row.refresh_from_db()
    assert change.status == states.VERIFIED and row.change_request == change


def test_a_powershell_request_teams_does_not_show_keeps_waiting(change_people):
    change = made(
        change_people["boss"], change_people["assistant"], CALLS, status=states.AWAITING_POWERSHELL
    )
    reverify_after_sync(finished_sync().pk)
    change.refresh_from_db()
    assert change.status == states.AWAITING_POWERSHELL


# --- endings --------------------------------------------------------------------------------------
def time_boxed(change_people, **fields):
    boss, assistant = change_people["boss"], change_people["assistant"]
    grant(boss, assistant, make_calls=True, receive_calls=True)
    fields.setdefault("on_end", "remove")
    return made(boss, assistant, CALLS, ends_at=NOW + timedelta(days=3), **fields)


def test_nothing_ends_before_its_time(change_people, change_tasks):
    time_boxed(change_people)
    assert due.end_due(now=NOW + timedelta(days=2)) == []
    assert change_tasks == []


def test_a_due_grant_gets_one_ending_request_linked_by_ended_by(change_people, change_tasks):
    original = time_boxed(change_people)
    [made_id] = due.end_due(now=NOW + timedelta(days=3, minutes=1))
    original.refresh_from_db()
    ending = ChangeRequest.objects.get(pk=made_id)
    assert original.status == states.ENDING and original.ended_by == ending
    assert (ending.kind, ending.after, ending.acting_as) == ("remove", None, "staff")
    assert ending.requested_by is None and "scheduled end" in ending.requested_by_name
    assert change_tasks == [(APPLY_TASK, ending.pk)]
    assert due.end_due(now=NOW + timedelta(days=4)) == []  # a second run makes nothing


def test_restore_goes_back_to_the_actions_it_had_before(change_people, change_tasks):
    before = snapshot(make_calls=True)
    original = time_boxed(change_people, before=before, on_end="restore")
    due.end_due(now=NOW + timedelta(days=3, minutes=1))
    original.refresh_from_db()
    assert (original.ended_by.kind, original.ended_by.after) == ("change", before)


def test_an_ending_verified_ends_the_grant_and_a_failed_one_is_tried_again(
    change_people, change_tasks
):
    original = time_boxed(change_people)
    due.end_due(now=NOW + timedelta(days=3, minutes=1))
    original.refresh_from_db()
    first = original.ended_by
    for target in (states.APPLYING, states.FAILED):
        outcome.move(first, target, failure="Graph said no")
    original.refresh_from_db()
    assert original.status == states.VERIFIED and "Ending it failed" in original.failure
    [second] = due.end_due(now=NOW + timedelta(days=3, minutes=2))
    assert second != first.pk
    ending = ChangeRequest.objects.get(pk=second)
    for target in (states.APPLYING, states.APPLIED, states.VERIFIED):
        outcome.move(ending, target)
    original.refresh_from_db()
    assert original.status == states.ENDED


def test_a_grant_already_gone_at_its_end_simply_ends(change_people, change_tasks):
    original = time_boxed(change_people)
    original_grant = change_people["boss"].delegations_given.get()
    original_grant.delete()
    assert due.end_due(now=NOW + timedelta(days=3, minutes=1)) == []
    original.refresh_from_db()
    assert original.status == states.ENDED and change_tasks == []


def test_cancelling_an_ending_keeps_the_grant_without_an_end(change_people, change_tasks):
    original = time_boxed(change_people)
    due.end_due(now=NOW + timedelta(days=3, minutes=1))
    original.refresh_from_db()
    outcome.move(original.ended_by, states.CANCELLED)
    original.refresh_from_db()
    assert original.status == states.VERIFIED and original.ends_at is None


@pytest.mark.django_db(transaction=True)
def test_two_workers_running_the_end_job_at_once_end_each_grant_once(monkeypatch):
    monkeypatch.setattr("delegation.changes.services.due.enqueue", lambda *a: None)
    pairs = [(person(f"Boss {i}"), person(f"Helper {i}")) for i in range(6)]
    for boss, helper in pairs:
        grant(boss, helper, make_calls=True)
        made(boss, helper, snapshot(make_calls=True), ends_at=NOW, on_end="remove")
    made_ids = []
    at_once(lambda: made_ids.extend(due.end_due(now=NOW + timedelta(minutes=1))))
    assert len(made_ids) == len(set(made_ids)) == 6
    assert ChangeRequest.objects.filter(kind="remove").count() == 6


def test_the_retry_job_queues_what_is_due_and_leaves_the_rest(change_people, change_tasks):
    boss, assistant, deputy = (
        change_people["boss"],
        change_people["assistant"],
        change_people["deputy"],
    )
    due_now = made(boss, assistant, status=states.REQUESTED, next_attempt_at=timezone.now())
    made(boss, deputy, status=states.REQUESTED, next_attempt_at=timezone.now() + timedelta(1))
    assert due.retry_due() == [due_now.pk]
    assert change_tasks == [(APPLY_TASK, due_now.pk)]
