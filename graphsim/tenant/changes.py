"""Changing the tenant from outside Graph: a tenant file at start, `/_sim/tenant` between syncs."""

from __future__ import annotations

import json
from pathlib import Path

from graphsim.tenant.model import RECEIVE_CALLS, Grant, TenantError, actions_to_bits, parse_iso
from graphsim.tenant.store import Tenant


def load_tenant_file(path: str, seed: int) -> Tenant:
    """A tenant from a JSON file in the format of `/_sim/truth`."""
    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    tenant = Tenant(seed)
    if doc.get("tenant"):
        tenant.tenant_id = doc["tenant"]
    for group in doc.get("groups") or []:
        tenant.groups[group["id"]] = group.get("displayName", "")
    for user in doc.get("users") or []:
        tenant.add_user(user, log=False)
    for row in doc.get("delegations") or []:
        apply_grant(tenant, row, check=False)
    tenant.version = 0
    return tenant


def apply_grant(tenant: Tenant, row: dict, check: bool = True) -> Grant:
    """Creates or changes the grant a truth row describes; only the fields given change."""
    delegator = tenant.resolve_id(row["delegator"])
    delegate = tenant.resolve_id(row["delegate"])
    existing = tenant.get_grant(delegator, delegate)
    base = existing.bits if existing else RECEIVE_CALLS
    if "allowedActions" in row:
        bits = actions_to_bits(row.get("allowedActions"), base)
    else:
        bits = None if existing else base
    created = parse_iso(row["createdDateTime"]) if row.get("createdDateTime") else None
    active = row.get("isActive", None if existing else True)
    return tenant.set_grant(delegator, delegate, active, created, bits, check=check)


def apply_change(tenant: Tenant, change: dict) -> tuple[dict, str | None]:
    """Applies a `/_sim/tenant` body in order. Returns the counts of what it did and, if a part
    was bad, why (the parts before it stay applied)."""
    done = {
        "users_added": [],
        "users_updated": 0,
        "users_removed": 0,
        "delegations_set": 0,
        "delegations_removed": 0,
    }
    try:
        _change_users(tenant, change.get("users") or {}, done)
        _change_delegations(tenant, change.get("delegations") or {}, done)
    except TenantError as e:
        return done, str(e)
    except (KeyError, TypeError, ValueError) as e:
        return done, f"bad tenant change: {e!r}"
    done["users"] = len(tenant.users)
    done["delegations"] = tenant.grant_count()
    return done, None


def _change_users(tenant: Tenant, users: dict, done: dict) -> None:
    for fields in users.get("add") or []:
        done["users_added"].append(tenant.add_user(fields).id)
    for fields in users.get("update") or []:
        tenant.update_user(fields)
        done["users_updated"] += 1
    for removal in users.get("remove") or []:
        if isinstance(removal, dict):
            tenant.remove_user(
                removal.get("id") or removal.get("userPrincipalName"),
                removal.get("reason", "deleted"),
                bool(removal.get("keepDelegations")),
            )
        else:
            tenant.remove_user(removal)
        done["users_removed"] += 1


def _change_delegations(tenant: Tenant, delegations: dict, done: dict) -> None:
    if delegations.get("clear"):
        tenant.clear_grants()
    for row in delegations.get("set") or []:
        apply_grant(tenant, row, check=not row.get("force"))
        done["delegations_set"] += 1
    for row in delegations.get("remove") or []:
        delegator = tenant.resolve_id(row["delegator"])
        if tenant.remove_grant(delegator, tenant.resolve_id(row["delegate"])):
            done["delegations_removed"] += 1
