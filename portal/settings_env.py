"""How settings read the environment: once, through django-environ, and a malformed value stops
start-up with the variable's name rather than failing on the first request."""

from __future__ import annotations

import environ
from django.core.exceptions import ImproperlyConfigured

# Asked at sign-in and by the sync account: read, and apply changes to delegations.
CALL_DELEGATION_SCOPES = ["CallDelegation.Read", "CallDelegation.ReadWrite"]

env = environ.Env()
if env.str("PORTAL_ENV_FILE", default=""):
    environ.Env.read_env(env.str("PORTAL_ENV_FILE"))


def setting(name, cast, default):
    """Read one variable; a malformed value stops start-up with the variable's name."""
    try:
        return cast(name, default=default)
    except (ValueError, TypeError, ImproperlyConfigured) as exc:
        raise ImproperlyConfigured(f"Setting {name} is malformed: {exc}") from exc
