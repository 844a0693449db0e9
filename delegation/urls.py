# PLACEHOLDER (to be replaced by the dashboards work): names the base layout relies on.
from django.http import HttpResponse
from django.urls import path

app_name = "delegation"


def _todo(request, *args, **kwargs):
    return HttpResponse("Not built yet", status=501)


urlpatterns = [
    path("me/delegations", _todo, name="mine"),
    path("people/", _todo, name="people"),
    path("organisation/", _todo, name="organisation"),
    path("sync/", _todo, name="sync_list"),
]
