from django.urls import include, path

from portal.views import errors, home

portal_patterns = [
    path("", home.home, name="home"),
    path("healthz", errors.healthz, name="healthz"),
    path("livez", errors.livez, name="livez"),
    path("no-access", home.no_access, name="no_access"),
    path("", include("portal.auth_urls")),
]

urlpatterns = [
    path("", include((portal_patterns, "portal"))),
    path("", include("delegation.urls")),
    path("calls/", include("calls.urls")),
    path("changes/", include("delegation.changes.urls")),
    path("reviews/", include("reviews.urls")),
    path("api/", include(("api.urls", "api"), namespace="api")),
    path("alerts/", include("alerts.urls")),
]

handler404 = "portal.views.errors.page_not_found"
handler500 = "portal.views.errors.server_error"
