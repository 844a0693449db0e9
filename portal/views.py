from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from portal import extensions, health


def home(request):
    """Each person lands where the apps' landing rules send them; anyone no rule claims lands on
    the page that says whom to ask (never a bare 403)."""
    return redirect(extensions.landing_for(request.user) or "portal:no_access")


def no_access(request):
    return render(request, "portal/no_access.html")


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
    from django.http import HttpResponseServerError
    from django.template import loader

    return HttpResponseServerError(loader.get_template("500.html").render({}))
