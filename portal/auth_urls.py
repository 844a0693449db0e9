# PLACEHOLDER (to be replaced by the sign-in work): names the base layout relies on.
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse
from django.urls import path


@login_not_required
def _todo(request, *args, **kwargs):
    return HttpResponse("Not built yet", status=501)


urlpatterns = [
    path("auth/login", _todo, name="login"),
    path("auth/callback", _todo, name="auth_callback"),
    path("auth/logout", _todo, name="logout"),
    path("admin-tools/audit", _todo, name="audit"),
    path("admin-tools/sync-account", _todo, name="sync_account"),
]
