"""What the delegation app tells the portal's own pages (registered in `DelegationConfig.ready`).

`portal` is the floor and never imports an app, so its home page, base layout and the check made
at each signed-in request ask these hooks through `portal.extensions` instead of querying the
delegation cache themselves.
"""

from __future__ import annotations

from django.db.models import Q
from django.urls import reverse

from delegation.models import Delegation, DirectoryUser, SyncRun
from portal import extensions
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


def access_refusal(user) -> str | None:
    """What the last sync saw of the person in Entra ID: "disabled", "removed", or None (fine,
    or not in the cache yet). One query by the unique object id."""
    if not user.object_id:
        return None
    seen = (
        DirectoryUser.objects.filter(object_id=user.object_id)
        .values_list("account_enabled", "in_directory", "removed_at")
        .first()
    )
    if seen is None:
        return None
    enabled, in_directory, removed_at = seen
    if not in_directory or removed_at is not None:
        return "removed"
    return None if enabled else "disabled"


def footer(request) -> dict:
    """The last time a sync finished with data, shown in every page's footer (read once, and
    only where a footer is drawn: not for htmx fragments)."""
    return {"last_sync_at": extensions.lazy_fact(_last_sync_at)}


def _last_sync_at():
    return (
        SyncRun.objects.filter(status__in=[SyncRun.Status.SUCCEEDED, SyncRun.Status.PARTIAL])
        .order_by("-finished_at")
        .values_list("finished_at", flat=True)
        .first()
    )


def setup_facts() -> dict:
    """For the admin's setup guide: has a sync ever read the tenant, and where syncs start."""
    done = SyncRun.objects.filter(status__in=SyncRun.READ_OK_STATUSES).exists()
    return {"first_sync_done": done, "first_sync_url": reverse("delegation:sync_list")}
