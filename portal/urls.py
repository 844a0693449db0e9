from django.urls import include, path

from portal import views

portal_patterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("no-access", views.no_access, name="no_access"),
    path("", include("portal.auth_urls")),
]

urlpatterns = [
    path("", include((portal_patterns, "portal"))),
    path("", include("delegation.urls")),
    path("calls/", include("calls.urls")),
]

handler404 = "portal.views.page_not_found"
handler500 = "portal.views.server_error"
