"""The delegation sync as tests see it: a tenant with app-only delegation read on, and the
comparison of the local cache with graphsim's truth (bench/sync.py counts its lost and extra
rows with the same comparison: one definition of a cache that mirrors the tenant)."""

from __future__ import annotations

import re

from delegation.models import Delegation, DelegationChange, DirectoryUser, SyncRun
from delegation.sync.cache import PERSON_COLUMNS  # object_id, then what the truth says of each
from delegation.sync.managers import refresh_managers
from delegation.sync.service import sync_now

CACHE_TABLES = ("delegation_directoryuser", "delegation_delegation", "delegation_delegationchange")
MANY = re.compile(r"^\d+ times: ")  # how Django's query log shows an executemany
TEAMS_PHONE = "4828c8ec-dc2e-4779-b502-87ac9ce28ab7"  # the MCOEV service plan
WORKING = ("Enabled", "Warning")  # a plan in its grace period still works (portal/graph/directory)
PERSON_KEYS = ("displayName", "userPrincipalName", "mail", "department", "jobTitle")
CHUNK = 10_000  # rows read at a time: a 100,000-person cache is compared without its models
ACTIONS = (
    ("make_calls", "makeCalls"),
    ("receive_calls", "receiveCalls"),
    ("manage_settings", "manageCallAndDelegateSettings"),
    ("pick_up_held_calls", "pickUpHeldCalls"),
    ("join_active_calls", "joinActiveCalls"),
)


def open_tenant(graph_settings, sim):
    """graphsim with app-only delegation read on, and the sync set to use app-only tokens."""
    from portal.graph.tokens import app_token_provider

    graph_settings.SYNC_USE_APP_ONLY = True
    graph_settings.GRAPH_MAX_RETRIES = 4
    sim.post("faults", {"app_delegation_read": True})
    app_token_provider()(force_refresh=True)  # a token that carries the new role
    yield sim
    sim.post("reset", {"config": True})


def sync_with_managers(**kwargs) -> SyncRun:
    """A sync in this process, then, when it listed everyone, the manager refresh it queued, as
    a worker runs it once the run has committed (delegation/sync/managers.py)."""
    run = sync_now(**kwargs)
    if run.users_mode == "full" and run.status != SyncRun.Status.FAILED:
        refresh_managers()
    return run


def boss_lets_nobody_manage_settings(tenant) -> None:
    """In Teams, outside the portal: a new grant from boss to nobody that may manage call
    settings. The next sync finds it: one alert finding, flagged by two risk rules."""
    ids = {u["userPrincipalName"]: u["id"] for u in tenant.truth()["users"]}
    row = {
        "delegator": ids["boss@contoso.test"],
        "delegate": ids["nobody@contoso.test"],
        "allowedActions": {"manageCallAndDelegateSettings": True},
    }
    tenant.sim.post("tenant", {"delegations": {"set": [row]}})


def tenant_grant(delegator: str, delegate: str, **allowed: bool) -> dict:
    """A grant as graphsim's tenant endpoint takes it, between two demo people named by the start
    of their UPN; `allowed` actions (makeCalls=True), when there are any."""
    row = {"delegator": f"{delegator}@contoso.test", "delegate": f"{delegate}@contoso.test"}
    return {**row, "allowedActions": allowed} if allowed else row


def has_teams_phone(user: dict) -> bool:
    """Whether a person of graphsim's truth has a working Teams Phone plan."""
    return any(
        plan["servicePlanId"] == TEAMS_PHONE and plan["capabilityStatus"] in WORKING
        for plan in user["assignedPlans"]
    )


def cached_people() -> dict:
    rows = DirectoryUser.objects.filter(in_directory=True, removed_at__isnull=True)
    return {
        object_id: tuple(person)
        for object_id, *person in rows.values_list(*PERSON_COLUMNS).iterator(CHUNK)
    }


def truth_people(truth: dict) -> dict:
    return {
        u["id"]: (
            *(u[key] or "" for key in PERSON_KEYS),
            u["accountEnabled"],
            has_teams_phone(u),
            u.get("manager"),
        )
        for u in truth["users"]
    }


def cached_grants() -> set:
    rows = Delegation.objects.values_list(
        "delegator__object_id",
        "delegate__object_id",
        "is_active",
        "created_in_teams",
        *(field for field, _ in ACTIONS),
    )
    return {
        (a, b, active, created.strftime("%Y-%m-%dT%H:%M:%SZ") if created else None, tuple(acts))
        for a, b, active, created, *acts in rows.iterator(CHUNK)
    }


def truth_grants(truth: dict) -> set:
    return {
        (
            g["delegator"],
            g["delegate"],
            g["isActive"],
            g["createdDateTime"],
            tuple(g["allowedActions"][key] for _, key in ACTIONS),
        )
        for g in truth["delegations"]
    }


def assert_cache_mirrors(truth: dict) -> None:
    assert cached_people() == truth_people(truth)
    assert cached_grants() == truth_grants(truth)


def mirror_differences(truth: dict) -> tuple[int, int]:
    """(lost, extra): people and grants of the truth missing from the cache (or differing), and
    the cache's that the truth lacks (or has otherwise): a person who differs counts in both."""
    want_people, have_people = set(truth_people(truth).items()), set(cached_people().items())
    want_grants, have_grants = truth_grants(truth), cached_grants()
    lost = len(want_people - have_people) + len(want_grants - have_grants)
    extra = len(have_people - want_people) + len(have_grants - want_grants)
    return lost, extra


def statements(queries) -> list[str]:
    """The SQL run, with executemany's "<n> times: " prefix taken off."""
    return [MANY.sub("", q["sql"]) for q in queries]


WRITES = ("INSERT", "UPDATE", "DELETE", "COPY")  # COPY: the sync's bulk inserts on PostgreSQL


def cache_writes(queries) -> list[str]:
    return [
        sql
        for sql in statements(queries)
        if sql.split(" ", 1)[0] in WRITES and any(table in sql for table in CACHE_TABLES)
    ]


def staged_writes(queries) -> list[str]:
    """Rows a run staged: only what would change the cache is (delegation/sync/staging.py)."""
    return [
        sql
        for sql in statements(queries)
        if sql.split(" ", 1)[0] in ("INSERT", "COPY")
        and '"delegation_syncstaged' in sql.split("(", 1)[0]
    ]


def changes_of(run) -> set:
    return {
        (c.kind, c.delegator.object_id, c.delegate.object_id)
        for c in DelegationChange.objects.filter(run=run).select_related("delegator", "delegate")
    }
