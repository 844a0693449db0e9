"""Token caches are encrypted at rest; keys rotate by prepending a new one."""

from __future__ import annotations

import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command

from portal import crypto
from portal.graph.errors import NotConfigured
from tests.support.factories import sync_account

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def test_what_is_encrypted_decrypts_and_is_not_plain(settings):
    settings.TOKEN_ENCRYPTION_KEYS = [NEW]
    sealed = crypto.encrypt('{"RefreshToken": {"secret": "rt-value"}}')
    assert b"rt-value" not in sealed
    assert crypto.decrypt(sealed) == '{"RefreshToken": {"secret": "rt-value"}}'


def test_an_old_key_still_decrypts_after_a_new_one_is_prepended(settings):
    settings.TOKEN_ENCRYPTION_KEYS = [OLD]
    sealed = crypto.encrypt("cache")
    settings.TOKEN_ENCRYPTION_KEYS = [NEW, OLD]
    assert crypto.decrypt(sealed) == "cache"


def test_rotation_makes_the_old_key_unnecessary(settings):
    settings.TOKEN_ENCRYPTION_KEYS = [OLD]
    sealed = crypto.encrypt("cache")
    settings.TOKEN_ENCRYPTION_KEYS = [NEW, OLD]
    rotated = crypto.rotate(sealed)
    settings.TOKEN_ENCRYPTION_KEYS = [NEW]
    assert crypto.decrypt(rotated) == "cache"
    with pytest.raises(crypto.CannotDecrypt):
        crypto.decrypt(sealed)


def test_a_tampered_ciphertext_does_not_decrypt(settings):
    settings.TOKEN_ENCRYPTION_KEYS = [NEW]
    sealed = bytearray(crypto.encrypt("cache"))
    sealed[20] ^= 1
    with pytest.raises(crypto.CannotDecrypt):
        crypto.decrypt(bytes(sealed))


@pytest.mark.parametrize("keys", [[], ["not-a-fernet-key"]])
def test_missing_or_malformed_keys_are_a_configuration_error(settings, keys):
    settings.TOKEN_ENCRYPTION_KEYS = keys
    with pytest.raises(NotConfigured):
        crypto.encrypt("cache")


@pytest.mark.django_db
def test_the_rotate_command_re_encrypts_every_stored_cache(settings, make_user):
    from portal.models import AuditEvent, SyncAccount, TokenCache

    settings.TOKEN_ENCRYPTION_KEYS = [OLD]
    TokenCache.objects.create(user=make_user("helpdesk"), ciphertext=crypto.encrypt("person"))
    sync_account(ciphertext=crypto.encrypt("sync"))
    settings.TOKEN_ENCRYPTION_KEYS = [NEW, OLD]
    out = io.StringIO()
    call_command("rotate_token_keys", stdout=out)
    assert "1 token caches and 1 sync accounts; 0 unreadable" in out.getvalue()
    settings.TOKEN_ENCRYPTION_KEYS = [NEW]
    assert crypto.decrypt(TokenCache.objects.get().ciphertext) == "person"
    assert crypto.decrypt(SyncAccount.objects.get().ciphertext) == "sync"
    assert AuditEvent.objects.filter(action="tokens.rotate_keys").exists()


@pytest.mark.django_db
def test_rotation_drops_caches_no_key_can_read(settings, make_user):
    from portal.models import SyncAccount, TokenCache

    settings.TOKEN_ENCRYPTION_KEYS = [OLD]
    TokenCache.objects.create(user=make_user(), ciphertext=crypto.encrypt("person"))
    sync_account(ciphertext=crypto.encrypt("sync"))
    settings.TOKEN_ENCRYPTION_KEYS = [NEW]
    assert crypto.rotate_stored_tokens() == {"token_caches": 0, "sync_accounts": 0, "unreadable": 2}
    assert not TokenCache.objects.exists()
    assert SyncAccount.objects.get().status == SyncAccount.Status.RECONNECT_NEEDED
