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
        "recent": _recent_with_requests(page.recent),
    }
    return render(request, "delegation/reviews.html", context, status=status)


def _recent_with_requests(recent) -> list[tuple]:
    """(review, its removal request or None, the Teams PowerShell command while it waits)."""
    made = reviews.revoke_requests(recent)
    rows = []
    for review in recent:
        change = made.get(review.pk)
        command = ""
        if reviews.waits_for_powershell(change):
            command = reviews.revoke_command(review.delegator, review.delegate)
        rows.append((review, change, command))
    return rows


def _record(request, form):
    grant = get_object_or_404(
        grant_selectors.grants_for_user(request.user), pk=form.cleaned_data["grant"]
    )
    review = reviews.record_review(
        grant=grant,
        decision=form.cleaned_data["decision"],
        reviewer=request.user,
        reason=form.cleaned_data["reason"],
        note=form.cleaned_data["note"],
        request=request,
    )
    _tell(request, review)
    url = reverse("delegation:reviews") + "?" + urlencode({"risk": form.cleaned_data["reason"]})
    return redirect(url)


def _tell(request, review) -> None:
    change = review.change_request
    if review.decision != "revoke":
        messages.success(request, "Decision recorded: keep the grant.")
    elif change is not None:
        messages.success(
            request,
            f"Revoke recorded: change request #{change.pk} removes the grant "
            f"({change.status_words.lower()}). Its state is under Recent decisions.",
        )
    else:
        words = " ".join(refusal.words for refusal in review.change_refusals)
        messages.warning(request, f"Revoke recorded, but no removal was requested: {words}")
