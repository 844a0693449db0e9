"""Who may reach each calls URL (the URL x role table), and the demo directory the calls tests
copy from graphsim into the local cache. Detail URLs use a call id that does not exist: roles
that may act get 404, which proves they were let through to the lookup."""

from __future__ import annotations

from django.utils import timezone

FAKE_CALL = 999_999

_EVERYONE = {"anonymous": 302, "none": 200, "helpdesk": 200, "manager": 200, "admin": 200}
_MISSING = {"anonymous": 302, "none": 404, "helpdesk": 404, "manager": 404, "admin": 404}
_HELPDESK = {"anonymous": 302, "none": 403, "helpdesk": 200, "manager": 403, "admin": 200}
# Starting calls and the person picker: helpdesk, or a delegate whose grant allows makeCalls
# (these roles hold none); the others are told why, without the picker.
_PLACE_CALLS = _HELPDESK
# Graph signs callbacks with a JWT, not a session: no token is 401 for everyone, never a login.
_CALLBACK_POST = {"anonymous": 401, "none": 401, "helpdesk": 401, "manager": 401, "admin": 401}
_CALLBACK_GET = {"anonymous": 405, "none": 405, "helpdesk": 405, "manager": 405, "admin": 405}

EXPECTED = [
    ("calls:list", {}, "get", _EVERYONE),
    ("calls:start", {}, "get", _PLACE_CALLS),
    # An empty form comes back with its errors (200), before anything is saved or sent.
    ("calls:start", {}, "post", _PLACE_CALLS),
    ("calls:people", {}, "get", _PLACE_CALLS),
    ("calls:incoming", {}, "get", _HELPDESK),
    ("calls:detail", {"pk": FAKE_CALL}, "get", _MISSING),
    ("calls:live", {"pk": FAKE_CALL}, "get", _MISSING),
    ("calls:transfer", {"pk": FAKE_CALL}, "post", _MISSING),
    ("calls:end", {"pk": FAKE_CALL}, "post", _MISSING),
    ("calls:redirect", {"pk": FAKE_CALL}, "post", {**_HELPDESK, "helpdesk": 404, "admin": 404}),
    ("calls:callback", {}, "post", _CALLBACK_POST),
    ("calls:callback", {}, "get", _CALLBACK_GET),
]


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
