"""Starting a campaign: the grants in scope become items, each with a snapshot, the risks that
flagged it then and its reviewer, bulk-created in chunks (10,000 grants in well under 10 s)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet

from delegation.models import Delegation, DelegationChange, DirectoryUser, GrantReview
from delegation.risk.queries import rule_q
from delegation.risk.rules import RULES
from portal import allowed_actions
from portal.db import refresh_planner_statistics
from reviews import rules
from reviews.models import Campaign, CampaignItem
from reviews.services import campaign_audit

CHUNK = 2000
FIELDS = allowed_actions.FIELDS


def scope_grants(scope: str, value: str) -> QuerySet[Delegation]:
    grants = Delegation.objects.all()
    if scope == Campaign.Scope.DEPARTMENT:
        return grants.filter(delegator__department=value)
    if scope == Campaign.Scope.RISK:
        return grants.filter(rule_q(value))
    return grants


def start_campaign(
    *,
    actor,
    name: str,
    scope: str,
    scope_value: str,
    reviewers: str,
    named: list[DirectoryUser],
    due_on,
    when_unreviewed: str,
    request=None,
) -> Campaign:
    """Create the campaign and its items in one transaction, then audit."""
    with transaction.atomic():
        campaign = Campaign.objects.create(
            name=name,
            scope=scope,
            scope_value=scope_value if scope != Campaign.Scope.ALL else "",
            reviewers=reviewers,
            due_on=due_on,
            when_unreviewed=when_unreviewed,
            started_by=actor,
        )
        if reviewers == Campaign.Reviewers.NAMED:
            campaign.named_reviewers.set(named)
        campaign.items_total = _create_items(campaign, actor, named)
        campaign.save(update_fields=["items_total"])
    campaign_audit.record(
        campaign,
        "start",
        actor=actor,
        request=request,
        scope=scope,
        scope_value=campaign.scope_value,
        reviewers=reviewers,
        item_count=campaign.items_total,
    )
    return campaign


def _create_items(campaign: Campaign, actor, named_people: list[DirectoryUser]) -> int:
    # A campaign often follows a first sync or a large import: let the planner see the sizes.
    refresh_planner_statistics(Delegation, DirectoryUser, DelegationChange, GrantReview)
    grants = scope_grants(campaign.scope, campaign.scope_value)
    flagged: dict[int, list[str]] = {}
    for rule_id in RULES:  # one query per rule, whatever the scope's size
        for pk in grants.filter(rule_q(rule_id)).values_list("pk", flat=True):
            flagged.setdefault(pk, []).append(rule_id)
    rows = grants.order_by("delegator_id", "id").values_list(
        "pk",
        "delegator_id",
        "delegate_id",
        "is_active",
        "created_in_teams",
        *FIELDS,
        "delegator__object_id",
        "delegate__object_id",
        "delegator__manager_id",
    )
    named = [p.object_id for p in named_people]
    people = _reviewer_people(grants, actor)
    people.pks.update({p.object_id: p.pk for p in named_people})
    starter = getattr(actor, "object_id", "") or None
    turn, last_delegator, count, batch = -1, None, 0, []
    for pk, a_pk, b_pk, active, created, *rest in rows.iterator(chunk_size=CHUNK):
        flags, (a_oid, b_oid, manager) = rest[: len(FIELDS)], rest[len(FIELDS) :]
        if a_pk != last_delegator:
            turn, last_delegator = turn + 1, a_pk
        if named:
            candidates = rules.named_candidates(named, turn)
        else:
            candidates = [manager, people.managers.get(manager or ""), starter]
        reviewer = rules.pick_reviewer(candidates, (a_oid, b_oid))
        snapshot = dict(zip(FIELDS, flags, strict=True))
        snapshot["is_active"] = active
        snapshot["created_in_teams"] = created.isoformat() if created else None
        risks = flagged.get(pk)
        batch.append(
            CampaignItem(
                campaign=campaign,
                grant_id=pk,
                delegator_id=a_pk,
                delegate_id=b_pk,
                snapshot=snapshot,
                risks=f",{','.join(risks)}," if risks else "",
                reviewer_id=people.pks.get(reviewer or ""),
            )
        )
        if len(batch) >= CHUNK:
            count += len(CampaignItem.objects.bulk_create(batch))
            batch = []
    if batch:
        count += len(CampaignItem.objects.bulk_create(batch))
    return count


class _People:
    def __init__(self):
        self.pks: dict[str, int] = {}  # object id -> pk, of every possible reviewer
        self.managers: dict[str, str | None] = {}  # manager's object id -> their manager's


def _reviewer_people(grants: QuerySet[Delegation], actor) -> _People:
    """The delegators' managers and their managers, the named reviewers and the starter, by
    object id. Ids are read, then looked up in chunks: subqueries nested one in another let
    PostgreSQL choose a plan that ran for minutes on a few thousand people."""
    out = _People()
    managers = set(grants.values_list("delegator__manager_id", flat=True).distinct()) - {None}
    for rows in _by_object_id(managers, "pk", "object_id", "manager_id"):
        for pk, oid, manager in rows:
            out.pks[oid], out.managers[oid] = pk, manager
    above = {m for m in out.managers.values() if m} - out.pks.keys()
    for rows in _by_object_id(above, "object_id", "pk"):
        out.pks.update(rows)
    starter = DirectoryUser.objects.filter(object_id=getattr(actor, "object_id", "") or "-")
    out.pks.update(starter.values_list("object_id", "pk"))
    return out


def _by_object_id(object_ids: set[str], *fields: str):
    """`fields` of the people with these object ids, a chunk of ids a query."""
    ordered = sorted(object_ids)
    for start in range(0, len(ordered), CHUNK):
        chunk = ordered[start : start + CHUNK]
        yield DirectoryUser.objects.filter(object_id__in=chunk).values_list(*fields)
