from django.apps import AppConfig


class CallsConfig(AppConfig):
    name = "calls"
    verbose_name = "Calls"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from calls.phone import selectors as phone_selectors
        from portal import extensions

        extensions.register_footer(phone_selectors.layout_facts)
        user_logged_in.connect(phone_selectors.on_sign_in, dispatch_uid="calls.phone.offer")
