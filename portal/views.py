from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from portal import health
from portal.roles import user_roles


def home(request):
    """Everyone lands on their own delegations; the navigation offers what their roles allow."""
    if not user_roles(request.user) and not request.user.is_superuser:
        return redirect("portal:no_access")
    return redirect("delegation:mine")


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
