"""Where the MSAL token caches live: encrypted, in SyncAccount (the sync's) and TokenCache (each
signed-in person's). `portal.graph.tokens` acquires tokens; this module loads and saves the caches
it works from, and records what a failure means (the sync account needs reconnecting, audited).
"""

from __future__ import annotations

import logging

from django.utils import timezone

from portal import audit
from portal.crypto import CannotDecrypt, decrypt, encrypt
from portal.graph import tokens
from portal.graph.errors import NotConfigured, ReconnectNeeded, TokenError
from portal.models import SyncAccount, TokenCache

log = logging.getLogger(__name__)


def seal(serialized: str) -> bytes:
    """A serialised MSAL cache, encrypted for storage."""
    return encrypt(serialized)


def _open(ciphertext) -> str:
    if not ciphertext:
        return ""
    try:
        return decrypt(ciphertext)
    except CannotDecrypt as exc:
        raise ReconnectNeeded(str(exc)) from None


# --- The sync account ---------------------------------------------------------------------
class SyncAccountStore:
    """One sync run's view of the sync account row, loaded once."""

    def __init__(self):
        self.row = SyncAccount.objects.filter(singleton=1).first()
        if self.row is None:
            raise NotConfigured("no sync account is connected")

    def load(self) -> str:
        if self.row.status == SyncAccount.Status.RECONNECT_NEEDED:
            raise ReconnectNeeded("the sync account must be reconnected by an admin")
        return _open(self.row.ciphertext)

    def save(self, serialized: str) -> None:
        self._update(ciphertext=seal(serialized), last_error="", last_refreshed_at=timezone.now())

    def failed(self, error: TokenError) -> None:
        if isinstance(error, ReconnectNeeded):
            _mark_reconnect_needed(self.row, str(error))
        else:
            self._update(last_error=str(error)[:2000])

    def _update(self, **changes) -> None:
        # Only the connection we loaded: an admin may have reconnected meanwhile.
        SyncAccount.objects.filter(pk=self.row.pk, connected_at=self.row.connected_at).update(
            **changes
        )


def sync_account_store() -> tuple[SyncAccountStore, str]:
    """What `portal.graph.tokens.sync_token_provider` acts from (set in PortalConfig.ready)."""
    store = SyncAccountStore()
    return store, store.row.home_account_id


def _mark_reconnect_needed(account_row, reason: str) -> None:
    updated = SyncAccount.objects.filter(
        pk=account_row.pk,
        status=SyncAccount.Status.CONNECTED,
        connected_at=account_row.connected_at,  # not a connection made since we loaded it
    ).update(status=SyncAccount.Status.RECONNECT_NEEDED, last_error=reason[:2000])
    if updated:  # audit the change once, not every failed attempt after it
        audit.record(
            "sync_account.reconnect_needed",
            "failure",
            target=account_row.upn or account_row.object_id,
            who="sync",
            reason=reason,
        )
    log.warning("sync account needs reconnecting: %s", reason)


# --- A signed-in person's own tokens --------------------------------------------------------
class _PersonStore:
    def __init__(self, row: TokenCache, serialized: str):
        self.row = row
        self.serialized = serialized

    def load(self) -> str:
        return self.serialized

    def save(self, serialized: str) -> None:
        TokenCache.objects.filter(pk=self.row.pk).update(ciphertext=seal(serialized))

    def failed(self, error: TokenError) -> None:
        """A person's failure is theirs to see (they sign in again); nothing is stored."""


def user_token_provider(user, scopes: list[str]) -> tokens.TokenProvider | None:
    """The person's delegated token for `scopes`, from their encrypted cache; None if none."""
    row = TokenCache.objects.filter(user=user).first()
    if row is None or not user.object_id:
        return None
    try:
        serialized = _open(row.ciphertext)
    except ReconnectNeeded:
        return None
    if not serialized or not tokens.holds_refresh_token(serialized):
        return None
    return tokens.DelegatedTokens(
        _PersonStore(row, serialized),
        scopes,
        lambda account: account.get("local_account_id") == user.object_id,
        owner="this person's token cache",
    )


def refreshed_sign_in_claims(user, scopes: list[str]) -> dict | None:
    """The claims of a new id token for the person, got with their stored refresh token ({} when
    Microsoft sent none); None when the portal holds no refresh token of theirs. Raises
    TokenError when Microsoft refuses it or cannot be reached."""
    provider = user_token_provider(user, scopes)
    return None if provider is None else provider.refreshed_claims()
