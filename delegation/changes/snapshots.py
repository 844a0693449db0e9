"""A grant as a plain dict: `is_active` plus the five allowed actions (portal field names).

Change requests store one before and one after (None = no grant), the Graph reader returns the
same shape, and the rules, the CSV plan and the PowerShell script compare them; so a grant has
one form everywhere, as NetBox's prechange/postchange data do.
"""

from __future__ import annotations

from collections.abc import Mapping

from portal.allowed_actions import FIELDS

KEYS: tuple[str, ...] = ("is_active", *FIELDS)

Snapshot = dict[str, bool]


def snapshot(*, is_active: bool = True, **actions: bool) -> Snapshot:
    """A full snapshot; an action not named is not allowed. Unknown names are a programming
    error, so they raise rather than vanish."""
    unknown = set(actions) - set(FIELDS)
    if unknown:
        raise ValueError(f"unknown allowed actions: {', '.join(sorted(unknown))}")
    return {"is_active": bool(is_active), **{field: bool(actions.get(field)) for field in FIELDS}}


def normalised(grant: Mapping | None) -> Snapshot | None:
    """The snapshot with exactly KEYS (missing ones False, is_active True), or None."""
    if grant is None:
        return None
    return {key: bool(grant.get(key, key == "is_active")) for key in KEYS}


def changed_keys(before: Mapping | None, after: Mapping | None) -> list[str]:
    """The keys whose value differs, in KEYS order; every key when one side is absent."""
    if before is None or after is None:
        return [] if before is None and after is None else list(KEYS)
    old, new = normalised(before), normalised(after)
    return [key for key in KEYS if old[key] != new[key]]


def grants_anything(grant: Mapping | None) -> bool:
    return grant is not None and any(grant.get(field) for field in FIELDS)
