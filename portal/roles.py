"""Roles are Django groups; capabilities are permission codenames. This table is the whole map.

Views check capabilities (`@require_capability("view_people")`), never role names, so moving
a capability between roles is a one-line change here.
"""

from __future__ import annotations

ROLES = ("helpdesk", "manager", "admin")

# capability codename -> (description, roles that have it)
CAPABILITIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "view_people": ("Search people and see their delegations", ("helpdesk", "manager", "admin")),
    "place_calls_any": ("Start calls without acting on someone's behalf", ("helpdesk", "admin")),
    "act_on_any_call": ("Transfer, redirect or end any call", ("helpdesk", "admin")),
    "see_incoming_calls": ("See and redirect incoming calls", ("helpdesk", "admin")),
    "view_organisation": ("See organisation dashboards and export", ("manager", "admin")),
    "review_grants": ("Review risky grants", ("manager", "admin")),
    "run_review_campaigns": (
        "Start, follow and close review campaigns; read their reports",
        ("manager", "admin"),
    ),
    "manage_delegations": (
        "Add, change and remove anyone's delegates; import them from CSV",
        ("helpdesk", "admin"),
    ),
    "approve_delegation_changes": (
        "Approve or reject delegation changes that wait for approval",
        ("manager", "admin"),
    ),
    "view_alerts": ("Read the alert digests sent after each sync", ("manager", "admin")),
    "retry_alert_delivery": ("Send an alert digest again after its delivery failed", ("admin",)),
    "view_sync": ("See sync runs", ("admin",)),
    "run_sync": ("Start a sync", ("admin",)),
    "manage_sync_account": ("Connect or disconnect the sync account", ("admin",)),
    "view_audit": ("Read the audit log", ("admin",)),
    "view_health": ("See what the health checks found", ("admin",)),
}


def capabilities_of(role: str) -> set[str]:
    return {code for code, (_, roles) in CAPABILITIES.items() if role in roles}


def user_has_capability(user, capability: str) -> bool:
    """Read from this table and the person's role groups (one query, kept on the user object as
    Django keeps its permission cache), not through Django's permission rows: the same answer,
    since `sync_role_groups` gives each group exactly the table's permissions, in one query
    instead of two."""
    if capability not in CAPABILITIES:
        raise KeyError(f"unknown capability {capability!r}")
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    granted = getattr(user, "granted_capabilities", None)
    if granted is not None:  # an API client application: its token's app roles, nothing else
        return capability in granted
    return not _roles_held(user).isdisjoint(CAPABILITIES[capability][1])


def user_roles(user) -> list[str]:
    if not getattr(user, "is_authenticated", False):
        return []
    return sorted(user.groups.filter(name__in=ROLES).values_list("name", flat=True))


def _roles_held(user) -> frozenset[str]:
    held = getattr(user, _ROLES_CACHE, None)
    if held is None:
        held = frozenset(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
        setattr(user, _ROLES_CACHE, held)
    return held


def forget_roles(user) -> None:
    """After the person's role groups changed: the next question reads them again."""
    user.__dict__.pop(_ROLES_CACHE, None)


_ROLES_CACHE = "_portal_roles_held"
