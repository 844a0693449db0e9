from django.urls import include, path

from calls import views, webhooks

app_name = "calls"

urlpatterns = [
    path("", views.call_list, name="list"),
    path("new", views.start, name="start"),
    path("incoming", views.incoming, name="incoming"),
    path("people", views.people, name="people"),
    path("callback", webhooks.callback, name="callback"),
    path("phone/", include("calls.phone.urls")),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/live", views.live, name="live"),
    path("<int:pk>/transfer", views.transfer, name="transfer"),
    path("<int:pk>/redirect", views.redirect_call, name="redirect"),
    path("<int:pk>/end", views.end, name="end"),
]
