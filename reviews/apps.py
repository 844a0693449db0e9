from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "reviews"
    verbose_name = "Review campaigns"

    def ready(self):
        from portal import extensions
        from reviews import portal_hooks

        extensions.register_landing(portal_hooks.landing)
