"""Views of the organisation dashboard: summary and charts, the table and its CSV export."""

from __future__ import annotations

from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from delegation import exports
from delegation.forms import DelegationFilterForm
from delegation.selectors import grants as grant_selectors
from delegation.selectors import organisation as organisation_selectors
from portal.permissions import require_capability


@require_GET
@require_capability("view_organisation")
def organisation(request):
    form = DelegationFilterForm(request.GET or None)
    filters, number = form.filters_and_page()
    summary, page = organisation_selectors.organisation_page(filters, number)
    return render(
        request,
        "delegation/organisation.html",
        {
            "summary": summary,
            "charts": summary.charts,
            "risks": grant_selectors.RISKS,
            "form": form,
            "page": page,
            "query": urlencode(filters),
            "filtered": any(v for k, v in filters.items() if k != "sort"),
            "anchor": organisation_selectors.TABLE_ANCHOR,
            "query_unsorted": urlencode({k: v for k, v in filters.items() if k != "sort"}),
            "sort": filters.get("sort", grant_selectors.DEFAULT_SORT),
            "descending_sorts": grant_selectors.DESCENDING_SORTS,
        },
    )


@require_GET
@require_capability("view_organisation")
def org_export(request):
    """Exactly the table's filtered rows, as CSV streamed from a server-side cursor."""
    form = DelegationFilterForm(request.GET or None)
    filters, _ = form.filters_and_page()
    if form.errors:
        # Dropping a bad filter would export more rows than were asked for.
        return HttpResponseBadRequest("Invalid filters: " + ", ".join(form.errors))
    qs = grant_selectors.filtered_delegations(**filters)
    response = StreamingHttpResponse(exports.csv_lines(qs), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="delegations-{stamp}.csv"'
    return response
