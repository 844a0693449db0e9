"""The alert settings are checked at start-up: unknown rule ids and plain-http webhooks."""

from __future__ import annotations

from alerts.checks import check_alert_settings


def test_the_default_alert_settings_pass(settings):
    settings.ALERT_TEAMS_WEBHOOK_URLS = ["https://contoso.webhook.office.com/webhookb2/x/y"]
    assert check_alert_settings() == []


def test_an_unknown_rule_and_a_plain_http_webhook_are_errors_without_the_secret(settings):
    settings.ALERT_EMAIL_RULES = ["drift", "manage_setings"]
    settings.ALERT_TEAMS_WEBHOOK_URLS = ["http://hooks.example/webhookb2/S3CR3T/z"]
    errors = check_alert_settings()
    assert [e.id for e in errors] == ["alerts.E001", "alerts.E002"]
    assert "manage_setings" in errors[0].msg
    assert "S3CR3T" not in errors[1].msg
