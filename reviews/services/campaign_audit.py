"""The audit trail of a campaign: every step (start, reassign, close, remind) is one event of
action "review_campaign.<step>" whose target is the campaign, so its history is one filter."""

from __future__ import annotations

from portal import audit
from reviews.models import Campaign


def record(campaign: Campaign, step: str, *, actor=None, request=None, **detail) -> None:
    audit.record(
        f"review_campaign.{step}",
        "success",
        request=request,
        actor=actor,
        target=f"campaign {campaign.pk}",
        **detail,
    )
