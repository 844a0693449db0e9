"""The audit log page: read-only, filtered by action, outcome, actor and dates, paginated."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from portal.models import AuditEvent
from portal.permissions import require_capability

PAGE_SIZE = 50


class AuditFilterForm(forms.Form):
    action = forms.CharField(required=False, max_length=64)
    outcome = forms.ChoiceField(
        required=False, choices=[("", "Any outcome"), *AuditEvent.Outcome.choices]
    )
    actor = forms.CharField(required=False, max_length=256, label="Who")
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))


def audit_events(filters: dict):
    """Events matching the cleaned filters, newest first (the page's only query)."""
    events = AuditEvent.objects.select_related("actor")
    if filters.get("action"):
        events = events.filter(action__startswith=filters["action"])
    if filters.get("outcome"):
        events = events.filter(outcome=filters["outcome"])
    if filters.get("actor"):
        who = filters["actor"]
        events = events.filter(Q(actor_label__icontains=who) | Q(actor__upn__icontains=who))
    zone = timezone.get_current_timezone()
    if filters.get("since") and filters["since"] > dt.date.min:  # in UTC+x it would be year 0
        start = dt.datetime.combine(filters["since"], dt.time.min, tzinfo=zone)
        events = events.filter(at__gte=start)
    if filters.get("until") and filters["until"] < dt.date.max:  # the last day has no next day
        end = dt.datetime.combine(filters["until"] + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
        events = events.filter(at__lt=end)
    return events.order_by("-at", "-id")


def known_actions():
    return AuditEvent.objects.order_by("action").values_list("action", flat=True).distinct()


@require_capability("view_audit")
@require_GET
def audit_log(request):
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    page = Paginator(audit_events(filters), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "actions": AuditEvent.objects.order_by("action")
        .values_list("action", flat=True)
        .distinct(),
        "query": query.urlencode(),
    }
    return render(request, "portal/audit.html", context)
