from django.urls import path, register_converter

from delegation.views import organisation, people, reviews, sync


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
    path("me/delegations", people.mine, name="mine"),
    path("people/", people.people, name="people"),
    path("people/search", people.people_search, name="people_search"),
    path("people/<object_id:object_id>/", people.person, name="person"),
    path("organisation/", organisation.organisation, name="organisation"),
    path("organisation/export.csv", organisation.org_export, name="org_export"),
    path("organisation/reviews", reviews.grant_reviews, name="reviews"),
    path("sync/", sync.sync_list, name="sync_list"),
    path("sync/start", sync.sync_start, name="sync_start"),
    path("sync/<int:pk>/", sync.sync_detail, name="sync_detail"),
    path("sync/<int:pk>/progress", sync.sync_progress, name="sync_progress"),
]
