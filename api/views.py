"""The API's documentation page: Swagger UI (vendored) reading /api/schema."""

from csp.decorators import csp_update
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import render


@login_not_required
@csp_update({"style-src": ["'unsafe-inline'"]})  # Swagger UI styles elements inline
def docs(request):
    return render(request, "api/docs.html")
