"""Who may reach each delegation page (the URL x role table), and the directory people and
grants the page tests build. Detail pages use fake ids: allowed roles get 404."""

from __future__ import annotations

import uuid

from django.utils import timezone

FAKE_OID = "00000000-0000-0000-0000-00000000dead"
FAKE_RUN = 999_999

_PEOPLE = {"anonymous": 302, "none": 403, "helpdesk": 200, "manager": 200, "admin": 200}
_MANAGERS = {"anonymous": 302, "none": 403, "helpdesk": 403, "manager": 200, "admin": 200}
_ADMINS = {"anonymous": 302, "none": 403, "helpdesk": 403, "manager": 403, "admin": 200}

EXPECTED = [
    (
        "delegation:mine",
        {},
        "get",
        {"anonymous": 302, "none": 200, "helpdesk": 200, "manager": 200, "admin": 200},
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
    # An empty review form is refused by allowed roles (400), before any state changes.
    ("delegation:reviews", {}, "post", {**_MANAGERS, "manager": 400, "admin": 400}),
    ("delegation:sync_list", {}, "get", _ADMINS),
    ("delegation:sync_detail", {"pk": FAKE_RUN}, "get", {**_ADMINS, "admin": 404}),
    ("delegation:sync_progress", {"pk": FAKE_RUN}, "get", {**_ADMINS, "admin": 404}),
    # "Sync now" redirects to the run it started (or to the one already running).
    ("delegation:sync_start", {}, "post", {**_ADMINS, "admin": 302}),
]


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
