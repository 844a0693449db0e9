"""The API's documentation page (Swagger UI, vendored, reading /api/schema), and answers as
problems where Django would answer HTML: a path under /api/ that matches nothing (404), a method
a path does not take (405)."""

from functools import wraps

from csp.decorators import csp_update
from django.contrib.auth.decorators import login_not_required
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt

from api import problems


@login_not_required
@csp_update({"style-src": ["'unsafe-inline'"]})  # Swagger UI styles elements inline
def docs(request):
    return render(request, "api/docs.html")


@csrf_exempt
@login_not_required
def not_found(request, rest=""):
    return problems.problem_response(404, "No such API path.", ["not_found"])


def as_problems(view):
    """`view` (one of django-ninja's), with its Django 404 and 405 answered as problems."""

    @wraps(view)
    def answered(request, *args, **kwargs):
        try:
            response = view(request, *args, **kwargs)
        except Http404:
            return not_found(request)
        if response.status_code == 405 and response.get("Content-Type") != problems.MEDIA_TYPE:
            allow = {"Allow": response["Allow"]} if response.has_header("Allow") else {}
            words = "Method not allowed."
            return problems.problem_response(405, words, ["method_not_allowed"], allow)
        return response

    return answered
