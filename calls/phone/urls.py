"""The browser phone's URLs, in the calls namespace (calls:phone, ...)."""

from django.urls import path

from calls.phone import views

urlpatterns = [
    path("", views.phone, name="phone"),
    path("token", views.token, name="phone_token"),
    path("consent", views.consent, name="phone_consent"),
    path("calls", views.report, name="phone_report"),
]
