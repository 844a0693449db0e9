from django.contrib.auth.decorators import login_not_required
from django.db.models import Q
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from portal import health
from portal.roles import user_roles


def home(request):
    """People with a role, delegates and delegators land on their own delegations; anyone else
    with no role on the page that says whom to ask (never a bare 403)."""
    user = request.user
    if user_roles(user) or user.is_superuser or _takes_part_in_delegation(user):
        return redirect("delegation:mine")
    return redirect("portal:no_access")


def _takes_part_in_delegation(user) -> bool:
    from delegation.models import Delegation

    if not user.object_id:
        return False
    return Delegation.objects.filter(
        Q(delegator__object_id=user.object_id) | Q(delegate__object_id=user.object_id)
    ).exists()


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
