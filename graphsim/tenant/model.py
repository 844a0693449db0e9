"""A person (User), a call delegation (Grant), the five allowed actions as bits, and dates."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

DOMAIN = "contoso.test"
# graphsim keeps its own copy of the five actions: it imports nothing from the portal.
ACTIONS = (
    "makeCalls",
    "receiveCalls",
    "manageCallAndDelegateSettings",
    "pickUpHeldCalls",
    "joinActiveCalls",
)
ALL_ACTIONS = (1 << len(ACTIONS)) - 1
RECEIVE_CALLS = 1 << ACTIONS.index("receiveCalls")  # what a grant allows when nothing is said
MAX_DELEGATES = 25
MAX_DELEGATORS = 25

# Properties Graph v1.0 returns for a user without $select, and every property we know.
DEFAULT_SELECT = (
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
)
USER_PROPS = DEFAULT_SELECT + ("accountEnabled", "department", "assignedPlans")

# Service plans as assignedPlans lists them: (servicePlanId, service). Teams Phone is MCOEV; the
# other plans every licensed person holds, one of them (MCOSTANDARD) under the same service name,
# so a client that tests the service alone is caught.
TEAMS_PHONE_PLAN = ("4828c8ec-dc2e-4779-b502-87ac9ce28ab7", "MicrosoftCommunicationsOnline")
BASE_PLANS = (
    ("57ff2da0-773e-42df-b2af-ffb7a2317929", "TeamspaceAPI"),  # TEAMS1
    ("0feaeb32-d00e-4d66-bd5a-43b5b83db82c", "MicrosoftCommunicationsOnline"),  # MCOSTANDARD
    ("efb87545-963c-4e0d-99df-69c6916d9eb0", "exchange"),  # EXCHANGE_S_ENTERPRISE
)
PLAN_ASSIGNED = "2025-06-01T09:00:00Z"

LIST_PROPS = frozenset({"businessPhones", "assignedPlans"})

BASE_TIME = 1767225600  # 2026-01-01T00:00:00Z: generated grants are older than this


_DAYS: dict[int, str] = {}


def iso(ts: int | float) -> str:
    day, sec = divmod(int(ts), 86400)
    date = _DAYS.get(day)
    if date is None:
        date = _DAYS[day] = time.strftime("%Y-%m-%d", time.gmtime(day * 86400))
    hours, rest = divmod(sec, 3600)
    return f"{date}T{hours:02d}:{rest // 60:02d}:{rest % 60:02d}Z"


def parse_iso(text: str) -> int:
    return int(datetime.fromisoformat(text.strip().replace("Z", "+00:00")).timestamp())


def actions_to_bits(actions: dict | None, base: int = 0) -> int:
    """The bits of `base` with each action named in `actions` set or cleared."""
    bits = base
    for i, name in enumerate(ACTIONS):
        if actions and name in actions:
            if actions[name]:
                bits |= 1 << i
            else:
                bits &= ~(1 << i)
    return bits


def bits_to_actions(bits: int) -> dict:
    return {name: bool(bits >> i & 1) for i, name in enumerate(ACTIONS)}


# one shared, read-only dict per combination: answers are built for 300k grants
ACTIONS_OF = [bits_to_actions(bits) for bits in range(ALL_ACTIONS + 1)]


def _plan(plan: tuple[str, str], status: str = "Enabled") -> dict:
    plan_id, service = plan
    return {
        "assignedDateTime": PLAN_ASSIGNED,
        "capabilityStatus": status,
        "service": service,
        "servicePlanId": plan_id,
    }


# Shared, read-only lists (a 100,000-person tenant holds references, not copies): a person
# without a licence, one with Teams Phone, and one whose Teams Phone was removed (Graph keeps a
# removed plan in assignedPlans with capabilityStatus "Deleted").
BASE_ONLY = tuple(_plan(plan) for plan in BASE_PLANS)
WITH_TEAMS_PHONE = (*BASE_ONLY, _plan(TEAMS_PHONE_PLAN))
TEAMS_PHONE_REMOVED = (*BASE_ONLY, _plan(TEAMS_PHONE_PLAN, "Deleted"))


class User:
    __slots__ = (
        "id",
        "displayName",
        "givenName",
        "surname",
        "userPrincipalName",
        "mail",
        "department",
        "jobTitle",
        "accountEnabled",
        "mobilePhone",
        "businessPhones",
        "officeLocation",
        "preferredLanguage",
        "roles",
        "groups",
        "callBehavior",
        "assignedPlans",
        "manager",  # the manager's object id, or None
        "former_manager",  # the one before, while delta still has to report its removal
        "version",
    )

    def to_graph(self, select=None) -> dict:
        out = {}
        for prop in select or DEFAULT_SELECT:
            value = getattr(self, prop)
            out[prop] = list(value) if prop in LIST_PROPS else value
        return out

    def to_truth(self) -> dict:
        out = {prop: getattr(self, prop) for prop in USER_PROPS}
        out["businessPhones"] = list(self.businessPhones)
        out["assignedPlans"] = list(self.assignedPlans)
        out["roles"] = list(self.roles)
        out["groups"] = list(self.groups)
        out["callBehavior"] = self.callBehavior
        out["manager"] = self.manager
        return out


# eq=False: a grant is that one object; the store takes it out of two lists by identity.
@dataclass(slots=True, eq=False)
class Grant:
    """One delegation: `delegate` may act for `delegator` within `bits` (see ACTIONS)."""

    delegator: str
    delegate: str
    active: bool
    created: int | float  # epoch seconds
    bits: int
    gid: str | None = None  # the grant's own id, made when first asked (Tenant.gid)

    def to_truth(self) -> dict:
        return {
            "delegator": self.delegator,
            "delegate": self.delegate,
            "isActive": self.active,
            "createdDateTime": iso(self.created),
            "allowedActions": ACTIONS_OF[self.bits & ALL_ACTIONS],
        }


class TenantError(ValueError):
    pass
