from django.apps import AppConfig


class ChangesConfig(AppConfig):
    name = "delegation.changes"
    label = "changes"
    verbose_name = "Delegation change requests"
