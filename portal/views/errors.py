"""The health probe and the error pages."""

from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from portal import health


@login_not_required
@never_cache
@require_GET
def healthz(request):
    result = health.report()
    return JsonResponse(result, status=200 if result["ok"] else 503)


def page_not_found(request, exception):
    return render(request, "404.html", status=404)


def server_error(request):
    # No context processors that touch the database: the database may be what failed.
    return HttpResponseServerError(loader.get_template("500.html").render({}))
