"""Helpers of the change-request tests: snapshots, keys, cached rows as the services would
leave them, the sync account connected through the real flow, and graphsim seen as Teams."""

from __future__ import annotations

import uuid

from django.urls import reverse

from delegation.changes.snapshots import snapshot
from tests.support.factories import grant, person
from tests.support.processes import need
from tests.support.signin import LOOPBACK, authority_link, callback_location, follow_to_callback

CALLS = snapshot(make_calls=True, receive_calls=True)
MANAGE = snapshot(make_calls=True, manage_settings=True)
SYNC_UPN = "manager@contoso.test"
CHANGE_SERVICES = ("request", "decisions", "due", "batch")  # the modules that queue tasks


def key() -> str:
    return uuid.uuid4().hex


def fill_delegates(delegator, n: int) -> list:
    return [grant(delegator, person(f"Filler {i}"), make_calls=True) for i in range(n)]


def demo_people() -> dict:
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


def connect_sync_account(client, graphsim, upn: str = SYNC_UPN):
    """An admin's client connects the sync account through its own auth-code flow."""
    resp = client.post(
        reverse("portal:sync_account"), {"action": "connect", "login_hint": upn}, **LOOPBACK
    )
    assert resp.status_code == 200, resp.content[:300]
    return follow_to_callback(client, callback_location(graphsim, authority_link(resp)))


GRAPH_KEYS = {
    "make_calls": "makeCalls",
    "receive_calls": "receiveCalls",
    "manage_settings": "manageCallAndDelegateSettings",
    "pick_up_held_calls": "pickUpHeldCalls",
    "join_active_calls": "joinActiveCalls",
}


class Teams:
    """graphsim as the test sees it: ids, what it holds, its counters, its switches."""

    def __init__(self, sim):
        self.sim = sim
        self.ids: dict[str, str] = {}

    def id(self, local: str) -> str:
        if local not in self.ids:
            self.ids[local] = self.sim.get(f"users/{local}@contoso.test")["id"]
        return self.ids[local]

    def grant(self, delegator: str, delegate: str) -> dict | None:
        pair = (self.id(delegator), self.id(delegate))
        for row in self.sim.get("truth")["delegations"]:
            if (row["delegator"], row["delegate"]) == pair:
                return {
                    "is_active": row["isActive"],
                    **{f: row["allowedActions"][k] for f, k in GRAPH_KEYS.items()},
                }
        return None

    def writes(self, method: str) -> int:
        """Answers graphsim gave to this write verb (any status), since the last reset."""
        return self.sim.requests_where(
            lambda route: (
                route.startswith(f"{method} /beta/") and "/communications/callSettings/" in route
            )
        )

    def set(self, delegator: str, delegate: str, **actions) -> None:
        row = {"delegator": f"{delegator}@contoso.test", "delegate": f"{delegate}@contoso.test"}
        row["allowedActions"] = {GRAPH_KEYS[f]: v for f, v in actions.items()}
        self.sim.post("tenant", {"delegations": {"set": [row]}})

    def config(self, **settings) -> None:
        self.sim.post("config", settings)


def open_teams(sim, graphsim, signed_in_client, settings):
    """graphsim with the sync account connected (manager@, delegated) and the cache synced; the
    `teams` fixture of the integration tests yields from this."""
    from delegation.sync.service import sync_now

    need("delegation_writes" in sim.get("config"), "this graphsim takes no delegate writes yet")
    settings.SYNC_USE_APP_ONLY = False
    settings.DELEGATION_CHANGE_RETRY_SECONDS = 0
    settings.DELEGATION_CHANGE_LEASE_WAIT_SECONDS = 10
    connect_sync_account(signed_in_client("admin@contoso.test"), graphsim)
    run = sync_now()
    assert run.status == "succeeded", run.error
    sim.post("reset", {})  # counters only
    yield Teams(sim)
    sim.post("reset", {"config": True})
