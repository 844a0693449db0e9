"""Asking for a change: who may, the rules against the live cache, the record saved first, the
apply task change_tasks by name; approval, rejection, cancellation; refusals save nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from delegation.changes import states
from delegation.changes.models import ChangeRequest
from delegation.changes.services import decisions
from delegation.changes.services.request import APPLY_TASK, ChangeRefused, remove, request_change
from delegation.changes.snapshots import snapshot
from delegation.models import GrantReview
from portal.models import AuditEvent
from tests.support.changes import (
    CALLS,
    MANAGE,
    fill_delegates,
    key,
    person_user,
)
from tests.support.factories import grant, person
from tests.support.threads import at_once

pytestmark = pytest.mark.django_db


def ask(actor, delegator, delegate, after=CALLS, **kw):
    kw.setdefault("idempotency_key", key())
    return request_change(
        actor=actor,
        delegator_id=delegator.object_id,
        delegate_id=delegate.object_id,
        after=after,
        **kw,
    )


def refused(actor, delegator, delegate, after=CALLS, **kw) -> ChangeRefused:
    with pytest.raises(ChangeRefused) as caught:
        ask(actor, delegator, delegate, after, **kw)
    return caught.value


# --- the record, the queue, the audit ----------------------------------------------------------
def test_helpdesk_adding_a_delegate_saves_the_request_first_and_queues_its_apply(
    make_user, change_people, change_tasks
):
    helpdesk = make_user("helpdesk")
    change = ask(helpdesk, change_people["boss"], change_people["assistant"], reason="cover")
    assert (change.kind, change.status, change.acting_as) == ("add", "requested", "staff")
    assert change.before is None and change.after == CALLS
    assert (change.delegator_name, change.delegate_upn) == (
        "Bea Boss",
        change_people["assistant"].upn,
    )
    assert change.requested_by == helpdesk and change.reason == "cover"
    assert change_tasks == [(APPLY_TASK, change.pk)]
    event = AuditEvent.objects.get(action="change.request")
    assert event.outcome == "success" and event.detail["change_request"] == change.pk


def test_a_double_submit_with_the_same_key_makes_one_request(
    make_user, change_people, change_tasks
):
    helpdesk = make_user("helpdesk")
    first = ask(
        helpdesk, change_people["boss"], change_people["assistant"], idempotency_key="form-1"
    )
    again = ask(
        helpdesk, change_people["boss"], change_people["assistant"], idempotency_key="form-1"
    )
    assert again.pk == first.pk and ChangeRequest.objects.count() == 1
    assert (
        len(change_tasks) == 1 and AuditEvent.objects.filter(action="change.request").count() == 1
    )


def test_another_persons_key_is_not_a_double_submit(make_user, change_people, change_tasks):
    ask(
        make_user("helpdesk"),
        change_people["boss"],
        change_people["assistant"],
        idempotency_key="k",
    )
    error = refused(
        make_user("admin"), change_people["boss"], change_people["deputy"], idempotency_key="k"
    )
    assert error.codes == ["key_reused"]


def test_an_add_of_an_existing_grant_is_a_change_with_its_before(
    make_user, change_people, change_tasks
):
    grant(change_people["boss"], change_people["assistant"], make_calls=True)
    change = ask(make_user("helpdesk"), change_people["boss"], change_people["assistant"], CALLS)
    assert change.kind == "change" and change.before == snapshot(make_calls=True)
    assert change.changed_keys == ["receive_calls"]


# --- bad input: a clear message, nothing saved ------------------------------------------------
@pytest.mark.parametrize(
    ("case", "code", "words"),
    [
        ("self", "self", "cannot be their own delegate"),
        ("disabled", "delegate_disabled", "Dora Disabled) is disabled"),
        ("unknown", "delegate_unknown", "is not in the directory"),
        ("full", "delegator_full", "already has 25 delegates"),
    ],
)
def test_bad_input_is_refused_with_its_words_and_nothing_is_saved(
    make_user, change_people, change_tasks, case, code, words
):
    boss = change_people["boss"]
    delegate = {
        "self": boss,
        "disabled": change_people["disabled"],
        "unknown": person("Ghost", in_directory=False),
        "full": change_people["assistant"],
    }[case]
    if case == "full":
        fill_delegates(boss, 25)
    error = refused(make_user("helpdesk"), boss, delegate)
    assert code in error.codes and any(words in w for w in error.words)
    assert not ChangeRequest.objects.exists() and change_tasks == []
    event = AuditEvent.objects.get(action="change.request")
    assert event.outcome == "denied" and code in event.detail["refusals"]


def test_a_delegate_of_25_people_cannot_take_a_26th(make_user, change_people, change_tasks):
    for i in range(25):
        grant(person(f"Boss {i}"), change_people["assistant"], make_calls=True)
    assert refused(
        make_user("helpdesk"), change_people["boss"], change_people["assistant"]
    ).codes == ["delegate_full"]


def test_pending_adds_count_towards_the_limit(make_user, change_people, change_tasks):
    helpdesk = make_user("helpdesk")
    fill_delegates(change_people["boss"], 24)
    ask(helpdesk, change_people["boss"], change_people["assistant"])
    assert refused(helpdesk, change_people["boss"], change_people["deputy"]).codes == [
        "delegator_full"
    ]


def test_a_second_request_for_a_pair_with_one_pending_names_it(
    make_user, change_people, change_tasks
):
    helpdesk = make_user("helpdesk")
    first = ask(helpdesk, change_people["boss"], change_people["assistant"])
    error = refused(
        helpdesk, change_people["boss"], change_people["assistant"], snapshot(make_calls=True)
    )
    assert error.codes == ["pending"] and f"#{first.pk}" in error.words[0]


def test_end_dates_must_lie_ahead_and_a_removal_has_none(make_user, change_people, change_tasks):
    helpdesk = make_user("helpdesk")
    past = timezone.now() - timedelta(days=1)
    assert refused(
        helpdesk, change_people["boss"], change_people["assistant"], ends_at=past
    ).codes == ["end_in_past"]
    grant(change_people["boss"], change_people["deputy"], make_calls=True)
    soon = timezone.now() + timedelta(days=1)
    assert refused(
        helpdesk, change_people["boss"], change_people["deputy"], None, ends_at=soon
    ).codes == ["end_on_remove"]


# --- who may ----------------------------------------------------------------------------------
def test_a_person_manages_their_own_delegates_with_their_own_right(
    make_user, change_people, change_tasks
):
    boss = person_user(make_user, change_people["boss"])
    assert ask(boss, change_people["boss"], change_people["assistant"]).acting_as == "self"


def test_a_manage_settings_delegate_may_manage_the_delegators_delegates(
    make_user, change_people, change_tasks
):
    grant(change_people["boss"], change_people["assistant"], manage_settings=True)
    assistant = person_user(make_user, change_people["assistant"])
    assert ask(assistant, change_people["boss"], change_people["deputy"]).acting_as == "delegate"


def test_an_inactive_manage_settings_grant_gives_no_right(make_user, change_people, change_tasks):
    grant(change_people["boss"], change_people["assistant"], manage_settings=True, is_active=False)
    assistant = person_user(make_user, change_people["assistant"])
    assert refused(assistant, change_people["boss"], change_people["deputy"]).codes == [
        "not_allowed"
    ]


@pytest.mark.parametrize("role", [None, "manager"])
def test_without_manage_delegations_nobody_changes_someone_elses_delegates(
    make_user, change_people, change_tasks, role
):
    error = refused(make_user(role), change_people["boss"], change_people["assistant"])
    assert error.codes == ["not_allowed"] and not ChangeRequest.objects.exists()


# --- approval -----------------------------------------------------------------------------------
def test_helpdesk_granting_manage_settings_waits_for_a_manager(
    make_user, change_people, change_tasks
):
    change = ask(make_user("helpdesk"), change_people["boss"], change_people["assistant"], MANAGE)
    assert change.status == states.AWAITING_APPROVAL and change_tasks == []
    manager = make_user("manager")
    decisions.approve(actor=manager, request_id=change.pk)
    change.refresh_from_db()
    assert change.status == states.REQUESTED and change.approved_by == manager
    assert change_tasks == [(APPLY_TASK, change.pk)]
    assert AuditEvent.objects.filter(action="change.approve", actor=manager).exists()


def test_the_approval_policy_is_a_setting(make_user, change_people, change_tasks, settings):
    settings.DELEGATION_APPROVAL_POLICY = "none"
    assert ask(
        make_user("helpdesk"), change_people["boss"], change_people["assistant"], MANAGE
    ).status == (states.REQUESTED)
    settings.DELEGATION_APPROVAL_POLICY = "all"
    boss = person_user(make_user, change_people["boss"])
    assert (
        ask(boss, change_people["boss"], change_people["deputy"]).status == states.AWAITING_APPROVAL
    )


def test_helpdesk_may_not_approve_and_nobody_approves_their_own(
    make_user, change_people, change_tasks
):
    admin = make_user("admin")
    change = ask(admin, change_people["boss"], change_people["assistant"], MANAGE)
    with pytest.raises(ChangeRefused, match="may not approve"):
        decisions.approve(actor=make_user("helpdesk"), request_id=change.pk)
    with pytest.raises(ChangeRefused, match="Someone else"):
        decisions.approve(actor=admin, request_id=change.pk)
    change.refresh_from_db()
    assert change.status == states.AWAITING_APPROVAL and change_tasks == []


def test_a_double_approval_decides_once(make_user, change_people, change_tasks):
    change = ask(make_user("helpdesk"), change_people["boss"], change_people["assistant"], MANAGE)
    manager = make_user("manager")
    decisions.approve(actor=manager, request_id=change.pk)
    with pytest.raises(ChangeRefused, match="not awaiting approval"):
        decisions.approve(actor=manager, request_id=change.pk)
    assert len(change_tasks) == 1


def test_a_rejected_request_keeps_the_reason_and_frees_the_pair(
    make_user, change_people, change_tasks
):
    helpdesk = make_user("helpdesk")
    change = ask(helpdesk, change_people["boss"], change_people["assistant"], MANAGE)
    decisions.reject(actor=make_user("manager"), request_id=change.pk, note="too risky")
    change.refresh_from_db()
    assert change.status == states.REJECTED and "too risky" in change.failure
    assert (
        ask(helpdesk, change_people["boss"], change_people["assistant"]).status == states.REQUESTED
    )


def test_who_asked_may_cancel_and_a_stranger_may_not(make_user, change_people, change_tasks):
    helpdesk = make_user("helpdesk")
    change = ask(helpdesk, change_people["boss"], change_people["assistant"])
    with pytest.raises(ChangeRefused, match="may not cancel"):
        decisions.cancel(actor=make_user(), request_id=change.pk)
    decisions.cancel(actor=helpdesk, request_id=change.pk)
    change.refresh_from_db()
    assert change.status == states.CANCELLED
    with pytest.raises(ChangeRefused, match="can no longer be cancelled"):
        decisions.cancel(actor=helpdesk, request_id=change.pk)


# --- reviews (a campaign's revoke: reviews/services/close.py) -----------------------------------
def revoke(reviewer, g):
    """What closing a campaign does with a revoked item: the logged review, then a removal."""
    review = GrantReview.objects.create(
        delegator=g.delegator, delegate=g.delegate, decision="revoke", reviewer=reviewer
    )
    return review, remove(
        actor=reviewer,
        delegator_id=g.delegator.object_id,
        delegate_id=g.delegate.object_id,
        idempotency_key=key(),
        review=review,
    )


def test_a_revoke_decision_becomes_a_removal_request(make_user, change_people, change_tasks):
    g = grant(change_people["boss"], change_people["assistant"], manage_settings=True)
    manager = make_user("manager")
    review, change = revoke(manager, g)
    assert (change.kind, change.after, change.acting_as) == ("remove", None, "staff")
    assert change.review_id == review.pk and change.requested_by == manager
    assert change_tasks == [(APPLY_TASK, change.pk)]


def test_a_revoke_of_a_grant_already_being_changed_is_refused_with_the_reason(
    make_user, change_people, change_tasks
):
    g = grant(change_people["boss"], change_people["assistant"], manage_settings=True)
    ask(make_user("helpdesk"), change_people["boss"], change_people["assistant"], None)
    with pytest.raises(ChangeRefused) as caught:
        revoke(make_user("manager"), g)
    assert caught.value.codes == ["pending"]


# --- races ----------------------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_two_requests_for_the_last_place_of_one_delegator_at_once_make_one(make_user, monkeypatch):
    monkeypatch.setattr("delegation.changes.services.request.enqueue", lambda *a: None)
    boss, first, second = person("Bea Boss"), person("First"), person("Second")
    fill_delegates(boss, 24)
    helpdesk = make_user("helpdesk")
    outcomes = []

    def submit(delegate):
        try:
            outcomes.append(ask(helpdesk, boss, delegate).status)
        except ChangeRefused as exc:
            outcomes.append(exc.codes[0])

    at_once(submit, first, second)
    assert sorted(outcomes) == ["delegator_full", "requested"]
    assert ChangeRequest.objects.count() == 1


def test_a_person_is_named_by_object_id_never_by_anything_else(
    make_user, change_people, change_tasks
):
    helpdesk = make_user("helpdesk")
    with pytest.raises(ChangeRefused) as caught:
        request_change(
            actor=helpdesk,
            delegator_id=change_people["boss"].object_id,
            delegate_id="../../me",
            after=CALLS,
            idempotency_key=key(),
        )
    assert caught.value.codes == ["not_an_object_id"] and not ChangeRequest.objects.exists()
