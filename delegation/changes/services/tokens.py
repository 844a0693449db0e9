"""Whose token applies or reads a change (GRAPH_CONTRACT §9: delegate writes take delegated
tokens only). The acting person's own when they act on their own line or as a manage-settings
delegate (CallDelegation.ReadWrite, asked at sign-in); the sync account's for helpdesk, admins
and the portal's own jobs (its SYNC_SCOPES hold CallDelegation.ReadWrite). Where the sync is
app-only (SYNC_USE_APP_ONLY), writes go app-only too: a tenant that does not honour the
application role refuses them, and the request falls back to Teams PowerShell."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings

from delegation.changes import rules
from portal.graph import tokens
from portal.graph.client import GraphClient
from portal.graph.errors import NotConfigured
from portal.token_store import user_token_provider

WRITE_SCOPE = "CallDelegation.ReadWrite"


def provider_for(acting: str, user, token_provider=None):
    if token_provider is not None:
        return token_provider
    if acting in (rules.SELF, rules.DELEGATE):
        scopes = [settings.GRAPH_SCOPE_PREFIX + WRITE_SCOPE]
        provider = user_token_provider(user, scopes) if user is not None else None
        if provider is None:
            who = str(user) if user is not None else "The person who asked"
            raise NotConfigured(
                f"{who} has no Microsoft sign-in the portal can act with (sign in again)"
            )
        return provider
    return tokens.sync_token_provider()


@contextmanager
def client_for(acting: str, user, token_provider=None) -> Iterator[GraphClient]:
    """A Graph client acting as `acting` prescribes; closed afterwards. Raises TokenError."""
    client = GraphClient(provider_for(acting, user, token_provider))
    try:
        yield client
    finally:
        client.close()
