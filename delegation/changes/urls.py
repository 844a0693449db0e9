from django.urls import path

from delegation.changes.views import grants, imports, powershell, requests
from delegation.urls import ObjectIdConverter  # noqa: F401  (registers "object_id")

app_name = "changes"

urlpatterns = [
    path("", requests.request_list, name="list"),
    path("<int:pk>/", requests.detail, name="detail"),
    path("<int:pk>/check", requests.check, name="check"),
    path("<int:pk>/cancel", requests.cancel, name="cancel"),
    path("<int:pk>/decide", requests.decide, name="decide"),
    path("approvals", requests.approvals, name="approvals"),
    path("people", grants.people, name="people"),
    path("for/<object_id:object_id>/", grants.grant, name="grant"),
    path("for/<object_id:object_id>/remove", grants.remove_delegate, name="remove"),
    path("powershell/", powershell.awaiting, name="powershell"),
    path("powershell/script", powershell.download, name="powershell_script"),
    path("powershell/<int:pk>/done", powershell.done, name="powershell_done"),
    path("import/", imports.upload, name="import"),
    path("import/<int:pk>/", imports.batch_detail, name="batch"),
    path("import/<int:pk>/apply", imports.batch_apply, name="batch_apply"),
    path("import/<int:pk>/progress", imports.batch_progress, name="batch_progress"),
]
