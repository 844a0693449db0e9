"""The health probe and the error pages."""

from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader
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


def page_not_found(request, exception):
    return render(request, "404.html", status=404)


def server_error(request):
    # No context processors that touch the database: the database may be what failed.
    return HttpResponseServerError(loader.get_template("500.html").render({}))
