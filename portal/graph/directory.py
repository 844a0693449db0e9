"""People of the tenant from Graph: the full listing and users/delta (GRAPH_CONTRACT §3).

Returns plain tuples, bounded and checked: Graph's data is untrusted and a tenant may hold
100,000 people, so no per-person dicts are kept once a page is read.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field

from portal.graph.client import GraphClient
from portal.graph.errors import GraphError

# Field -> position in a person tuple; object id first. All are Graph's, except the last two:
# voiceEnabled is ours, read from assignedPlans (contract: People, licences), and managerId is
# the manager's object id (or None), read from delta's manager@delta, or MANAGER_UNSAID.
PERSON_FIELDS = (
    "id",
    "displayName",
    "userPrincipalName",
    "mail",
    "department",
    "jobTitle",
    "accountEnabled",
    "voiceEnabled",
    "managerId",
)
SELECT = ",".join((*PERSON_FIELDS[:-2], "assignedPlans"))
# The manager (contract: People, managers). $expand caps a page at 100 people (Graph's known
# limit), ten times the listing's pages, so the sync's listing does not expand it: its people
# carry MANAGER_UNSAID ("the listing said nothing": the cache's manager stands), and the
# managers come from their own listing (list_managers), run apart from the sync. users/delta
# takes no $expand but tracks `manager` named in $select and answers `manager@delta`.
EXPAND_MANAGER = "manager($select=id)"
MANAGER_PAGE_SIZE = 100  # the most people a page with $expand holds, whatever $top asks
DELTA_SELECT = f"{SELECT},manager"
# Not an object id, so never a manager; short enough for the staged manager_id column, where it
# travels from the listing to the apply (delegation/sync/diff.py keeps the cache's manager).
MANAGER_UNSAID = "?"
# The Teams Phone service plan (MCOEV, service MicrosoftCommunicationsOnline): what the
# delegation cmdlets require of a delegator. Its plan id, not its service name: Skype for
# Business Online (MCOSTANDARD) is listed under the same service.
TEAMS_PHONE_PLAN_ID = "4828c8ec-dc2e-4779-b502-87ac9ce28ab7"
# A plan in its grace period ("Warning") still works; "Suspended", "Deleted" and "LockedOut" do
# not. Counting one person too many costs one $batch item; one too few could hide new grants
# until the weekly full sweep.
WORKING_STATUSES = frozenset({"Enabled", "Warning"})
PAGE_SIZE = 999  # the largest $top /users accepts (contract §3)
TEXT_LIMIT = 256  # the DirectoryUser columns' length
# Object ids are GUIDs; accept any case, refuse anything that could smuggle a path or query.
GUIDISH = re.compile(
    r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE
)
# Graph's answers when a delta token is expired or unknown: start over with a full listing.
DELTA_RESTART_CODES = frozenset({"syncStateNotFound", "syncStateInvalid", "resyncRequired"})

# (object_id, display_name, upn, mail, department, job_title, account_enabled, voice_enabled,
#  manager object id, None, or MANAGER_UNSAID)
Person = tuple


class DeltaExpired(Exception):
    """The deltaLink is no longer valid (syncStateNotFound): list everyone again."""


def is_object_id(value) -> bool:
    # fullmatch: with match(), "$" also matches before a trailing newline.
    return isinstance(value, str) and GUIDISH.fullmatch(value) is not None


def _bounded(value) -> str:
    return value[:TEXT_LIMIT] if isinstance(value, str) else ""


def has_teams_phone(plans) -> bool | None:
    """Whether assignedPlans holds a working Teams Phone plan; None when it is not a list."""
    if not isinstance(plans, list):
        return None
    return any(
        isinstance(plan, dict)
        and str(plan.get("servicePlanId", "")).lower() == TEAMS_PHONE_PLAN_ID
        and plan.get("capabilityStatus") in WORKING_STATUSES
        for plan in plans
    )


def person_fields(item: dict) -> dict | None:
    """The fields an item carries, checked; None when the item is unusable (no valid id).

    Absent fields stay absent: a delta page may carry only what changed (so may an
    assignedPlans that is not a list: what the cache knows stands).
    """
    object_id = item.get("id")
    if not is_object_id(object_id):
        return None
    out = {"id": sys.intern(object_id.lower())}
    for name in PERSON_FIELDS[1:-3]:
        if name in item:
            out[name] = _bounded(item[name])
    if "accountEnabled" in item:
        enabled = item["accountEnabled"]
        if not isinstance(enabled, bool) and enabled is not None:
            return None
        out["accountEnabled"] = enabled is not False
    voice = has_teams_phone(item.get("assignedPlans"))
    if voice is not None:
        out["voiceEnabled"] = voice
    manager = manager_of(item)
    if manager is not _UNSAID:
        out["managerId"] = manager
    return out


_UNSAID = object()  # the item says nothing of the manager: what the cache knows stands


def manager_of(item: dict):
    """The manager's object id, None for none, or _UNSAID. An expanded `manager` (absent: the
    item was not expanded), or delta's `manager@delta` (a list of references; a removed one
    means the manager was taken away; absent: unchanged)."""
    if "manager@delta" in item:
        refs = item["manager@delta"]
        if not isinstance(refs, list):
            return _UNSAID
        current = [
            ref["id"].lower()
            for ref in refs
            if isinstance(ref, dict) and "@removed" not in ref and is_object_id(ref.get("id"))
        ]
        return sys.intern(current[-1]) if current else None
    if "manager" not in item:
        return _UNSAID
    manager = item["manager"]
    if isinstance(manager, dict) and is_object_id(manager.get("id")):
        return sys.intern(manager["id"].lower())
    return None


def person_tuple(fields: dict, base: Person | None = None, manager=None) -> Person:
    """A full person tuple: the given fields over `base` (the stored person) or defaults, with
    `manager` when neither says."""
    defaults = base or (fields["id"], "", "", "", "", "", True, False, manager)
    return tuple(fields.get(name, defaults[i]) for i, name in enumerate(PERSON_FIELDS))


@dataclass
class PageStats:
    invalid: int = 0
    pages: int = 0


def list_people(client: GraphClient, stats: PageStats | None = None) -> Iterator[list[Person]]:
    """Every person, a page (up to 999) at a time, each with MANAGER_UNSAID (no $expand: it
    would cap the pages at 100). Items without a valid id are counted, skipped."""
    stats = stats if stats is not None else PageStats()
    params = {"$select": SELECT, "$top": PAGE_SIZE}
    for page in client.iter_pages("users", params=params):
        stats.pages += 1
        people = []
        for item in page:
            fields = person_fields(item)
            if fields is None:
                stats.invalid += 1
                continue
            people.append(person_tuple(fields, manager=MANAGER_UNSAID))
        yield people


def list_managers(
    client: GraphClient, stats: PageStats | None = None
) -> Iterator[list[tuple[str, str | None]]]:
    """Everyone's manager, a page (up to 100) at a time: (object id, manager's object id or
    None). Expanded, so absent or null means none. Items without a valid id are counted."""
    stats = stats if stats is not None else PageStats()
    params = {"$select": "id", "$expand": EXPAND_MANAGER, "$top": MANAGER_PAGE_SIZE}
    for page in client.iter_pages("users", params=params):
        stats.pages += 1
        pairs = []
        for item in page:
            if not is_object_id(item.get("id")):
                stats.invalid += 1
                continue
            manager = manager_of({"manager": None, **item})  # expanded: absent is none
            pairs.append((sys.intern(item["id"].lower()), manager))
        yield pairs


def latest_delta_link(client: GraphClient) -> str:
    """A deltaLink for 'from now on', without paging through everyone (users/delta latest).

    Taken before the full listing, so a change made while we list shows up in the next delta.
    """
    body = client.get("users/delta", params={"$select": DELTA_SELECT, "$deltatoken": "latest"})
    link = body.get("@odata.deltaLink")
    if not isinstance(link, str) or not link:
        raise GraphError("users/delta answered no deltaLink", status=502)
    return link


@dataclass
class DeltaChanges:
    changed: dict[str, dict] = field(default_factory=dict)  # object id -> fields present
    removed: set[str] = field(default_factory=set)
    invalid: int = 0
    delta_link: str = ""


def read_delta(client: GraphClient, delta_link: str) -> DeltaChanges:
    """Changes since the deltaLink; raises DeltaExpired when Graph asks to start over."""
    out = DeltaChanges()
    link = delta_link
    while True:
        try:
            body = client.get(link)
        except GraphError as exc:
            if exc.status in (400, 410) and exc.code in DELTA_RESTART_CODES:
                raise DeltaExpired(str(exc)) from None
            raise
        value = body.get("value")
        for item in value if isinstance(value, list) else []:
            if not isinstance(item, dict):
                out.invalid += 1
                continue
            if "@removed" in item:
                # reason "changed" (soft-deleted, restorable) or "deleted": gone either way.
                if is_object_id(item.get("id")):
                    oid = sys.intern(item["id"].lower())
                    out.removed.add(oid)
                    out.changed.pop(oid, None)
                else:
                    out.invalid += 1
                continue
            fields = person_fields(item)
            if fields is None:
                out.invalid += 1
                continue
            out.removed.discard(fields["id"])
            out.changed[fields["id"]] = fields
        next_link = body.get("@odata.nextLink")
        if isinstance(next_link, str) and next_link:
            link = next_link
            continue
        new_delta = body.get("@odata.deltaLink")
        if not isinstance(new_delta, str) or not new_delta:
            raise GraphError("users/delta ended without a deltaLink", status=502)
        out.delta_link = new_delta
        return out
