# PLACEHOLDER (to be replaced by the calls work): names the base layout relies on.
from django.http import HttpResponse
from django.urls import path

app_name = "calls"


def _todo(request, *args, **kwargs):
    return HttpResponse("Not built yet", status=501)


urlpatterns = [
    path("", _todo, name="list"),
    path("new", _todo, name="start"),
]
