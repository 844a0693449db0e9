"""Rows of the URL access table: the status each role meets (tests/integration/access_*.py)."""

from __future__ import annotations

ROLES = ("anonymous", "none", "helpdesk", "manager", "admin")


def codes(anonymous, none, helpdesk, manager, admin) -> dict:
    """The status each role meets, in ROLES order (a tuple where several are acceptable)."""
    return dict(zip(ROLES, (anonymous, none, helpdesk, manager, admin), strict=True))


def everyone(status) -> dict:
    """The same status whoever asks, signed in or not."""
    return dict.fromkeys(ROLES, status)
