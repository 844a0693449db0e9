"""Rows of the URL access table: the status each role meets (tests/integration/access_*.py)."""

from __future__ import annotations

ROLES = ("anonymous", "none", "helpdesk", "manager", "admin")

# Ids no row has: a role let through to the lookup meets 404, which proves it was let through.
FAKE_PK = 999_999
FAKE_OID = "00000000-0000-0000-0000-00000000dead"


def codes(anonymous, none, helpdesk, manager, admin) -> dict:
    """The status each role meets, in ROLES order (a tuple where several are acceptable)."""
    return dict(zip(ROLES, (anonymous, none, helpdesk, manager, admin), strict=True))


def everyone(status) -> dict:
    """The same status whoever asks, signed in or not."""
    return dict.fromkeys(ROLES, status)


SIGNED_IN = codes(302, 200, 200, 200, 200)  # anyone signed in; the anonymous go to sign in
NOT_FOUND = codes(302, 404, 404, 404, 404)  # anyone signed in, to a fake id
ADMINS = codes(302, 403, 403, 403, 200)
