"""Rows the tests build: portal users in a role, directory people, grants, graphsim's demo tenant
copied into the local cache. Call them inside a test that has database access."""

from __future__ import annotations

import uuid

from django.utils import timezone

TEST_TENANT = "00000000-0000-4000-8000-00000000c0de"


def make_user(role: str | None = None, upn: str | None = None, object_id: str | None = None):
    """A portal user in a role group, without MSAL (for `client.force_login(user)`)."""
    from django.contrib.auth.models import Group

    from portal.models import User
    from portal.permissions import sync_role_groups
    from portal.roles import ROLES

    if role is not None and role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    object_id = object_id or str(uuid.uuid4())
    upn = upn or f"{role or 'norole'}-{object_id[:8]}@contoso.test"
    user = User.objects.create(
        username=f"{object_id}@{TEST_TENANT}",
        tenant_id=TEST_TENANT,
        object_id=object_id,
        upn=upn,
        display_name=upn.split("@")[0].title(),
    )
    if role:
        if not Group.objects.filter(name=role).exists():
            sync_role_groups()  # a flushed transactional database lost them
        user.groups.add(Group.objects.get(name=role))
    return user


def person(name: str, **fields):
    """A directory person as the sync would cache them."""
    from delegation.models import DirectoryUser

    now = timezone.now()
    slug = name.lower().replace(" ", ".")
    defaults = {
        "object_id": str(uuid.uuid4()),
        "display_name": name,
        "upn": f"{slug}@contoso.test",
        "mail": f"{slug}@contoso.test",
        "department": "Sales",
        "first_seen": now,
        "updated_at": now,
    }
    defaults.update(fields)
    return DirectoryUser.objects.create(**defaults)


def grant(delegator, delegate, **fields):
    """A cached delegation; pass allowed actions as make_calls=True and so on."""
    from delegation.models import Delegation

    now = timezone.now()
    return Delegation.objects.create(
        delegator=delegator, delegate=delegate, first_seen=now, last_changed=now, **fields
    )


def allowed(*actions: str, is_active: bool = True) -> dict:
    """A grant as the services hand it over: `is_active` and each allowed action, `actions` on."""
    from portal.allowed_actions import FIELDS

    unknown = set(actions) - set(FIELDS)
    assert not unknown, f"not allowed actions: {unknown}"
    return {"is_active": is_active, **{field: field in actions for field in FIELDS}}


def sync_account(**fields):
    """A connected sync account row (its token cache is a placeholder: nothing decrypts it)."""
    from portal.models import SyncAccount

    defaults = {
        "tenant_id": "t",
        "object_id": "o",
        "home_account_id": "h",
        "display_name": "Sync Robot",
        "upn": "robot@contoso.test",
        "ciphertext": b"x",
        "connected_at": timezone.now(),
    }
    return SyncAccount.objects.create(**{**defaults, **fields})


def load_demo_directory(truth: dict) -> dict:
    """Copy graphsim's people and grants into the local cache; returns people by UPN prefix."""
    from delegation.models import Delegation, DirectoryUser

    now = timezone.now()
    people = DirectoryUser.objects.bulk_create(
        [
            DirectoryUser(
                object_id=u["id"],
                display_name=u.get("displayName") or "",
                upn=u.get("userPrincipalName") or "",
                mail=u.get("mail") or "",
                department=u.get("department") or "",
                account_enabled=u.get("accountEnabled", True) is not False,
                first_seen=now,
                updated_at=now,
            )
            for u in truth["users"]
        ]
    )
    by_id = {p.object_id: p for p in people}
    grants = []
    for g in truth["delegations"]:
        for oid in (g["delegator"], g["delegate"]):
            if oid not in by_id:  # an orphan: a delegate /users does not know
                by_id[oid] = DirectoryUser.objects.create(
                    object_id=oid, in_directory=False, first_seen=now, updated_at=now
                )
        actions = g.get("allowedActions") or {}
        grants.append(
            Delegation(
                delegator=by_id[g["delegator"]],
                delegate=by_id[g["delegate"]],
                is_active=bool(g.get("isActive")),
                make_calls=bool(actions.get("makeCalls")),
                receive_calls=bool(actions.get("receiveCalls")),
                manage_settings=bool(actions.get("manageCallAndDelegateSettings")),
                pick_up_held_calls=bool(actions.get("pickUpHeldCalls")),
                join_active_calls=bool(actions.get("joinActiveCalls")),
                first_seen=now,
                last_changed=now,
            )
        )
    Delegation.objects.bulk_create(grants)
    return {p.upn.split("@")[0]: p for p in by_id.values() if p.upn}
