"""Reads over the grants themselves: the organisation table's filters, sorts and pages (shared
with the CSV export), and the grants a review looks at (the risk rules: delegation/risk)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from django.db.models import F, Q, QuerySet, Subquery

from delegation.models import Delegation, DirectoryUser, GrantReview
from delegation.risk.queries import findings_for_grants, rule_q
from delegation.risk.rules import RULES, Finding
from delegation.selectors.people import prefix_q
from portal import allowed_actions
from portal.roles import user_has_capability

PAGE_SIZE = 50
COUNT_CAP = 10_000  # the table counts at most this many rows; past it, it says "more than"


# The risk rules (one definition: delegation/risk); the reviews page shows this one when no
# known rule is asked for.
DEFAULT_RISK = "manage_outside"
RISKS = RULES


# --- the table (and the CSV export, which shares its query) ----------------------------------
DEFAULT_SORT = "newest"
SORTS = {
    "newest": ("-id",),
    "oldest": ("id",),
    "delegator": ("delegator__display_name", "id"),
    "delegate": ("delegate__display_name", "id"),
    "department": ("delegator__department", "id"),
    # Grants no later sync saw change share the first sync's time: Graph's date orders them, as
    # the column shows it (last_change below).
    "changed": ("-last_changed", F("created_in_teams").desc(nulls_last=True), "-id"),
}
# The sorts that run from the highest value down: their column header says "descending".
DESCENDING_SORTS = frozenset(key for key, order in SORTS.items() if order[0].startswith("-"))


def filtered_delegations(
    *, person: str = "", department: str = "", action: str = "", active: str = "", sort: str = ""
) -> QuerySet[Delegation]:
    """All grants matching the table's filters, in the chosen order (unevaluated)."""
    qs = Delegation.objects.all()
    if person:
        # The start of a name, UPN or mail: served by their indexes (a substring would scan
        # every person of the tenant on each page of the table).
        ids = DirectoryUser.objects.filter(prefix_q(person)).values("id")
        qs = qs.filter(Q(delegator_id__in=ids) | Q(delegate_id__in=ids))
    if department:
        qs = qs.filter(delegator__department=department)
    if action in allowed_actions.BY_FIELD:
        qs = qs.filter(**{action: True})
    if active in ("yes", "no"):
        qs = qs.filter(is_active=(active == "yes"))
    return qs.order_by(*SORTS.get(sort, SORTS[DEFAULT_SORT]))


class LastChange(NamedTuple):
    at: datetime
    how: str  # "changed" (the sync saw it change), "created" (Graph's date), "first seen"


def last_change(grant: Delegation) -> LastChange:
    """A grant's own last change. Every grant of the first sync is written with that sync's
    time, so `last_changed` alone is the same on every row: it tells only once a later sync saw
    the grant change. Before that, Graph's createdDateTime is the last change known, if given."""
    if grant.last_changed > grant.first_seen:
        return LastChange(grant.last_changed, "changed")
    if grant.created_in_teams:
        return LastChange(grant.created_in_teams, "created")
    return LastChange(grant.first_seen, "first seen")


@dataclass
class TablePage:
    rows: list[Delegation]
    number: int
    has_previous: bool
    has_next: bool
    count: int
    count_is_capped: bool
    last_page: int
    beyond_paging: bool  # more rows than the pages reach: filter or export them


def capped_count(qs: QuerySet[Delegation]) -> int:
    """How many rows `qs` holds, counting no further than COUNT_CAP + 1."""
    return qs.order_by()[: COUNT_CAP + 1].count()


def table_page(qs: QuerySet[Delegation], number: int, count: int, exact: bool = False) -> TablePage:
    """One page of `qs` (1 query). `count` is exact, or capped at COUNT_CAP + 1 (more than the
    cap: "more than 10,000"), so counting stays fast at 300,000 rows."""
    capped = not exact and count > COUNT_CAP
    count = min(count, COUNT_CAP) if capped else count
    # Offsets past COUNT_CAP are not offered: deep OFFSETs scan every row before them.
    last_page = max(1, min(-(-count // PAGE_SIZE), COUNT_CAP // PAGE_SIZE))
    number = min(max(1, number), last_page)
    start = (number - 1) * PAGE_SIZE
    # Sort and slice narrow id rows in a subquery, then join the people of those 50 only:
    # sorting 300,000 wide joined rows costs several times more.
    page_ids = qs.values("id")[start : start + PAGE_SIZE]
    rows = list(
        Delegation.objects.filter(id__in=Subquery(page_ids))
        .select_related("delegator", "delegate")
        .order_by(*qs.query.order_by)
    )
    for row in rows:
        row.last_change = last_change(row)
    return TablePage(
        rows=rows,
        number=number,
        has_previous=number > 1,
        has_next=number < last_page,
        count=count,
        count_is_capped=capped,
        last_page=last_page,
        beyond_paging=capped or count > COUNT_CAP,
    )


# --- reviews ---------------------------------------------------------------------------------
def grants_for_user(user) -> QuerySet[Delegation]:
    """The grants `user` may review: all of them with review_grants, else none."""
    if user_has_capability(user, "review_grants"):
        return Delegation.objects.select_related("delegator", "delegate")
    return Delegation.objects.none()


class ReviewRow(NamedTuple):
    grant: Delegation
    latest: GrantReview | None  # the latest decision on this delegator and delegate, if any
    findings: list[Finding]  # what each risk rule says of it


@dataclass
class ReviewPage:
    risk: str  # the risk asked for when it is one of RISKS, else DEFAULT_RISK
    rows: list[ReviewRow]
    next_after: int | None  # keyset cursor of the next page, None on the last page
    recent: list[GrantReview]


def review_page(user, risk: str | None, after: int | None = None) -> ReviewPage:
    """One page of the grants with `risk` that `user` may review, in id order after the grant
    id `after` (keyset paging: fast at any depth), each with its latest review and what the
    rules say of it, and the recent decisions: a fixed number of queries."""
    risk = risk if risk in RISKS else DEFAULT_RISK
    grants = list(
        grants_for_user(user).filter(rule_q(risk), id__gt=after or 0).order_by("id")[:PAGE_SIZE]
    )
    latest = latest_reviews([(g.delegator_id, g.delegate_id) for g in grants])
    findings = findings_for_grants(grants) if grants else {}
    return ReviewPage(
        risk=risk,
        rows=[
            ReviewRow(g, latest.get((g.delegator_id, g.delegate_id)), findings[g.pk])
            for g in grants
        ],
        next_after=grants[-1].id if len(grants) == PAGE_SIZE else None,
        recent=recent_reviews() if user_has_capability(user, "review_grants") else [],
    )


def latest_reviews(pairs: list[tuple[int, int]]) -> dict[tuple[int, int], GrantReview]:
    """The latest review of each (delegator id, delegate id) pair, in one query."""
    if not pairs:
        return {}
    q = Q()
    for delegator_id, delegate_id in pairs:
        q |= Q(delegator_id=delegator_id, delegate_id=delegate_id)
    latest: dict[tuple[int, int], GrantReview] = {}
    for review in GrantReview.objects.filter(q).select_related("reviewer").order_by("-at", "-id"):
        latest.setdefault((review.delegator_id, review.delegate_id), review)
    return latest


def recent_reviews(limit: int = 20) -> list[GrantReview]:
    return list(
        GrantReview.objects.select_related("delegator", "delegate", "reviewer").order_by(
            "-at", "-id"
        )[:limit]
    )
