"""Start-up checks of the alert settings (Django's system checks): a misspelt rule id would
silently switch a rule off, and a webhook must be reached over HTTPS."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error

from alerts import rules
from alerts.delivery import teams


def check_alert_settings(app_configs=None, **kwargs) -> list[Error]:
    errors = []
    for name in ("ALERT_RULES_ON", "ALERT_EMAIL_RULES", "ALERT_TEAMS_RULES"):
        unknown = sorted(set(getattr(settings, name)) - set(rules.ORDER))
        if unknown:
            errors.append(
                Error(
                    f"{name} names unknown rules: {', '.join(unknown)}",
                    hint=f"Known rules: {', '.join(rules.ORDER)}.",
                    id="alerts.E001",
                )
            )
    for url in settings.ALERT_TEAMS_WEBHOOK_URLS:
        if not url.lower().startswith("https://"):
            errors.append(
                Error(
                    f"ALERT_TEAMS_WEBHOOK_URLS: {teams.redact(url)} is not an https URL",
                    id="alerts.E002",
                )
            )
    return errors
