"""Views of the grant reviews: the risky grants of one risk, and a manager's keep or revoke."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods

from delegation import reviews
from delegation.forms import ReviewForm, row_id
from delegation.selectors import grants as grant_selectors
from portal.permissions import require_capability


@require_http_methods(["GET", "POST"])
@require_capability("review_grants")
def grant_reviews(request):
    status = 200
    if request.method == "POST":
        form = ReviewForm(request.POST)
        if form.is_valid():
            return _record(request, form)
        status = 400
    page = grant_selectors.review_page(
        request.user,
        risk=request.GET.get("risk") or request.POST.get("reason"),
        after=row_id(request.GET, "after"),
    )
    context = {
        "risk": page.risk,
        "risks": grant_selectors.RISKS,
        "rows": page.rows,
        "next_after": page.next_after,
        "recent": page.recent,
        "revoke_command": request.session.pop("revoke_command", ""),
    }
    return render(request, "delegation/reviews.html", context, status=status)


def _record(request, form):
    grant = get_object_or_404(
        grant_selectors.grants_for_user(request.user), pk=form.cleaned_data["grant"]
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
