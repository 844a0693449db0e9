"""Sign-in, sign-out, and the admin pages of the sign-in work (namespace "portal")."""

from django.urls import path

from portal.views import audit, auth, sync_account

urlpatterns = [
    path("auth/login", auth.login_page, name="login"),
    path("auth/callback", auth.callback, name="auth_callback"),
    path("auth/logout", auth.logout_view, name="logout"),
    path("admin-tools/audit", audit.audit_log, name="audit"),
    path("admin-tools/sync-account", sync_account.sync_account_page, name="sync_account"),
]
