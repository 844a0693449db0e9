"""The notifications page: digests newest first, each expandable, read or unread per person;
admins send a failed delivery again."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from alerts import deliveries, reading, selectors
from portal.permissions import require_capability


def _page_number(request) -> int:
    try:
        return int(request.GET.get("page", "1"))
    except ValueError:
        return 1


@require_GET
@require_capability("view_alerts")
def notifications(request):
    context = selectors.digests_page(request.user, _page_number(request))
    return render(request, "alerts/notifications.html", context)


@require_POST
@require_capability("view_alerts")
def mark_read(request, pk: int):
    if not reading.mark_read(request.user, pk):
        raise Http404("no such digest")
    return redirect(f"{reverse('alerts:list')}#digest-{pk}")


@require_POST
@require_capability("view_alerts")
def mark_all_read(request):
    reading.mark_all_read(request.user)
    return redirect("alerts:list")


@require_POST
@require_capability("retry_alert_delivery")
def retry(request, pk: int):
    if deliveries.retry_now(request.user, pk, request=request):
        messages.success(request, "The delivery is being sent again.")
    else:
        messages.error(request, "That delivery has not failed: there is nothing to retry.")
    return redirect("alerts:list")
