from django.urls import path, register_converter

from delegation import views, views_org, views_sync


class ObjectIdConverter:
    """An Entra object id (a GUID): anything else cannot name a person, and never reaches SQL."""

    regex = r"[0-9A-Za-z-]{1,64}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(ObjectIdConverter, "object_id")
app_name = "delegation"

urlpatterns = [
    path("me/delegations", views.mine, name="mine"),
    path("people/", views.people, name="people"),
    path("people/search", views.people_search, name="people_search"),
    path("people/<object_id:object_id>/", views.person, name="person"),
    path("organisation/", views_org.organisation, name="organisation"),
    path("organisation/export.csv", views_org.org_export, name="org_export"),
    path("organisation/reviews", views_org.grant_reviews, name="reviews"),
    path("sync/", views_sync.sync_list, name="sync_list"),
    path("sync/start", views_sync.sync_start, name="sync_start"),
    path("sync/<int:pk>/", views_sync.sync_detail, name="sync_detail"),
    path("sync/<int:pk>/progress", views_sync.sync_progress, name="sync_progress"),
]
