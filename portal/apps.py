from django.apps import AppConfig
from django.db.models.signals import post_migrate


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal"

    def ready(self):
        from portal import token_store
        from portal.graph import tokens
        from portal.permissions import sync_role_groups

        post_migrate.connect(sync_role_groups, sender=self)
        tokens.use_sync_account_store(token_store.sync_account_store)
