"""Who acts when the API is called: the person of a delegated token, or the calling application
as a service user of its own (created on first use) holding exactly the capabilities of the app
roles its token carries. Services take that user as `actor`, so the audit names the app id."""

from __future__ import annotations

from django.contrib.auth.models import Permission
from django.db import transaction

from portal.graph.api_tokens import ApiCaller
from portal.models import User
from portal.permissions import sync_role_groups
from portal.roles import CAPABILITIES

READ = ("view_people", "view_organisation", "view_sync", "run_review_campaigns")
# App role (defined by our app registration) -> the portal capabilities it gives an application.
APP_ROLE_CAPABILITIES: dict[str, tuple[str, ...]] = {
    "Delegation.Read.All": READ,
    "Delegation.ReadWrite.All": (
        *READ,
        "manage_delegations",
        "approve_delegation_changes",
        "run_sync",
    ),
    "Calls.Initiate": ("place_calls_any", "act_on_any_call"),
}
APP_USERNAME_PREFIX = "app:"


def capabilities_of_roles(roles) -> set[str]:
    return {code for role in roles for code in APP_ROLE_CAPABILITIES.get(role, ())}


def app_label(app_id: str) -> str:
    return f"API client {app_id}"


def _app_user(caller: ApiCaller) -> User:
    with transaction.atomic():
        user, _ = User.objects.get_or_create(
            tenant_id=caller.tenant_id,
            object_id=caller.object_id,
            defaults={
                "username": f"{APP_USERNAME_PREFIX}{caller.app_id}"[:150],
                "display_name": app_label(caller.app_id),
            },
        )
        wanted = capabilities_of_roles(caller.roles) & set(CAPABILITIES)
        held = set(user.user_permissions.values_list("codename", flat=True))
        if held != wanted:
            perms = Permission.objects.filter(content_type__app_label="portal", codename__in=wanted)
            if perms.count() < len(wanted):  # a flushed database lost them
                sync_role_groups()
            user.user_permissions.set(perms)
            user.groups.clear()  # an application's rights come from its token's roles only
    user = User.objects.get(pk=user.pk)  # fresh: no stale permission cache
    # Capabilities are read from role groups for people; an application holds none, so its
    # token's roles are handed to `user_has_capability` on the object itself.
    user.granted_capabilities = frozenset(wanted)
    return user


def user_for(caller: ApiCaller) -> User | None:
    """The acting user, or None for a person who never signed in to the portal."""
    if caller.is_app:
        return _app_user(caller)
    user = User.objects.filter(tenant_id=caller.tenant_id, object_id=caller.object_id).first()
    if user is None or not user.is_active or user.username.startswith(APP_USERNAME_PREFIX):
        return None
    return user
