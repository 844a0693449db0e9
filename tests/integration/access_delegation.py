"""Who may reach each delegation page (the URL x role table). Detail pages use fake ids: allowed
roles get 404."""

from __future__ import annotations

from tests.support.access import codes

FAKE_OID = "00000000-0000-0000-0000-00000000dead"
FAKE_RUN = 999_999

_PEOPLE = codes(302, 403, 200, 200, 200)
_MANAGERS = codes(302, 403, 403, 200, 200)
_ADMINS = codes(302, 403, 403, 403, 200)

_SIGNED_IN = ("none", "helpdesk", "manager", "admin")

EXPECTED = [
    (
        "delegation:mine",
        {},
        "get",
        codes(302, 200, 200, 200, 200),
    ),
    ("delegation:people", {}, "get", _PEOPLE),
    ("delegation:people_search", {}, "get", _PEOPLE),
    (
        "delegation:person",
        {"object_id": FAKE_OID},
        "get",
        {**_PEOPLE, "helpdesk": 404, "manager": 404, "admin": 404},
    ),
    ("delegation:organisation", {}, "get", _MANAGERS),
    ("delegation:org_export", {}, "get", _MANAGERS),
    ("delegation:reviews", {}, "get", _MANAGERS),
    # Read only: decisions are taken in review campaigns (reviews:*).
    (
        "delegation:reviews",
        {},
        "post",
        {**_MANAGERS, "none": 405, "helpdesk": 405, "manager": 405, "admin": 405},
    ),
    ("delegation:sync_list", {}, "get", _ADMINS),
    ("delegation:sync_detail", {"pk": FAKE_RUN}, "get", {**_ADMINS, "admin": 404}),
    ("delegation:sync_progress", {"pk": FAKE_RUN}, "get", {**_ADMINS, "admin": 404}),
    # "Sync now" redirects to the run it started (or to the one already running).
    ("delegation:sync_start", {}, "post", {**_ADMINS, "admin": 302}),
]
