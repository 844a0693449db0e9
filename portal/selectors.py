"""Reads of the portal's own tables: the audit log."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.utils import timezone

from portal.models import AuditEvent


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


def audit_actions():
    """Every action name the log holds, for the filter's suggestions."""
    return AuditEvent.objects.order_by("action").values_list("action", flat=True).distinct()
