"""Closing a campaign: what nobody reviewed is kept or revoked as the campaign says, then each
revoke becomes a removal change request through delegation.changes (its rules, approval policy,
Graph or Teams PowerShell, and verification against Teams); each item shows that request's
state as its outcome. The requests are made by a task (REMOVALS_TASK) once the close commits:
a campaign may hold thousands of revokes, more than a web request should wait for.

A campaign still open after its due date closes by itself (`close_overdue`, from beat), as Entra
ID's access reviews end at their end date: what nobody reviewed then gets the campaign's rule."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from delegation.changes.services.request import ChangeRefused, remove
from delegation.models import GrantReview
from portal.queue import enqueue
from reviews.models import Campaign, CampaignItem
from reviews.services import campaign_audit

CHUNK = 500
REMOVALS_TASK = "reviews.tasks.request_removals"


class AlreadyClosed(Exception):
    pass


def close_campaign(*, actor, campaign_id: int, request=None, automatic: bool = False) -> Campaign:
    """Close it (once: a second close raises AlreadyClosed), then queue the removals, asked for
    as `actor`. `automatic`: closed at the due date, nobody's act (`actor` is then the starter,
    whose role each removal is checked against)."""
    now = timezone.now()
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
        if campaign.status == Campaign.Status.CLOSED:
            raise AlreadyClosed(campaign.name)
        decided = _decide_the_unreviewed(campaign, now)
        campaign.status, campaign.closed_at = Campaign.Status.CLOSED, now
        campaign.closed_by = None if automatic else actor
        campaign.closed_automatically = automatic
        campaign.save(update_fields=["status", "closed_at", "closed_by", "closed_automatically"])
    campaign_audit.record(
        campaign,
        "close",
        actor=None if automatic else actor,
        request=request,
        unreviewed=decided,
        unreviewed_become=campaign.when_unreviewed,
        at_due_date=automatic,
        **({"who": "review campaign due date"} if automatic else {}),
    )
    queue_removals(campaign, actor)
    return campaign


def close_overdue(today=None) -> int:
    """Close every open campaign whose due date has passed (beat's task). Returns how many."""
    today = today or timezone.localdate()
    overdue = Campaign.objects.filter(status=Campaign.Status.OPEN, due_on__lt=today)
    closed = 0
    for campaign in overdue.select_related("started_by").order_by("pk"):
        try:
            close_campaign(actor=campaign.started_by, campaign_id=campaign.pk, automatic=True)
        except AlreadyClosed:
            continue  # closed by hand (or by another worker) since the query
        closed += 1
    return closed


def queue_removals(campaign: Campaign, actor) -> None:
    """Have a worker request the removals, as `actor` (who closed the campaign)."""
    enqueue(REMOVALS_TASK, campaign.pk, actor.pk if actor is not None else None)


def closer(campaign: Campaign):
    """Who the removal requests are asked for as: the closer, or the starter at the due date."""
    return campaign.started_by if campaign.closed_automatically else campaign.closed_by


def removals_left(campaign: Campaign) -> int:
    """Revoked items with neither a removal request nor a refusal yet."""
    return CampaignItem.objects.filter(
        campaign=campaign, decision="revoke", change_request__isnull=True, refusal=""
    ).count()


def request_removals_by_id(campaign_id: int, actor_id: int | None) -> int:
    """The task's service: the campaign and its closer by id."""
    campaign = Campaign.objects.get(pk=campaign_id)
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    return request_removals(campaign, actor)


def _decide_the_unreviewed(campaign: Campaign, now) -> int:
    """Nobody's decision: the campaign's, logged like a reviewer's (no reviewer named)."""
    decision = campaign.when_unreviewed
    note = f"Not reviewed by {campaign.due_on:%d %b %Y}: the campaign {decision}s such grants."
    pending = CampaignItem.objects.filter(campaign=campaign, decision="").order_by("pk")
    count, last = 0, 0
    while True:
        items = list(pending.filter(pk__gt=last)[:CHUNK])
        if not items:
            return count
        reviews = GrantReview.objects.bulk_create(
            GrantReview(
                delegator_id=item.delegator_id,
                delegate_id=item.delegate_id,
                decision=decision,
                reason=f"campaign {campaign.pk}",
                note=note,
                grant_snapshot=item.snapshot,
            )
            for item in items
        )
        for item, review in zip(items, reviews, strict=True):
            item.decision, item.note, item.decided_at = decision, note, now
            item.automatic, item.review = True, review
        CampaignItem.objects.bulk_update(
            items, ["decision", "note", "decided_at", "automatic", "review"]
        )
        count, last = count + len(items), items[-1].pk


def request_removals(campaign: Campaign, actor, request=None) -> int:
    """A removal request for each revoked item that has none yet (idempotent: a key per item,
    so a second run finds the same requests). Returns how many were made or found."""
    revoked = (
        CampaignItem.objects.filter(
            campaign=campaign, decision="revoke", change_request__isnull=True, refusal=""
        )
        .select_related("delegator", "delegate", "review")
        .order_by("pk")
    )
    made = 0
    for item in revoked.iterator(chunk_size=CHUNK):
        try:
            item.change_request = remove(
                actor=actor,
                delegator_id=item.delegator.object_id,
                delegate_id=item.delegate.object_id,
                idempotency_key=f"campaign-{campaign.pk}-item-{item.pk}",
                reason=_reason(campaign, item),
                review=item.review,
                request=request,
            )
            made += 1
        except ChangeRefused as refused:
            item.refusal = " ".join(refused.words) or "Refused."
        item.save(update_fields=["change_request", "refusal"])
    return made


def _reason(campaign: Campaign, item: CampaignItem) -> str:
    how = "nobody reviewed it" if item.automatic else "a reviewer revoked it"
    words = f'Review campaign "{campaign.name}": {how}.'
    return f"{words} {item.note}".strip()[:1000]
