"""Campaigns for those who run them: the list, starting one, one campaign with progress per
reviewer, moving a reviewer's undecided grants to someone else, closing it, and its report (a
printable page and a streamed CSV)."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from delegation.models import DirectoryUser
from portal.forms import error_words
from portal.permissions import require_capability
from portal.views import lookup
from reviews import exports, selectors
from reviews.forms import ReassignForm, StartForm
from reviews.models import Campaign
from reviews.services import close as close_service
from reviews.services import reassign as reassign_service
from reviews.services.start import start_campaign

CAPABILITY = "run_review_campaigns"


def _one_campaign(view):
    """A view of one campaign, for those who run campaigns: called with the campaign of the URL's
    pk in its place (a 404 when there is none)."""

    @require_capability(CAPABILITY)
    @wraps(view)
    def with_campaign(request, pk: int):
        return view(request, lookup.found(selectors.campaign(pk), "No such campaign."))

    return with_campaign


@require_GET
@require_capability(CAPABILITY)
def campaign_list(request):
    return render(request, "reviews/campaigns.html", {"campaigns": selectors.campaigns()})


@require_http_methods(["GET", "POST"])
@require_capability(CAPABILITY)
def start(request):
    form = StartForm(request.POST if request.method == "POST" else None, initial=_asked(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        campaign = start_campaign(
            actor=request.user,
            name=data["name"],
            scope=data["scope"],
            scope_value=form.scope_value,
            reviewers=data["reviewers"],
            named=data["named_people"],
            due_on=data["due_on"],
            when_unreviewed=data["when_unreviewed"],
            request=request,
        )
        messages.success(request, f"Campaign started: {campaign.items_total} grants to review.")
        return redirect("reviews:campaign", pk=campaign.pk)
    context = {"form": form, "departments": _departments()}
    return render(request, "reviews/start.html", context, status=400 if form.errors else 200)


def _asked(request) -> dict:
    """A scope the link asked for (the risky-grants page: "start a campaign over these")."""
    return {k: v for k, v in request.GET.items() if k in ("scope", "risk", "department")}


def _departments() -> list[str]:
    names = DirectoryUser.objects.exclude(department="").values_list("department", flat=True)
    return sorted(set(names.distinct()[:500]))


@require_GET
@_one_campaign
def campaign(request, found: Campaign):
    progress = selectors.progress(found)
    context = {
        "campaign": found,
        "progress": progress,
        "sources": selectors.reassign_sources(progress),
        "reassign_form": ReassignForm(),
        "removals_left": close_service.removals_left(found) if found.closed_at else 0,
    }
    return render(request, "reviews/campaign.html", context)


@require_POST
@_one_campaign
def reassign(request, found: Campaign):
    sources = selectors.reassign_sources(selectors.progress(found))
    form = ReassignForm(request.POST, sources=sources)
    if not form.is_valid():
        messages.error(request, error_words(form))
        return redirect("reviews:campaign", pk=found.pk)
    data = form.cleaned_data
    try:
        done = reassign_service.reassign(
            actor=request.user,
            campaign_id=found.pk,
            source_id=data["source"],
            to=data["to"],
            request=request,
        )
    except reassign_service.NotOpen:
        messages.info(request, "The campaign is closed: its grants can no longer move.")
    else:
        messages.success(request, _reassigned(done, data["to"]))
    return redirect("reviews:campaign", pk=found.pk)


def _reassigned(done: reassign_service.Reassigned, to: DirectoryUser) -> str:
    words = f"{done.moved} grant{'s' if done.moved != 1 else ''} moved to {to.label}."
    if done.theirs:
        words += f" {done.theirs} stayed: {to.label} holds or gave them."
    return words


@require_POST
@_one_campaign
def close(request, found: Campaign):
    try:
        close_service.close_campaign(actor=request.user, campaign_id=found.pk, request=request)
    except close_service.AlreadyClosed:
        messages.info(request, "The campaign was already closed.")
    else:
        messages.success(request, "Campaign closed: the revoked grants are being removed.")
    return redirect("reviews:report", pk=found.pk)


@require_POST
@_one_campaign
def removals(request, found: Campaign):
    """Ask again for the removals a closed campaign still lacks (say a worker was down)."""
    if found.status == found.Status.CLOSED:
        # As the first requests' actor, whose idempotency keys they carry (one per item).
        close_service.queue_removals(found, close_service.closer(found) or request.user)
        messages.info(request, "The removals still missing are being requested.")
    return redirect("reviews:campaign", pk=found.pk)


@require_GET
@_one_campaign
def report(request, found: Campaign):
    rows = exports.report_rows(found, limit=selectors.REPORT_PAGE_LIMIT)
    context = {"campaign": found, "rows": rows, "limit": selectors.REPORT_PAGE_LIMIT}
    return render(request, "reviews/report.html", context)


@require_GET
@_one_campaign
def report_csv(request, found: Campaign):
    return exports.report_csv(found)
