"""The audit log page: read-only, filtered by action, outcome, actor and dates, paginated."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET

from portal import selectors
from portal.forms import AuditFilterForm
from portal.permissions import require_capability

PAGE_SIZE = 50


@require_capability("view_audit")
@require_GET
def audit_log(request):
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    page = Paginator(selectors.audit_events(filters), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "actions": selectors.audit_actions(),
        "query": query.urlencode(),
    }
    return render(request, "portal/audit.html", context)
