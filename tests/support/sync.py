"""The delegation sync as tests see it: a tenant with app-only delegation read on, and the
comparison of the local cache with graphsim's truth."""

from __future__ import annotations

import re

from delegation.models import Delegation, DelegationChange, DirectoryUser

CACHE_TABLES = ("delegation_directoryuser", "delegation_delegation", "delegation_delegationchange")
MANY = re.compile(r"^\d+ times: ")  # how Django's query log shows an executemany
TEAMS_PHONE = "4828c8ec-dc2e-4779-b502-87ac9ce28ab7"  # the MCOEV service plan
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


def has_teams_phone(user: dict) -> bool:
    """Whether a person of graphsim's truth has a working Teams Phone plan."""
    return any(
        plan["servicePlanId"] == TEAMS_PHONE and plan["capabilityStatus"] == "Enabled"
        for plan in user["assignedPlans"]
    )


def cached_people() -> dict:
    rows = DirectoryUser.objects.filter(in_directory=True, removed_at__isnull=True)
    return {
        u.object_id: (
            u.display_name,
            u.upn,
            u.mail,
            u.department,
            u.job_title,
            u.account_enabled,
            u.voice_enabled,
            u.manager_id,
        )
        for u in rows
    }


def truth_people(truth: dict) -> dict:
    return {
        u["id"]: (
            u["displayName"] or "",
            u["userPrincipalName"] or "",
            u["mail"] or "",
            u["department"] or "",
            u["jobTitle"] or "",
            u["accountEnabled"],
            has_teams_phone(u),
            u.get("manager"),
        )
        for u in truth["users"]
    }


def cached_grants() -> set:
    rows = Delegation.objects.select_related("delegator", "delegate")
    return {
        (
            d.delegator.object_id,
            d.delegate.object_id,
            d.is_active,
            d.created_in_teams.strftime("%Y-%m-%dT%H:%M:%SZ") if d.created_in_teams else None,
            tuple(getattr(d, field) for field, _ in ACTIONS),
        )
        for d in rows
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
