"""The sync account: connect (a delegated sign-in whose cache the sync keeps), disconnect, refresh.

Its MSAL cache is stored encrypted in SyncAccount, never in the connecting admin's session.
Graph offers call delegation to delegated tokens only (GRAPH_CONTRACT §2), hence this account.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from portal import audit, signin, token_store
from portal.graph import tokens
from portal.graph.errors import TokenError
from portal.models import SyncAccount


def current() -> SyncAccount | None:
    return SyncAccount.objects.filter(singleton=1).select_related("connected_by").first()


def needs_reconnect() -> bool:
    return SyncAccount.objects.filter(status=SyncAccount.Status.RECONNECT_NEEDED).exists()


def begin_connect(request, *, login_hint: str = "") -> str:
    """Start the sync account's own auth-code flow; returns the authority URL."""
    return signin.begin(
        request,
        purpose="sync_account",
        scopes=list(settings.SYNC_SCOPES),
        login_hint=login_hint,
        # Let the admin pick the service account rather than reuse their own sign-in.
        prompt=None if login_hint else "select_account",
    )


def connect(request, result: tokens.SignInResult) -> SyncAccount:
    """Store the account's encrypted cache; a reconnect replaces the old one."""
    claims = result.claims
    now = timezone.now()
    with transaction.atomic():
        previous = SyncAccount.objects.select_for_update().filter(singleton=1).first()
        account, _ = SyncAccount.objects.update_or_create(
            singleton=1,
            defaults={
                "status": SyncAccount.Status.CONNECTED,
                "tenant_id": claims["tid"],
                "object_id": claims["oid"],
                "home_account_id": result.home_account_id,
                "display_name": str(claims.get("name") or "")[:256],
                "upn": str(claims.get("preferred_username") or "")[:256],
                "ciphertext": token_store.seal(result.serialized_cache),
                "connected_by": request.user,
                "connected_at": now,
                "last_refreshed_at": now,
                "last_error": "",
            },
        )
        audit.record(
            "sync_account.connect",
            "success",
            request=request,
            target=account.upn or account.object_id,
            replaced=(previous.upn or previous.object_id) if previous else "",
            was_reconnect_needed=bool(
                previous and previous.status == SyncAccount.Status.RECONNECT_NEEDED
            ),
        )
    return account


def disconnect(request) -> bool:
    """Forget the account and its tokens. False when none was connected."""
    with transaction.atomic():
        account = SyncAccount.objects.select_for_update().filter(singleton=1).first()
        if account is None:
            return False
        target = account.upn or account.object_id
        account.delete()
        audit.record("sync_account.disconnect", "success", request=request, target=target)
    return True


def test_connection(request) -> None:
    """Prove the stored refresh token still works (the page's "Test now" button). It redeems,
    and so replaces, the stored refresh token: a change, audited like one. Raises TokenError."""
    try:
        tokens.sync_token_provider()(force_refresh=True)
    except TokenError as exc:
        audit.record(
            "sync_account.test", "failure", request=request, target=_target(), error=str(exc)
        )
        raise
    audit.record("sync_account.test", "success", request=request, target=_target())


def _target() -> str:
    account = current()
    return (account.upn or account.object_id) if account else ""
