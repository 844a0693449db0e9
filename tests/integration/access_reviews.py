"""Who may reach each review page (the URL x role table). Everyone signed in has a queue (it
holds only what they are asked to review); campaigns need run_review_campaigns. Fake ids: the
allowed roles get 404, the others 403 before anything is looked up."""

from __future__ import annotations

FAKE_PK = 999_999

_EVERYONE = {"anonymous": 302, "none": 200, "helpdesk": 200, "manager": 200, "admin": 200}
_RUNNERS = {"anonymous": 302, "none": 403, "helpdesk": 403, "manager": 200, "admin": 200}
_RUNNERS_404 = {**_RUNNERS, "manager": 404, "admin": 404}

EXPECTED = [
    ("reviews:queue", {}, "get", _EVERYONE),
    # An empty decision: back to the queue with the error (an htmx post gets 400).
    (
        "reviews:decide",
        {},
        "post",
        {**_EVERYONE, "none": 302, "helpdesk": 302, "manager": 302, "admin": 302},
    ),
    ("reviews:campaigns", {}, "get", _RUNNERS),
    ("reviews:start", {}, "get", _RUNNERS),
    # An empty form shows itself again with its errors.
    ("reviews:start", {}, "post", {**_RUNNERS, "manager": 400, "admin": 400}),
    ("reviews:campaign", {"pk": FAKE_PK}, "get", _RUNNERS_404),
    ("reviews:close", {"pk": FAKE_PK}, "post", _RUNNERS_404),
    ("reviews:reassign", {"pk": FAKE_PK}, "post", _RUNNERS_404),
    ("reviews:removals", {"pk": FAKE_PK}, "post", _RUNNERS_404),
    ("reviews:report", {"pk": FAKE_PK}, "get", _RUNNERS_404),
    ("reviews:report_csv", {"pk": FAKE_PK}, "get", _RUNNERS_404),
]
