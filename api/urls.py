from django.urls import path

from api import views
from api.main import api

ninja_patterns, app_name, namespace = api.urls
for pattern in ninja_patterns:
    pattern.callback = views.as_problems(pattern.callback)
    # Bearer tokens only: the portal's sign-in redirect never applies to the API.
    pattern.callback.login_required = False

urlpatterns = [
    path("docs", views.docs, name="api_docs"),
    *ninja_patterns,
    path("<path:rest>", views.not_found, name="not_found"),
]
