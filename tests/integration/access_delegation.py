"""Who may reach each delegation page (the URL x role table). Detail pages use fake ids: allowed
roles get 404."""

from __future__ import annotations

from tests.support.access import ADMINS, FAKE_OID, FAKE_PK, SIGNED_IN, codes

_PEOPLE = codes(302, 403, 200, 200, 200)
_MANAGERS = codes(302, 403, 403, 200, 200)

EXPECTED = [
    ("delegation:mine", {}, "get", SIGNED_IN),
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
    ("delegation:sync_list", {}, "get", ADMINS),
    ("delegation:sync_detail", {"pk": FAKE_PK}, "get", {**ADMINS, "admin": 404}),
    ("delegation:sync_progress", {"pk": FAKE_PK}, "get", {**ADMINS, "admin": 404}),
    # "Sync now" redirects to the run it started (or to the one already running).
    ("delegation:sync_start", {}, "post", {**ADMINS, "admin": 302}),
]
