"""Alerts on a real Celery worker: the sync, the re-verification, the evaluation and the
deliveries each run as the worker's tasks, configured from the environment as in production
(EMAIL_URL=smtp://..., the webhook's URL and CA); the webhook fails once and gets the card on the
next round."""

from __future__ import annotations

import pytest

from alerts import deliveries
from alerts.models import Delivery, Digest
from delegation.models import SyncRun
from delegation.sync.service import request_sync, sync_now
from tests.support import smtp
from tests.support.processes import graphsim_env
from tests.support.receiver import Receiver
from tests.support.sync import boss_lets_nobody_manage_settings
from tests.support.waiting import wait_for


@pytest.fixture
def worker_channels(tenant, graphsim, monkeypatch, settings):
    controller, inbox = smtp.start()
    webhook = Receiver(200, tls=True, path="/webhookb2/0f1e@9a8b/IncomingWebhook/S3CR3TSIG/77aa")
    env = {
        **graphsim_env(graphsim),
        "SYNC_USE_APP_ONLY": "true",
        "EMAIL_URL": f"smtp://127.0.0.1:{controller.port}",
        "ALERT_EMAIL_TO": "security@contoso.test",
        "ALERT_TEAMS_WEBHOOK_URLS": webhook.url,
        "ALERT_WEBHOOK_CA_BUNDLE": webhook.ca_path,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    # This process plays beat's part (deliveries_due), with the same channels.
    settings.ALERT_TEAMS_WEBHOOK_URLS = [webhook.url]
    settings.ALERT_EMAIL_TO = ["security@contoso.test"]
    settings.ALERT_WEBHOOK_CA_BUNDLE = webhook.ca_path
    yield inbox, webhook
    webhook.close()
    controller.stop()


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_sync_on_a_real_worker_sends_one_email_and_one_card_once_the_webhook_recovers(
    tenant, worker_channels, celery_worker_process
):
    inbox, webhook = worker_channels
    sync_now()  # the baseline, here; its follow-ups go to the worker
    boss_lets_nobody_manage_settings(tenant)
    webhook.fail_next((503, {"Retry-After": "1"}))

    run = request_sync(trigger="manual")

    (message,) = inbox.wait_for(1, timeout=90)
    assert "manage call settings" in smtp.text_and_html(message)[0]
    webhook.wait_for(lambda: len(webhook.events) == 1, timeout=30)
    teams = wait_for(
        lambda: Delivery.objects.filter(channel="teams", state="pending", attempts=1).first()
    )
    assert SyncRun.objects.get(pk=run.pk).status == SyncRun.Status.SUCCEEDED
    assert Digest.objects.get().run_id == run.pk
    assert deliveries.deliveries_due(now=teams.next_try_at) == [teams.pk]
    assert [e["answered"] for e in webhook.events] == [503, 200]
    assert len(inbox.messages) == 1
