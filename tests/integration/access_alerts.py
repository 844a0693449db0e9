"""Who may reach each alerts page (the URL x role table): managers and admins read the digests;
only admins send a failed delivery again. Fake ids: readers get 404, a retry of nothing goes back
to the page with a message."""

from __future__ import annotations

FAKE_PK = 999_999

_READERS = {"anonymous": 302, "none": 403, "helpdesk": 403, "manager": 200, "admin": 200}

EXPECTED = [
    ("alerts:list", {}, "get", _READERS),
    ("alerts:read", {"pk": FAKE_PK}, "post", {**_READERS, "manager": 404, "admin": 404}),
    ("alerts:read_all", {}, "post", {**_READERS, "manager": 302, "admin": 302}),
    ("alerts:retry", {"pk": FAKE_PK}, "post", {**_READERS, "manager": 403, "admin": 302}),
]
