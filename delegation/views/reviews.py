"""The risky grants of one risk rule, each with the rule's reason in words, the latest decision
on it and the recent decisions. Decisions are taken in review campaigns (the reviews app): one
way to decide, with reviewers, due dates and a report."""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_GET

from delegation import reviews
from delegation.forms import row_id
from delegation.selectors import grants as grant_selectors
from portal.permissions import require_capability


@require_GET
@require_capability("review_grants")
def grant_reviews(request):
    page = grant_selectors.review_page(
        request.user, risk=request.GET.get("risk"), after=row_id(request.GET, "after")
    )
    context = {
        "risk": page.risk,
        "risks": grant_selectors.RISKS,
        "rows": page.rows,
        "next_after": page.next_after,
        "recent": _recent_with_requests(page.recent),
    }
    return render(request, "delegation/reviews.html", context)


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
