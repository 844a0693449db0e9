"""The health probe and the error pages."""

from urllib.parse import urlsplit

from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from portal import health
from portal.roles import user_has_capability


@login_not_required
@never_cache
@require_GET
def healthz(request):
    """The status for probes (200 or 503); what each check found (database vendor, broker
    transport, Microsoft's answers) only for people who may see it."""
    result = health.report()
    status = 200 if result["ok"] else 503
    if not user_has_capability(request.user, "view_health"):
        result = {"ok": result["ok"]}
    return JsonResponse(result, status=status)


@login_not_required
@never_cache
@require_GET
def livez(request):
    """Liveness: this process answers requests. Nothing behind it is asked (/healthz does
    that), so a probe restarts a stuck process, not one whose database is slow."""
    return HttpResponse("ok", content_type="text/plain")


def page_not_found(request, exception):
    return render(request, "404.html", status=404)


def server_error(request):
    # No context processors that touch the database: the database may be what failed.
    return HttpResponseServerError(loader.get_template("500.html").render({}))


def csrf_failure(request, reason=""):
    """A form the server can no longer accept (CSRF_FAILURE_VIEW): a tab open across a sign-out
    or a new sign-in, or a session that ended. Says so, and offers the way back; an htmx
    request reloads its page, which brings a fresh token (or the sign-in page)."""
    signed_in = request.user.is_authenticated
    context = {"signed_in": signed_in, "back_url": _same_site_referer(request)}
    response = render(request, "portal/csrf_failure.html", context, status=403)
    if request.headers.get("HX-Request"):
        response["HX-Refresh"] = "true"
    return response


def _same_site_referer(request) -> str:
    """The page the form came from, when it is one of ours; else the home page."""
    referer = request.headers.get("Referer", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        parts = urlsplit(referer)
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return reverse("portal:home")
