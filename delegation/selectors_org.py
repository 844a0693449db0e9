"""Reads for the organisation dashboard: a cached summary, risky grants, the filtered table.

The summary aggregates every grant (hundreds of thousands of rows), so it is computed once per
state of the cache and kept in Django's cache; the key changes whenever a sync finishes or
writes a change, so a page never shows figures older than the data under them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from django.core.cache import cache
from django.db import connection
from django.db.models import BooleanField, Count, ExpressionWrapper, F, Q, QuerySet, Subquery, Value
from django.db.models.functions import TruncDate
from django.utils import timezone

from delegation.models import (
    ALLOWED_ACTIONS,
    TEAMS_DELEGATION_LIMIT,
    Delegation,
    DelegationChange,
    DirectoryUser,
    GrantReview,
    SyncRun,
)
from delegation.selectors import prefix_q
from portal.roles import user_has_capability

SUMMARY_TTL_SECONDS = 600
TOP_DEPARTMENTS = 12
HISTORY_DAYS = 180
NEAR_LIMIT = TEAMS_DELEGATION_LIMIT - 3  # "at or near the limit": 22 or more
RISK_SAMPLE = 5
PAGE_SIZE = 50
COUNT_CAP = 10_000  # the table counts at most this many rows; past it, it says "more than"

# risk code -> (title, why it matters, filter on Delegation)
RISKS: dict[str, tuple[str, str, Q]] = {
    "manage_settings": (
        "May manage call and delegate settings",
        "can add further delegates and change the delegator's call forwarding",
        Q(is_active=True, manage_settings=True),
    ),
    "join_active_calls": (
        "May join active calls",
        "can join the delegator's calls while they are in progress",
        Q(is_active=True, join_active_calls=True),
    ),
    "disabled_or_removed": (
        "Granted to or by a disabled, removed or unknown person",
        "the account can no longer be held to account for what it does",
        Q(delegate__account_enabled=False)
        | Q(delegate__in_directory=False)
        | Q(delegator__account_enabled=False)
        | Q(delegator__in_directory=False),
    ),
    "inactive": (
        "Inactive but still present",
        "a dormant grant that can be switched back on without anyone noticing",
        Q(is_active=False),
    ),
}


def _fingerprint() -> tuple:
    """One cheap query (primary-key maxima and the latest run) that moves whenever data does."""
    d, c, r = (m._meta.db_table for m in (Delegation, DelegationChange, SyncRun))
    u = DirectoryUser._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT MAX(id) FROM {d}), (SELECT MAX(id) FROM {c}), "  # noqa: S608
            f"(SELECT MAX(id) FROM {u}), (SELECT id || ':' || status FROM {r} "
            f"ORDER BY id DESC LIMIT 1)"
        )
        return tuple(cursor.fetchone())


@dataclass
class Summary:
    totals: dict
    by_action: list[tuple[str, int]]
    by_department: list[tuple[str, int]]
    over_time: dict
    risk_counts: dict[str, int]
    risk_samples: dict[str, list[dict]]
    near_limit: list[dict]
    departments: list[str]


def data_version() -> str:
    return ":".join(str(v) for v in _fingerprint())


def _cached(key: str, compute):
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, SUMMARY_TTL_SECONDS)
    return value


def organisation_summary(version: str | None = None) -> Summary:
    """The dashboard's figures, from the cache while the data has not moved (1 query to tell),
    else computed (six aggregate queries) and cached."""
    return _cached(f"delegation:org-summary:{version or data_version()}", compute_summary)


def compute_summary() -> Summary:
    """About six aggregate queries over every grant; run once per state of the data."""
    figures = Delegation.objects.aggregate(
        grants=Count("id"),
        active=Count("id", filter=Q(is_active=True)),
        delegators=Count("delegator", distinct=True),
        delegates=Count("delegate", distinct=True),
        **{
            f"action_{field}": Count("id", filter=Q(is_active=True, **{field: True}))
            for field, _, _ in ALLOWED_ACTIONS
        },
        **{f"risk_{code}": Count("id", filter=q) for code, (_, _, q) in RISKS.items()},
    )
    totals = {k: figures[k] for k in ("grants", "active", "delegators", "delegates")}
    totals["inactive"] = totals["grants"] - totals["active"]
    department_rows, totals["people"] = _departments()
    return Summary(
        totals=totals,
        by_action=[(label, figures[f"action_{f}"]) for f, _, label in ALLOWED_ACTIONS],
        by_department=_top_departments(department_rows),
        over_time=_changes_over_time(),
        risk_counts={code: figures[f"risk_{code}"] for code in RISKS},
        risk_samples=_risk_samples(),
        near_limit=_people_near_limit(),
        departments=sorted(name for name, n in department_rows if name)[:500],
    )


def _departments() -> tuple[list[tuple[str, int]], int]:
    """Grants by the delegator's department, and the number of people, in one grouped query."""
    rows = (
        DirectoryUser.objects.values("department")
        .annotate(
            people=Count("id", distinct=True, filter=Q(in_directory=True)),
            grants=Count("delegations_given"),
        )
        .order_by("-grants", "department")
    )
    rows = list(rows)
    people = sum(r["people"] for r in rows)
    return [(r["department"], r["grants"]) for r in rows if r["grants"]], people


