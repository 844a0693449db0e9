"""Views of the grant reviews: the risky grants of one risk, and a manager's keep or revoke."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods

from delegation import reviews
from delegation.forms import ReviewForm
from delegation.selectors import grants as grant_selectors
from portal.permissions import require_capability


@require_http_methods(["GET", "POST"])
@require_capability("review_grants")
def grant_reviews(request):
    risk = request.GET.get("risk") or request.POST.get("reason") or "manage_settings"
    if risk not in grant_selectors.RISKS:
        risk = "manage_settings"
    status = 200
    if request.method == "POST":
        form = ReviewForm(request.POST)
        if form.is_valid():
            return _record(request, form)
        status = 400
    after = _int(request.GET.get("after"))
    grants = grant_selectors.risky_grants(risk, after_id=after)
    latest = grant_selectors.latest_reviews([(g.delegator_id, g.delegate_id) for g in grants])
    context = {
        "risk": risk,
        "risks": grant_selectors.RISKS,
        "rows": [(g, latest.get((g.delegator_id, g.delegate_id))) for g in grants],
        "next_after": grants[-1].id if len(grants) == grant_selectors.PAGE_SIZE else None,
        "recent": _recent_with_requests(),
    }
    return render(request, "delegation/reviews.html", context, status=status)


def _recent_with_requests() -> list[tuple]:
    """(review, its removal request or None, the Teams PowerShell command while it waits)."""
    recent = grant_selectors.recent_reviews()
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


def _int(value) -> int:
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return 0
