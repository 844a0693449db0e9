"""Server-side checks of capabilities (see portal/roles.py), and the groups that carry them."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.shortcuts import render

from portal.models import Capability
from portal.roles import CAPABILITIES, ROLES, user_has_capability


def require_capability(capability: str):
    """View decorator: 403 page (styled, saying whom to ask) unless the user has the capability."""
    if capability not in CAPABILITIES:
        raise KeyError(f"unknown capability {capability!r}")

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not user_has_capability(request.user, capability):
                return render(
                    request,
                    "portal/forbidden.html",
                    {"capability": CAPABILITIES[capability][0]},
                    status=403,
                )
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def sync_role_groups(**kwargs) -> None:
    """Create the role groups; give each exactly the permissions of the table (post_migrate)."""
    ct = ContentType.objects.get_for_model(Capability, for_concrete_model=False)
    perms = {}
    for code, (desc, _) in CAPABILITIES.items():
        perms[code], _ = Permission.objects.get_or_create(
            content_type=ct, codename=code, defaults={"name": desc[:255]}
        )
    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=role)
        wanted = [perms[c] for c, (_, roles) in CAPABILITIES.items() if role in roles]
        group.permissions.set(wanted)
