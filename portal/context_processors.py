from django.conf import settings

from portal.roles import CAPABILITIES, user_has_capability


def portal(request):
    """What the base layout needs: version, capabilities for the navigation, last sync time."""
    from delegation.models import SyncRun

    user = getattr(request, "user", None)
    caps = {}
    if user is not None and user.is_authenticated:
        caps = {code: user_has_capability(user, code) for code in CAPABILITIES}
    last_sync = (
        SyncRun.objects.filter(status__in=[SyncRun.Status.SUCCEEDED, SyncRun.Status.PARTIAL])
        .order_by("-finished_at")
        .values_list("finished_at", flat=True)
        .first()
    )
    return {"portal_version": settings.PORTAL_VERSION, "can": caps, "last_sync_at": last_sync}
