"""Views of the organisation dashboard: summary and charts, the table, its export, reviews."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods

from delegation import exports, reviews, selectors_grants, selectors_org
from delegation.forms import DelegationFilterForm, ReviewForm
from portal.permissions import require_capability


@require_GET
@require_capability("view_organisation")
def organisation(request):
    form = DelegationFilterForm(request.GET or None)
    filters = form.filters()
    number = getattr(form, "cleaned_data", {}).get("page") or 1  # filters() cleaned the form
    summary, page = selectors_org.organisation_page(filters, number)
    return render(
        request,
        "delegation/organisation.html",
        {
            "summary": summary,
            "charts": {
                "byAction": summary.by_action,
                "byDepartment": summary.by_department,
                "overTime": summary.over_time,
            },
            "risks": selectors_grants.RISKS,
            "form": form,
            "page": page,
            "query": urlencode(filters),
            "query_unsorted": urlencode({k: v for k, v in filters.items() if k != "sort"}),
            "sort": filters.get("sort", "newest"),
        },
    )


@require_GET
@require_capability("view_organisation")
def org_export(request):
    """Exactly the table's filtered rows, as CSV streamed from a server-side cursor."""
    form = DelegationFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        # Dropping a bad filter would export more rows than were asked for.
        return HttpResponseBadRequest("Invalid filters: " + ", ".join(form.errors))
    qs = selectors_grants.filtered_delegations(**form.filters())
    response = StreamingHttpResponse(exports.csv_lines(qs), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="delegations-{stamp}.csv"'
    return response


@require_http_methods(["GET", "POST"])
@require_capability("review_grants")
def grant_reviews(request):
    risk = request.GET.get("risk") or request.POST.get("reason") or "manage_settings"
    if risk not in selectors_grants.RISKS:
        risk = "manage_settings"
    status = 200
    if request.method == "POST":
        form = ReviewForm(request.POST)
        if form.is_valid():
            return _record(request, form)
        status = 400
    after = _int(request.GET.get("after"))
    grants = selectors_grants.risky_grants(risk, after_id=after)
    latest = selectors_grants.latest_reviews([(g.delegator_id, g.delegate_id) for g in grants])
    context = {
        "risk": risk,
        "risks": selectors_grants.RISKS,
        "rows": [(g, latest.get((g.delegator_id, g.delegate_id))) for g in grants],
        "next_after": grants[-1].id if len(grants) == selectors_grants.PAGE_SIZE else None,
        "recent": selectors_grants.recent_reviews(),
        "revoke_command": request.session.pop("revoke_command", ""),
    }
    return render(request, "delegation/reviews.html", context, status=status)


def _record(request, form):
    grant = get_object_or_404(
        selectors_grants.grants_for_user(request.user), pk=form.cleaned_data["grant"]
    )
    decision = form.cleaned_data["decision"]
    reviews.record_review(
        grant=grant,
        decision=decision,
        reviewer=request.user,
        reason=form.cleaned_data["reason"],
        note=form.cleaned_data["note"],
        request=request,
    )
    if decision == "revoke":
        # Shown once on the next page: Graph cannot remove a grant, Teams PowerShell can.
        request.session["revoke_command"] = reviews.revoke_command(grant.delegator, grant.delegate)
        messages.warning(request, "Revoke recorded. Run the command below in Teams PowerShell.")
    else:
        messages.success(request, "Decision recorded: keep the grant.")
    url = reverse("delegation:reviews") + "?" + urlencode({"risk": form.cleaned_data["reason"]})
    return redirect(url)


def _int(value) -> int:
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return 0
