"""Encryption at rest for the token caches the portal keeps (Fernet, rotation by MultiFernet).

TOKEN_ENCRYPTION_KEYS lists Fernet keys; the first one encrypts, all of them decrypt. To rotate,
prepend a new key, deploy, run `manage.py rotate_token_keys`, then drop the old key.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import transaction

from portal.graph.errors import NotConfigured
from portal.models import SyncAccount, TokenCache


class CannotDecrypt(Exception):
    """The ciphertext was made with a key that is no longer configured, or was altered."""


def _fernet() -> MultiFernet:
    # Read at call time: tests and rotations change the keys without a restart.
    keys = [k for k in settings.TOKEN_ENCRYPTION_KEYS if k]
    if not keys:
        raise NotConfigured("TOKEN_ENCRYPTION_KEYS is empty")
    try:
        return MultiFernet([Fernet(k) for k in keys])
    except ValueError as exc:
        raise NotConfigured(f"TOKEN_ENCRYPTION_KEYS holds a malformed key: {exc}") from None


def encrypt(plaintext: str) -> bytes:
    return _fernet().encrypt(plaintext.encode("utf-8"))


def decrypt(ciphertext) -> str:
    try:
        return _fernet().decrypt(bytes(ciphertext)).decode("utf-8")
    except InvalidToken:
        raise CannotDecrypt("no configured key decrypts this token cache") from None


def rotate(ciphertext) -> bytes:
    """Re-encrypt with the first key (keeps the original timestamp, as MultiFernet does)."""
    try:
        return _fernet().rotate(bytes(ciphertext))
    except InvalidToken:
        raise CannotDecrypt("no configured key decrypts this token cache") from None


def rotate_stored_tokens() -> dict[str, int]:
    """Re-encrypt every TokenCache and SyncAccount row with the first key.

    Rows no configured key can read are deleted (for people: they sign in again) or, for the
    sync account, marked reconnect-needed, and counted as `unreadable`.
    """
    counts = {"token_caches": 0, "sync_accounts": 0, "unreadable": 0}
    with transaction.atomic():
        for row in TokenCache.objects.select_for_update():
            try:
                row.ciphertext = rotate(row.ciphertext)
            except CannotDecrypt:
                row.delete()
                counts["unreadable"] += 1
                continue
            row.save(update_fields=["ciphertext", "updated_at"])
            counts["token_caches"] += 1
        for account in SyncAccount.objects.select_for_update():
            try:
                account.ciphertext = rotate(account.ciphertext)
            except CannotDecrypt:
                account.status = SyncAccount.Status.RECONNECT_NEEDED
                account.last_error = "Its token cache could not be decrypted: reconnect it."
                account.save(update_fields=["status", "last_error"])
                counts["unreadable"] += 1
                continue
            account.save(update_fields=["ciphertext"])
            counts["sync_accounts"] += 1
    return counts
