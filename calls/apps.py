from django.apps import AppConfig


class CallsConfig(AppConfig):
    name = "calls"
    verbose_name = "Calls"

    def ready(self):
        from calls.phone import selectors as phone_selectors
        from portal import extensions

        extensions.register_footer(phone_selectors.layout_facts)
