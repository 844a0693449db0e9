"""Shared by the change-request tests: people and grants in the cache, a helper that records
queued tasks instead of sending them, and snapshots."""

from __future__ import annotations

import uuid

import pytest

from delegation.changes.snapshots import snapshot
from tests.integration.access_delegation import grant, person

CALLS = snapshot(make_calls=True, receive_calls=True)
MANAGE = snapshot(make_calls=True, manage_settings=True)


def key() -> str:
    return uuid.uuid4().hex


def fill_delegates(delegator, n: int) -> list:
    return [grant(delegator, person(f"Filler {i}"), make_calls=True) for i in range(n)]


@pytest.fixture
def queued(monkeypatch):
    """Task names and arguments queued by the change services, instead of sent."""
    sent: list[tuple] = []

    def record(name, *args, **kwargs):
        sent.append((name, *args))

    for module in ("request", "decisions", "due", "batch"):
        monkeypatch.setattr(f"delegation.changes.services.{module}.enqueue", record)
    return sent


@pytest.fixture
def people():
    return {
        "boss": person("Bea Boss"),
        "assistant": person("Ari Assistant"),
        "deputy": person("Dev Deputy"),
        "disabled": person("Dora Disabled", account_enabled=False),
    }


def person_user(make_user, directory_person, role=None):
    """A portal user who is this directory person (same object id)."""
    return make_user(role, upn=directory_person.upn, object_id=directory_person.object_id)


def made(delegator, delegate, after=CALLS, *, status="verified", before=None, **fields):
    """A change request as the services would have left it (no Graph involved)."""
    from delegation.changes.models import ChangeRequest
    from delegation.changes.rules import kind_of

    return ChangeRequest.objects.create(
        kind=kind_of(before, after),
        delegator_object_id=delegator.object_id,
        delegator_name=delegator.display_name,
        delegate_object_id=delegate.object_id,
        delegate_name=delegate.display_name,
        before=before,
        after=after,
        acting_as=fields.pop("acting_as", "staff"),
        status=status,
        idempotency_key=key(),
        **fields,
    )
