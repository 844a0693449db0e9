"""Reads for the organisation dashboard: its figures, cached, and the page that joins them to
one page of the table (selectors/grants.py).

The summary aggregates every grant (hundreds of thousands of rows), so it is computed once per
state of the cache and kept in Django's cache; the key changes whenever a sync finishes or
writes a change, or the manager refresh writes a manager, so a page never shows figures older
than the data under them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from django.core.cache import cache
from django.db import connection
from django.db.models import (
    BooleanField,
    Count,
    DateField,
    ExpressionWrapper,
    F,
    Q,
    Value,
)
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.http import urlencode

from delegation.models import (
    Delegation,
    DelegationChange,
    DirectoryUser,
    SyncCursor,
    SyncRun,
)
from delegation.risk.queries import rule_q
from delegation.selectors.grants import (
    RISKS,
    TablePage,
    capped_count,
    filtered_delegations,
    table_page,
)
from portal import allowed_actions

SUMMARY_TTL_SECONDS = 600
TOP_DEPARTMENTS = 12
HISTORY_DAYS = 180
NEAR_LIMIT = allowed_actions.TEAMS_DELEGATION_LIMIT - 3  # "at or near the limit": 22 or more
RISK_SAMPLE = 5


def _fingerprint() -> tuple:
    """One cheap query (primary-key maxima, the latest run, the managers' last refresh that
    wrote) that moves whenever data does."""
    d, c, r = (m._meta.db_table for m in (Delegation, DelegationChange, SyncRun))
    u, k = DirectoryUser._meta.db_table, SyncCursor._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT MAX(id) FROM {d}), (SELECT MAX(id) FROM {c}), "  # noqa: S608
            f"(SELECT MAX(id) FROM {u}), (SELECT id || ':' || status FROM {r} "
            f"ORDER BY id DESC LIMIT 1), (SELECT value FROM {k} WHERE name = %s)",
            [SyncCursor.MANAGERS_CHANGED],
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

    @property
    def charts(self) -> dict:
        """The three charts' figures, as organisation.js reads them (json_script), and where each
        bar leads: the table filtered to it (None for a bar no filter can show)."""
        return {
            "byAction": self.by_action,
            "byActionLinks": self.action_links,
            "byDepartment": self.by_department,
            "byDepartmentLinks": self.department_links,
            "overTime": self.over_time,
        }

    @property
    def action_rows(self) -> list[tuple[str, int, str]]:
        """(label, count, link) of each bar by action, for the table under the chart."""
        return [(*pair, link) for pair, link in zip(self.by_action, self.action_links, strict=True)]

    @property
    def department_rows(self) -> list[tuple[str, int, str | None]]:
        pairs = zip(self.by_department, self.department_links, strict=True)
        return [(*pair, link) for pair, link in pairs]

    @property
    def action_links(self) -> list[str]:
        return [table_link(action=a.field) for a in allowed_actions.ACTIONS]

    @property
    def department_links(self) -> list[str | None]:
        return [
            None if name in (NO_DEPARTMENT, OTHER_DEPARTMENTS) else table_link(department=name)
            for name, _ in self.by_department
        ]


TABLE_ANCHOR = "all-delegations"  # the table's section: filters and pages come back to it
NO_DEPARTMENT = "(no department)"
OTHER_DEPARTMENTS = "Other departments"


def table_link(**filters: str) -> str:
    """The organisation page's table, filtered, scrolled to the table."""
    return f"?{urlencode(filters)}#{TABLE_ANCHOR}"


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
            for field in allowed_actions.FIELDS
        },
        **{f"risk_{code}": Count("id", filter=rule_q(code)) for code in RISKS},
    )
    totals = {k: figures[k] for k in ("grants", "active", "delegators", "delegates")}
    totals["inactive"] = totals["grants"] - totals["active"]
    department_rows, totals["people"] = _departments()
    return Summary(
        totals=totals,
        by_action=[(a.label, figures[f"action_{a.field}"]) for a in allowed_actions.ACTIONS],
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
    top = [(name or NO_DEPARTMENT, n) for name, n in rows[:TOP_DEPARTMENTS]]
    rest = sum(n for _, n in rows[TOP_DEPARTMENTS:])
    return top + ([(OTHER_DEPARTMENTS, rest)] if rest else [])


def _risk_samples() -> dict[str, list[dict]]:
    """The first few grants of each risk, in one query: a limited subquery per risk picks the
    ids, and each risk's filter, annotated as a boolean, says which list a grant belongs to."""
    filters = {code: rule_q(code) for code in RISKS}
    ids = Q()
    for q in filters.values():
        ids |= Q(id__in=Delegation.objects.filter(q).order_by("id").values("id")[:RISK_SAMPLE])
    flags = {f"risk_{code}": ExpressionWrapper(q, BooleanField()) for code, q in filters.items()}
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
    """Grants added, changed and removed per day (UTC days), over the last HISTORY_DAYS."""
    since = timezone.now() - timedelta(days=HISTORY_DAYS)
    kinds = list(DelegationChange.Kind)
    rows = (
        DelegationChange.objects.filter(at__gte=since)
        # A plain cast is the database's own date() / ::date; TruncDate would call a Python
        # function per row on SQLite (2.5x slower over 300,000 changes).
        .annotate(day=Cast("at", DateField()))
        .values("day")
        .annotate(**{k.value: Count("id", filter=Q(kind=k.value)) for k in kinds})
        .order_by("day")
    )
    rows = list(rows)
    return {
        "labels": [row["day"].isoformat() for row in rows],
        "series": {k.label: [row[k.value] for row in rows] for k in kinds},
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


def grant_dict(g: Delegation) -> dict:
    return {
        "id": g.id,
        "delegator": _person_dict(g.delegator),
        "delegate": _person_dict(g.delegate),
        "is_active": g.is_active,
        "actions": {field: getattr(g, field) for field in allowed_actions.FIELDS},
        "first_seen": g.first_seen,
    }


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
        lambda: capped_count(qs),
    )
    return summary, table_page(qs, number, count)
