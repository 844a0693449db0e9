from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"
    label = "alerts"
    verbose_name = "Alerts after each sync"

    def ready(self):
        from django.core import checks

        from alerts import hooks
        from alerts.checks import check_alert_settings
        from delegation.sync.signals import sync_applied
        from portal import extensions

        # The sync never imports alerts: it says a run is applied, and the evaluation is queued.
        sync_applied.connect(hooks.on_sync_applied, dispatch_uid="alerts.evaluate_run")
        extensions.register_footer(hooks.footer)
        checks.register(check_alert_settings)
