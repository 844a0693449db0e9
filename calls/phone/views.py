"""The browser phone: the page, its calling token, the consent it asks for, the calls it
reports. Decisions are in calls/phone/services.py."""

from __future__ import annotations

from csp.decorators import csp_update
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from calls.phone import selectors, services
from calls.phone.forms import CallReportForm
from calls.phone_csp import PHONE_CSP_UPDATE
from portal.forms import error_words

# Tests only: the page then loads this scripted stand-in instead of the calling SDK.
STAND_IN_URL = ""


@require_GET
@csp_update(PHONE_CSP_UPDATE)
def phone(request):
    delegators = selectors.phone_delegators(request.user)
    return _page(request, delegators, services.refusal(delegators))


def _page(request, delegators, refused):
    context = {
        "delegators": [{"name": d.label, "object_id": d.object_id} for d in delegators],
        "receives_for": [d.label for d in selectors.receives_for(request.user)],
        "refusal": refused.words if refused else "",
        "phone_config": {
            "token_url": reverse("calls:phone_token"),
            "report_url": reverse("calls:phone_report"),
        },
        "stand_in_url": STAND_IN_URL,
    }
    status = refused.status if refused else 200
    return render(request, "calls/phone.html", context, status=status)


@never_cache
@require_POST
def token(request):
    """{"token", "expires_on", "delegators", "note"}, or {"error", "consent_url"?}."""
    try:
        return JsonResponse(services.issue_token(request))
    except services.PhoneRefused as refused:
        return JsonResponse(refused.answer(), status=refused.status)


@require_POST
def consent(request):
    """A page that moves on to Microsoft (CSP form-action stops a form's redirect there)."""
    try:
        auth_uri = services.begin_consent(request)
    except services.PhoneRefused as refused:
        return _page(request, selectors.phone_delegators(request.user), refused)
    return render(request, "calls/phone_consent.html", {"auth_uri": auth_uri})


@require_POST
def report(request):
    form = CallReportForm(request.POST, user=request.user)
    if not form.is_valid():
        return JsonResponse({"error": error_words(form)}, status=400)
    services.record_call(request, form.cleaned_data)
    return HttpResponse(status=204)
