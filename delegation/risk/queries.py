"""The risk rules (delegation/risk/rules.py) over the database: a filter per rule on Delegation
(any number of grants, one query), and the facts of a page of grants or of the sync's
DelegationChange rows (a fixed number of queries whatever their number), explained."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery
from django.utils import timezone

from delegation.models import Delegation, DelegationChange, DirectoryUser, GrantReview, SyncRun
from delegation.risk import rules
from delegation.risk.rules import RULES, Finding, GrantFacts, Limits, OutsideChange, Party

SYNC_FOUND = (DelegationChange.Kind.ADDED, DelegationChange.Kind.CHANGED)


def limits() -> Limits:
    return Limits(
        inactive_days=settings.REVIEW_INACTIVE_DAYS, near_limit=settings.REVIEW_NEAR_LIMIT
    )


# ------------------------------------------------------------------ filters
def _in_chain() -> Q:
    # The explicit IS NOT NULLs keep the negation exact: NOT (x = NULL) is not true in SQL.
    manager = "delegator__manager_id"
    grand = "delegator__manager__manager_id"
    return (
        Q(**{f"{manager}__isnull": False}, delegate__object_id=F(manager))
        | Q(**{f"{grand}__isnull": False}, delegate__object_id=F(grand))
        | Q(delegate__manager_id__isnull=False, delegate__manager_id=F("delegator__object_id"))
    )


def _same_department() -> Q:
    return Q(delegator__department=F("delegate__department")) & ~Q(delegator__department="")


def baseline_run() -> Subquery:
    """The first sync that read the tenant: what it found is where the portal started."""
    first = SyncRun.objects.filter(status__in=SyncRun.READ_OK_STATUSES)
    return Subquery(first.order_by("finished_at", "id").values("id")[:1])


def _unreviewed_sync_changes(pair: Q | None = None):
    """Grants added or changed as a sync found them (not by the portal's verified changes),
    after the first sync, with no review of the pair since."""
    reviewed = GrantReview.objects.filter(
        delegator_id=OuterRef("delegator_id"),
        delegate_id=OuterRef("delegate_id"),
        at__gte=OuterRef("at"),
    )
    return (
        DelegationChange.objects.filter(pair or Q(), run__isnull=False, kind__in=SYNC_FOUND)
        .exclude(run_id=baseline_run())
        .filter(~Exists(reviewed))
    )


def _near_limit_delegators(near: int):
    counts = Delegation.objects.values("delegator_id").annotate(n=Count("id")).filter(n__gte=near)
    return counts.values("delegator_id")


def rule_q(rule_id: str, now: datetime | None = None, limits_: Limits | None = None) -> Q:
    """The filter on Delegation that finds the grants `rule_id` flags."""
    now, lim = now or timezone.now(), limits_ or limits()
    if rule_id == "manage_outside":
        return Q(is_active=True, manage_settings=True) & ~_same_department() & ~_in_chain()
    if rule_id == "disabled_or_removed":
        q = Q()
        for side in ("delegator", "delegate"):
            q |= Q(**{f"{side}__account_enabled": False})
            q |= Q(**{f"{side}__in_directory": False})
            q |= Q(**{f"{side}__removed_at__isnull": False})
        return q
    if rule_id == "inactive":
        return Q(is_active=False, last_changed__lte=now - timedelta(days=lim.inactive_days))
    if rule_id == "near_limit":
        return Q(is_active=False, delegator_id__in=_near_limit_delegators(lim.near_limit))
    if rule_id == "outside_portal":
        pair = Q(delegator_id=OuterRef("delegator_id"), delegate_id=OuterRef("delegate_id"))
        return Q(Exists(_unreviewed_sync_changes(pair)))
    raise KeyError(rule_id)


def any_rule_q(now: datetime | None = None) -> Q:
    """Grants any rule flags."""
    q = Q()
    for rule_id in RULES:
        q |= rule_q(rule_id, now)
    return q


# ------------------------------------------------------------------ facts
def party(person: DirectoryUser) -> Party:
    return Party(
        object_id=person.object_id,
        name=person.display_name,
        department=person.department,
        enabled=person.account_enabled,
        in_directory=person.in_directory,
        removed=person.removed_at is not None,
        manager_id=person.manager_id,
    )


class Context:
    """What the rules need beyond the rows themselves, for a set of delegators and pairs:
    managers two levels up, each delegator's number of grants, and the unreviewed changes a
    sync found: five queries whatever the number of rows."""

    def __init__(self, pairs: Iterable[tuple[DirectoryUser, DirectoryUser]]):
        pairs = list(pairs)
        delegators = {a.pk: a for a, _ in pairs}
        self.counts = dict(
            Delegation.objects.filter(delegator_id__in=list(delegators))
            .values_list("delegator_id")
            .annotate(n=Count("id"))
            .values_list("delegator_id", "n")
        )
        self.managers = self._managers({a.manager_id for a in delegators.values()} - {None})
        self.outside = self._outside([(a.pk, b.pk) for a, b in pairs])

    @staticmethod
    def _managers(first: set[str]) -> dict[str, str | None]:
        """object id -> their manager's object id, for the managers and their managers."""
        out: dict[str, str | None] = {}
        wanted = first
        for _ in range(2):
            rows = DirectoryUser.objects.filter(object_id__in=list(wanted))
            found = dict(rows.values_list("object_id", "manager_id"))
            out.update(found)
            wanted = {m for m in found.values() if m and m not in out}
        return out

    @staticmethod
    def _outside(pairs: list[tuple[int, int]]) -> dict[tuple[int, int], OutsideChange]:
        """The latest unreviewed change a sync found, per pair (one query)."""
        wanted = set(pairs)
        if not wanted:
            return {}
        delegators = list({a for a, _ in wanted})
        changes = _unreviewed_sync_changes(Q(delegator_id__in=delegators)).order_by("at", "id")
        out = {}
        for a, b, kind, at in changes.values_list("delegator_id", "delegate_id", "kind", "at"):
            if (a, b) in wanted:
                out[(a, b)] = OutsideChange(kind, at)
        return out

    def chain(self, delegator: DirectoryUser) -> tuple[str, ...]:
        first = delegator.manager_id
        if not first:
            return ()
        second = self.managers.get(first)
        return (first, second) if second else (first,)


def grant_facts(grant: Delegation, context: Context) -> GrantFacts:
    a, b = grant.delegator, grant.delegate
    return GrantFacts(
        delegator=party(a),
        delegate=party(b),
        is_active=grant.is_active,
        manage_settings=grant.manage_settings,
        inactive_since=None if grant.is_active else grant.last_changed,
        delegator_grants=context.counts.get(a.pk, 0),
        chain=context.chain(a),
        outside=context.outside.get((a.pk, b.pk)),
    )


def findings_for_grants(grants: list[Delegation], now=None) -> dict[int, list[Finding]]:
    """grant id -> what each rule says of it (grants with delegator and delegate loaded)."""
    now, lim = now or timezone.now(), limits()
    context = Context((g.delegator, g.delegate) for g in grants)
    return {g.pk: rules.explain(grant_facts(g, context), lim, now) for g in grants}


def findings_for_changes(changes: list[DelegationChange], now=None) -> dict[int, list[Finding]]:
    """change id -> what each rule says of the grant as the change left it (its `after`; a
    removal flags nothing: the grant is gone). The sync's own rows (run set, not the baseline
    run) count as made outside the portal. Rows with delegator and delegate loaded."""
    now, lim = now or timezone.now(), limits()
    context = Context((c.delegator, c.delegate) for c in changes)
    baseline = SyncRun.objects.filter(status__in=SyncRun.READ_OK_STATUSES)
    first = baseline.order_by("finished_at", "id").values_list("id", flat=True).first()
    out = {}
    for change in changes:
        after = change.after or {}
        if change.kind == DelegationChange.Kind.REMOVED or not after:
            out[change.pk] = []
            continue
        outside = None
        if change.run_id is not None and change.run_id != first:
            outside = OutsideChange(change.kind, change.at)
        a, b = change.delegator, change.delegate
        active = bool(after.get("is_active", True))
        facts = GrantFacts(
            delegator=party(a),
            delegate=party(b),
            is_active=active,
            manage_settings=bool(after.get("manage_settings")),
            inactive_since=None if active else change.at,
            delegator_grants=context.counts.get(a.pk, 0),
            chain=context.chain(a),
            outside=outside,
        )
        out[change.pk] = rules.explain(facts, lim, now)
    return out
