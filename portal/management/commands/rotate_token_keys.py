"""Re-encrypt every stored token cache with the first of TOKEN_ENCRYPTION_KEYS.

Rotation: prepend a new key to TOKEN_ENCRYPTION_KEYS, deploy, run this, then drop the old key.
"""

from django.core.management.base import BaseCommand

from portal import audit
from portal.crypto import rotate_stored_tokens


class Command(BaseCommand):
    help = "Re-encrypt TokenCache and SyncAccount rows with the first TOKEN_ENCRYPTION_KEYS key."

    def handle(self, *args, **options):
        counts = rotate_stored_tokens()
        audit.record("tokens.rotate_keys", "success", who="manage.py", **counts)
        self.stdout.write(
            f"Re-encrypted {counts['token_caches']} token caches and "
            f"{counts['sync_accounts']} sync accounts; {counts['unreadable']} unreadable."
        )