def _top_departments(rows: list[tuple[str, int]]) -> list[tuple[str, int]]:
    top = [(name or "(no department)", n) for name, n in rows[:TOP_DEPARTMENTS]]
    rest = sum(n for _, n in rows[TOP_DEPARTMENTS:])
    return top + ([("Other departments", rest)] if rest else [])


def _risk_samples() -> dict[str, list[dict]]:
    """The first few grants of each risk, in one query: a limited subquery per risk picks the
    ids, and each risk's filter, annotated as a boolean, says which list a grant belongs to."""
    ids = Q()
    for _, _, q in RISKS.values():
        ids |= Q(id__in=Delegation.objects.filter(q).order_by("id").values("id")[:RISK_SAMPLE])
    flags = {
        f"risk_{code}": ExpressionWrapper(q, BooleanField()) for code, (_, _, q) in RISKS.items()
    }
    grants = list(
        Delegation.objects.filter(ids)
        .annotate(**flags)
        .select_related("delegator", "delegate")
        .order_by("id")
    )
    return {
        code: [grant_dict(g) for g in grants if getattr(g, f"risk_{code}")][:RISK_SAMPLE]
        for code in RISKS
    }


def _changes_over_time() -> dict:
    since = timezone.now() - timedelta(days=HISTORY_DAYS)
    rows = (
        DelegationChange.objects.filter(at__gte=since)
        .annotate(day=TruncDate("at"))
        .values("day", "kind")
        .annotate(n=Count("id"))
        .order_by("day")
    )
    days: dict[str, dict[str, int]] = {}
    for row in rows:
        days.setdefault(row["day"].isoformat(), {})[row["kind"]] = row["n"]
    labels = sorted(days)
    return {
        "labels": labels,
        "series": {
            kind.label: [days[d].get(kind.value, 0) for d in labels]
            for kind in DelegationChange.Kind
        },
    }


def _people_near_limit() -> list[dict]:
    """People with NEAR_LIMIT or more delegates, or delegators: one query (two grouped halves)."""
    halves = []
    for side, what in (("delegator", "delegates"), ("delegate", "delegators")):
        fields = {f: F(f"{side}__{f}") for f in _PERSON_FIELDS}
        halves.append(
            Delegation.objects.values(**fields)
            .annotate(n=Count("id"), what=Value(what))
            .filter(n__gte=NEAR_LIMIT)
            .values(*_PERSON_FIELDS, "n", "what")
            .order_by()
        )
    found = []
    for row in halves[0].union(halves[1], all=True):
        person = {f: row[f] for f in _PERSON_FIELDS}
        person["label"] = DirectoryUser(**person).label
        found.append({"person": person, "what": row["what"], "count": row["n"]})
    return sorted(found, key=lambda r: (-r["count"], r["person"]["label"]))[:100]


_PERSON_FIELDS = (
    "object_id",
    "display_name",
    "upn",
    "department",
    "account_enabled",
    "in_directory",
)


def _person_dict(p: DirectoryUser) -> dict:
    return {
        "object_id": p.object_id,
        "label": p.label,
        "upn": p.upn,
        "department": p.department,
        "account_enabled": p.account_enabled,
        "in_directory": p.in_directory,
    }


def _grant_rows(qs):
    for g in qs.select_related("delegator", "delegate"):
        yield grant_dict(g)


def grant_dict(g: Delegation) -> dict:
    return {
        "id": g.id,
        "delegator": _person_dict(g.delegator),
        "delegate": _person_dict(g.delegate),
        "is_active": g.is_active,
        "actions": {field: getattr(g, field) for field, _, _ in ALLOWED_ACTIONS},
        "first_seen": g.first_seen,
    }


# --- the table (and the CSV export, which shares its query) ----------------------------------
SORTS = {
    "newest": ("-id",),
    "oldest": ("id",),
    "delegator": ("delegator__display_name", "id"),
    "delegate": ("delegate__display_name", "id"),
    "department": ("delegator__department", "id"),
    "changed": ("-last_changed", "-id"),
}


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
    if action in {f for f, _, _ in ALLOWED_ACTIONS}:
        qs = qs.filter(**{action: True})
    if active in ("yes", "no"):
        qs = qs.filter(is_active=(active == "yes"))
    return qs.order_by(*SORTS.get(sort, SORTS["newest"]))


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


def organisation_page(filters: dict, number: int) -> tuple[Summary, TablePage]:
    """The dashboard's figures and one page of its table: 2 queries while the data has not
    moved (its version, the page); the counts are cached like the figures."""
    version = data_version()
    summary = organisation_summary(version)
    qs = filtered_delegations(**filters)
    if not any(v for k, v in filters.items() if k != "sort"):
        return summary, table_page(qs, number, summary.totals["grants"], exact=True)
    digest = hashlib.sha256(repr(sorted(filters.items())).encode()).hexdigest()[:32]
    count = _cached(
        f"delegation:org-count:{version}:{digest}",
        lambda: qs.order_by()[: COUNT_CAP + 1].count(),
    )
    return summary, table_page(qs, number, count)


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


def risky_grants(risk: str, after_id: int = 0, limit: int = PAGE_SIZE) -> list[Delegation]:
    """Grants with one risk, in id order from `after_id` (keyset paging: fast at any depth)."""
    _, _, q = RISKS[risk]
    return list(
        Delegation.objects.filter(q, id__gt=after_id)
        .select_related("delegator", "delegate")
        .order_by("id")[:limit]
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
