"""Who may reach each portal URL (sign-in, sign-out, home, health, the admin pages)."""

from __future__ import annotations

_PUBLIC_OK = {"anonymous": 200, "none": 200, "helpdesk": 200, "manager": 200, "admin": 200}
# /healthz answers without sign-in; 200 or 503 is its health, not an access decision.
_HEALTH = dict.fromkeys(_PUBLIC_OK, (200, 503))
_SIGNED_IN = {"anonymous": 302, "none": 200, "helpdesk": 200, "manager": 200, "admin": 200}
_ADMINS = {"anonymous": 302, "none": 403, "helpdesk": 403, "manager": 403, "admin": 200}

EXPECTED = [
    # Home sends people on: to their delegations, or to the no-access page. An admin sees the
    # setup guide there until the sync account is connected and a first sync has run.
    (
        "portal:home",
        {},
        "get",
        {"anonymous": 302, "none": 302, "helpdesk": 302, "manager": 302, "admin": 200},
    ),
    ("portal:healthz", {}, "get", _HEALTH),
    ("portal:livez", {}, "get", _PUBLIC_OK),
    ("portal:no_access", {}, "get", _SIGNED_IN),
    ("portal:login", {}, "get", _PUBLIC_OK),
    # A callback without a pending flow is a failed sign-in page for anyone.
    (
        "portal:auth_callback",
        {},
        "get",
        {"anonymous": 400, "none": 400, "helpdesk": 400, "manager": 400, "admin": 400},
    ),
    # Sign-out is POST only; its page moves on to the authority's logout.
    (
        "portal:logout",
        {},
        "get",
        {"anonymous": 302, "none": 405, "helpdesk": 405, "manager": 405, "admin": 405},
    ),
    (
        "portal:logout",
        {},
        "post",
        {"anonymous": 302, "none": 200, "helpdesk": 200, "manager": 200, "admin": 200},
    ),
    ("portal:audit", {}, "get", _ADMINS),
    ("portal:sync_account", {}, "get", _ADMINS),
    # An unknown action changes nothing and comes back to the page.
    ("portal:sync_account", {}, "post", {**_ADMINS, "admin": 302}),
]
