from django.apps import AppConfig


class DelegationConfig(AppConfig):
    name = "delegation"
    verbose_name = "Delegation"

    def ready(self):
        from delegation import portal_hooks
        from portal import extensions

        extensions.register_landing(portal_hooks.landing)
        extensions.register_footer(portal_hooks.footer)
        extensions.register_access_check(portal_hooks.access_refusal)
        extensions.register_setup_facts(portal_hooks.setup_facts)
