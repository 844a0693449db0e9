"""Reads for review campaigns: a reviewer's queue (a fixed number of queries whatever the
campaign's size), progress per reviewer, the campaigns list and the report's rows."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet

from delegation.models import DirectoryUser
from delegation.risk.queries import findings_for_grants
from delegation.risk.rules import Finding
from delegation.selectors.people import prefix_q
from portal.db import newest_first
from reviews.models import Campaign, CampaignItem

PAGE_SIZE = 50
REPORT_PAGE_LIMIT = 2000  # the printable page; the CSV holds every item


@dataclass
class QueueFilters:
    status: str = "unreviewed"  # "unreviewed" or "all"
    risk: str = ""  # a rule id, or "" for any
    person: str = ""  # the start of a delegator's or delegate's name, UPN or mail
    campaign: int | None = None


@dataclass
class QueueRow:
    item: CampaignItem
    findings: list[Finding]


@dataclass
class QueuePage:
    rows: list[QueueRow]
    next_after: int | None
    left: int  # unreviewed items left in the reviewer's queue (all open campaigns)
    campaigns: list[Campaign] = field(default_factory=list)


def queue_items(user) -> QuerySet[CampaignItem]:
    """Every open item assigned to this person, except grants they hold or gave."""
    oid = getattr(user, "object_id", "") or ""
    if not oid:
        return CampaignItem.objects.none()
    return (
        CampaignItem.objects.filter(reviewer__object_id=oid, campaign__status=Campaign.Status.OPEN)
        .exclude(delegator__object_id=oid)
        .exclude(delegate__object_id=oid)
    )


def queue_page(user, filters: QueueFilters, after: int | None = None) -> QueuePage:
    """One page of the person's queue, keyset-paged by item id: six queries or so, the same
    at 100 items or 100,000 (the rows with their people, the risks' facts, what is left)."""
    items = queue_items(user)
    left = items.filter(decision="").count()
    if filters.status != "all":
        items = items.filter(decision="")
    if filters.risk:
        items = items.filter(risks__contains=f",{filters.risk},")
    if filters.person:
        people = DirectoryUser.objects.filter(prefix_q(filters.person)).values("id")
        items = items.filter(Q(delegator_id__in=people) | Q(delegate_id__in=people))
    if filters.campaign:
        items = items.filter(campaign_id=filters.campaign)
    page = list(
        items.filter(id__gt=after or 0)
        .select_related("campaign", "delegator", "delegate", "grant", "change_request")
        .order_by("id")[:PAGE_SIZE]
    )
    return QueuePage(
        rows=explained(page),
        next_after=page[-1].pk if len(page) == PAGE_SIZE else None,
        left=left,
    )


def explained(items: list[CampaignItem]) -> list[QueueRow]:
    """Each item with what the risk rules say of its grant now (gone grants: nothing)."""
    grants = []
    for item in items:
        if item.grant is not None:
            item.grant.delegator, item.grant.delegate = item.delegator, item.delegate
            grants.append(item.grant)
    findings = findings_for_grants(grants) if grants else {}
    return [QueueRow(item, findings.get(item.grant_id, []) if item.grant else []) for item in items]


def items_for_rows(user, item_ids: list[int]) -> list[QueueRow]:
    """The rows just decided, for the page to swap in (only the person's own)."""
    items = (
        CampaignItem.objects.filter(pk__in=item_ids)
        .filter(Q(pk__in=queue_items(user).values("pk")) | Q(decided_by=user))
        .select_related("campaign", "delegator", "delegate", "grant", "change_request")
        .order_by("id")
    )
    return explained(list(items))


@dataclass
class ReviewerProgress:
    reviewer: DirectoryUser | None
    total: int
    kept: int
    revoked: int

    @property
    def decided(self) -> int:
        return self.kept + self.revoked

    @property
    def pending(self) -> int:
        return self.total - self.decided

    @property
    def percent(self) -> int:
        return round(100 * self.decided / self.total) if self.total else 100


def progress(campaign: Campaign) -> list[ReviewerProgress]:
    """Per reviewer (None: nobody could be assigned): two queries."""
    rows = (
        CampaignItem.objects.filter(campaign=campaign)
        .values("reviewer")
        .annotate(
            total=Count("id"),
            kept=Count("id", filter=Q(decision="keep", automatic=False)),
            revoked=Count("id", filter=Q(decision="revoke", automatic=False)),
        )
        .order_by("reviewer")
    )
    rows = list(rows)
    people = DirectoryUser.objects.in_bulk([r["reviewer"] for r in rows if r["reviewer"]])
    out = [
        ReviewerProgress(people.get(r["reviewer"]), r["total"], r["kept"], r["revoked"])
        for r in rows
    ]
    return sorted(out, key=lambda p: (p.reviewer is None, p.reviewer.label if p.reviewer else ""))


def reassign_sources(rows: list[ReviewerProgress]) -> list[tuple[str, str]]:
    """(value, label) of the reviewers, and "nobody", with grants left to decide."""
    return [
        (
            str(p.reviewer.pk) if p.reviewer else "nobody",
            f"{p.reviewer.label if p.reviewer else 'Nobody could be assigned'} ({p.pending} left)",
        )
        for p in rows
        if p.pending
    ]


def _with_decided_count():
    # Items with a decision, a reviewer's or the one closing made.
    return Campaign.objects.annotate(decided=Count("items", filter=~Q(items__decision="")))


def campaigns() -> list[Campaign]:
    """Every campaign with its decided count (one query)."""
    return list(_with_decided_count().select_related("started_by")[:200])


CAMPAIGNS_PAGE_SIZE = 25


def campaigns_page(before_id: int | None = None) -> tuple[list[Campaign], int | None]:
    """Newest campaigns first with their decided count, keyset-paged on id (the API's list);
    returns the page and the id to continue before (None on the last page)."""
    return newest_first(_with_decided_count(), before_id, CAMPAIGNS_PAGE_SIZE)


def decided_count(campaign: Campaign) -> int:
    """Items with a decision, as `decided` counts them in the lists."""
    return _with_decided_count().get(pk=campaign.pk).decided


def campaign(pk: int) -> Campaign | None:
    return Campaign.objects.select_related("started_by", "closed_by").filter(pk=pk).first()


def report_items(campaign: Campaign) -> QuerySet[CampaignItem]:
    """Every item with who decided what, when and why, its removal request and the grant as
    Teams holds it now (the cache after the last sync or verification)."""
    return (
        CampaignItem.objects.filter(campaign=campaign)
        .select_related(
            "delegator", "delegate", "reviewer", "decided_by", "change_request", "grant"
        )
        .order_by("id")
    )


def pending_count(user) -> int:
    return queue_items(user).filter(decision="").count()
