"""A reviewer's decisions: keep or revoke one item or many with one note. Checked here, on the
server, item by item: the reviewer is assigned, neither holds nor gave the grant, and the
campaign is open. Each decision is logged as a GrantReview (the portal's record of reviews,
which the "made outside the portal" rule reads) and audited."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from delegation.models import GrantReview
from portal import audit
from reviews import rules
from reviews.models import Campaign, CampaignItem

MAX_ITEMS = 500  # one bulk decision at most (a page is 50; select-all stays on the page)


@dataclass
class Decided:
    items: list[CampaignItem] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)  # item id -> why, in words


def refusal_for(user, item: CampaignItem) -> str | None:
    return rules.refusal(
        user_oid=getattr(user, "object_id", "") or "",
        reviewer_oid=item.reviewer.object_id if item.reviewer else None,
        delegator_oid=item.delegator.object_id,
        delegate_oid=item.delegate.object_id,
        open_=item.campaign.status == Campaign.Status.OPEN,
    )


def decide(*, user, item_ids: list[int], decision: str, note: str = "", request=None) -> Decided:
    """Record `decision` ("keep" or "revoke") on each of these items the user may decide."""
    if decision not in (CampaignItem.Decision.KEEP, CampaignItem.Decision.REVOKE):
        raise ValueError(f"unknown decision {decision!r}")
    out = Decided()
    now = timezone.now()
    with transaction.atomic():
        items = (
            CampaignItem.objects.select_for_update(of=("self",))
            .select_related("campaign", "reviewer", "delegator", "delegate")
            .filter(pk__in=item_ids[:MAX_ITEMS])
            .order_by("pk")
        )
        for item in items:
            why = refusal_for(user, item)
            if why:
                out.refused[item.pk] = why
            else:
                out.items.append(item)
        for missing in set(item_ids[:MAX_ITEMS]) - {i.pk for i in out.items} - set(out.refused):
            out.refused[missing] = rules.NOT_ASSIGNED
        _record(out.items, user, decision, note, now)
    _audit(out, user, decision, request)
    return out


def _record(items: list[CampaignItem], user, decision: str, note: str, now) -> None:
    reviews = GrantReview.objects.bulk_create(
        GrantReview(
            delegator_id=item.delegator_id,
            delegate_id=item.delegate_id,
            decision=decision,
            reason=f"campaign {item.campaign_id}"[:64],
            note=note,
            grant_snapshot=item.snapshot,
            reviewer=user,
        )
        for item in items
    )
    for item, review in zip(items, reviews, strict=True):
        item.decision, item.note, item.decided_by, item.decided_at = decision, note, user, now
        item.review, item.automatic = review, False
    CampaignItem.objects.bulk_update(
        items, ["decision", "note", "decided_by", "decided_at", "review", "automatic"]
    )


def _audit(out: Decided, user, decision: str, request) -> None:
    if out.items:
        audit.record(
            "review_campaign.decide",
            "success",
            request=request,
            actor=user,
            target=f"campaign {out.items[0].campaign_id}",
            decision=decision,
            item_ids=[item.pk for item in out.items],
        )
    if out.refused:
        audit.record(
            "review_campaign.decide",
            "denied",
            request=request,
            actor=user,
            item_ids=sorted(out.refused),
            reason=sorted(set(out.refused.values())),
        )
