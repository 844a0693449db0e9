"""My reviews: a reviewer's queue with filters, and decisions on one row or many. Decided
rows are swapped in place (htmx), so the page never jumps; without scripts the form posts and
comes back to the same filters and row."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from delegation.forms import row_id
from delegation.risk.rules import RULES
from reviews import selectors
from reviews.forms import DecideForm, QueueFilterForm
from reviews.services import decide as decide_service


def _filters(data) -> selectors.QueueFilters:
    form = QueueFilterForm(data)
    clean = form.cleaned_data if form.is_valid() else {}
    return selectors.QueueFilters(
        status=clean.get("status") or "unreviewed",
        risk=clean.get("risk") or "",
        person=clean.get("person") or "",
        campaign=clean.get("campaign"),
    )


@require_GET
def queue(request):
    filters = _filters(request.GET)
    page = selectors.queue_page(request.user, filters, after=row_id(request.GET, "after"))
    context = {
        "page": page,
        "filters": filters,
        "form": QueueFilterForm(request.GET or None),
        "rules": RULES,
        "query": request.GET.urlencode(),
    }
    return render(request, "reviews/queue.html", context)


@require_POST
def decide(request):
    form = DecideForm(request.POST)
    if not form.is_valid():
        return _answer(request, [], " ".join(form.non_field_errors()) or "Nothing decided.", 400)
    done = decide_service.decide(
        user=request.user,
        item_ids=form.cleaned_data["ids"],
        decision=form.cleaned_data["decision"],
        note=form.cleaned_data["note"],
        request=request,
    )
    words = _words(done, form.cleaned_data["decision"])
    status = 403 if done.refused and not done.items else 200
    return _answer(request, [i.pk for i in done.items], words, status)


def _words(done, decision: str) -> str:
    parts, n = [], len(done.items)
    if n:
        verb = "Kept" if decision == "keep" else "Revoked (removed when the campaign closes)"
        parts.append(f"{verb}: {n} grant{'s' if n != 1 else ''}.")
    if done.refused:
        why = " ".join(sorted(set(done.refused.values())))
        parts.append(f"{len(done.refused)} not decided: {why}")
    return " ".join(parts)


def _answer(request, item_ids: list[int], words: str, status: int):
    if request.headers.get("HX-Request") == "true":
        rows = selectors.items_for_rows(request.user, item_ids)
        context = {"rows": rows, "words": words, "failed": status >= 400, "rules": RULES}
        return render(request, "reviews/_decided.html", context, status=status)
    (messages.success if status < 400 else messages.error)(request, words)
    back = request.POST.get("back", "")
    url = reverse("reviews:queue") + (f"?{back}" if back else "")
    return redirect(url + (f"#item-{item_ids[0]}" if item_ids else ""))
