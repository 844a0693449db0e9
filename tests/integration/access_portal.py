"""Who may reach each portal URL (sign-in, sign-out, home, health, the admin pages)."""

from __future__ import annotations

from tests.support.access import ADMINS, SIGNED_IN, codes, everyone

_PUBLIC_OK = everyone(200)
# /healthz answers without sign-in; 200 or 503 is its health, not an access decision.
_HEALTH = dict.fromkeys(_PUBLIC_OK, (200, 503))

EXPECTED = [
    # Home sends people on: to their delegations, or to the no-access page. An admin sees the
    # setup guide there until the sync account is connected and a first sync has run.
    (
        "portal:home",
        {},
        "get",
        codes(302, 302, 302, 302, 200),
    ),
    ("portal:healthz", {}, "get", _HEALTH),
    ("portal:livez", {}, "get", _PUBLIC_OK),
    ("portal:no_access", {}, "get", SIGNED_IN),
    ("portal:login", {}, "get", _PUBLIC_OK),
    # A callback without a pending flow is a failed sign-in page for anyone.
    (
        "portal:auth_callback",
        {},
        "get",
        everyone(400),
    ),
    # Sign-out is POST only; its page moves on to the authority's logout.
    (
        "portal:logout",
        {},
        "get",
        codes(302, 405, 405, 405, 405),
    ),
    ("portal:logout", {}, "post", SIGNED_IN),
    ("portal:audit", {}, "get", ADMINS),
    ("portal:sync_account", {}, "get", ADMINS),
    # An unknown action changes nothing and comes back to the page.
    ("portal:sync_account", {}, "post", {**ADMINS, "admin": 302}),
]
