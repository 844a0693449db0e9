"""What the delegation app tells the portal's own pages (registered in `DelegationConfig.ready`).

`portal` is the floor and never imports an app, so its home page and base layout ask these
hooks through `portal.extensions` instead of querying delegations themselves.
"""

from __future__ import annotations

from django.db.models import Q
from django.urls import reverse

from delegation.models import Delegation, SyncRun
from portal.roles import user_roles


def landing(user) -> str | None:
    """People with a role, delegates and delegators land on their own delegations."""
    if user_roles(user) or user.is_superuser or _takes_part_in_delegation(user):
        return reverse("delegation:mine")
    return None


def _takes_part_in_delegation(user) -> bool:
    if not user.object_id:
        return False
    return Delegation.objects.filter(
        Q(delegator__object_id=user.object_id) | Q(delegate__object_id=user.object_id)
    ).exists()


def footer(request) -> dict:
    """The last time a sync finished with data, shown in every page's footer."""
    last_sync = (
        SyncRun.objects.filter(status__in=[SyncRun.Status.SUCCEEDED, SyncRun.Status.PARTIAL])
        .order_by("-finished_at")
        .values_list("finished_at", flat=True)
        .first()
    )
    return {"last_sync_at": last_sync}


def setup_facts() -> dict:
    """For the admin's setup guide: has a sync ever read the tenant, and where syncs start."""
    done = SyncRun.objects.filter(status__in=SyncRun.READ_OK_STATUSES).exists()
    return {"first_sync_done": done, "first_sync_url": reverse("delegation:sync_list")}
