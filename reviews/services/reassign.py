"""Moving a reviewer's undecided grants (or those nobody could be assigned) to someone else:
a reviewer on leave, a manager who left, a named reviewer who holds some of the grants. The
rule that nobody reviews a grant they hold or gave holds here too: such grants stay where they
are, and the page says how many."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q

from delegation.models import DirectoryUser
from reviews.models import Campaign, CampaignItem
from reviews.services import campaign_audit


class NotOpen(Exception):
    pass


@dataclass(frozen=True)
class Reassigned:
    moved: int
    theirs: int  # grants the new reviewer holds or gave: not moved


def reassign(
    *, actor, campaign_id: int, source_id: int | None, to: DirectoryUser, request=None
) -> Reassigned:
    """Give `to` the undecided items of reviewer `source_id` (None: the unassigned ones)."""
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
        if campaign.status != Campaign.Status.OPEN:
            raise NotOpen(campaign.name)
        pending = CampaignItem.objects.filter(campaign=campaign, decision="")
        if source_id is None:
            pending = pending.filter(reviewer__isnull=True)
        else:
            pending = pending.filter(reviewer_id=source_id)
        own = Q(delegator=to) | Q(delegate=to)
        theirs = pending.filter(own).count()
        moved = pending.exclude(own).update(reviewer=to)
    campaign_audit.record(
        campaign,
        "reassign",
        actor=actor,
        request=request,
        source=source_id,
        to=to.upn,
        moved=moved,
        kept_theirs=theirs,
    )
    return Reassigned(moved, theirs)
