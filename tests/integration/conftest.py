"""Fixtures the integration modules share; the helpers behind them live in tests/support."""

from __future__ import annotations

import pytest

from tests.support import changes, production, smtp, sync
from tests.support.factories import load_demo_directory
from tests.support.receiver import Receiver


@pytest.fixture
def tenant(graph_settings, sim):
    """graphsim with app-only delegation read on, and the sync set to use app-only tokens."""
    yield from sync.open_tenant(graph_settings, sim)


@pytest.fixture
def production_env(graphsim, tmp_path):
    """The environment of `bin/portal` in production, pointed at graphsim."""
    return production.production_env(graphsim, tmp_path)


@pytest.fixture
def tasks_inline():
    """Call actions are Celery tasks queued on commit: here they run in the process that queues
    them, at commit, as the worker would (test_calls_keepalive and the e2e test use a worker)."""
    from portal.celery import app

    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = False


@pytest.fixture
def calls_tenant(sim, graph_settings, live_server, settings, tasks_inline):
    """The demo tenant in the local cache; call callbacks go to this test's live server."""
    settings.CALLS_CALLBACK_BASE_URL = live_server.url
    people = load_demo_directory(sim.get("truth"))
    yield people
    sim.post("reset", {"calls": True, "config": True})


@pytest.fixture
def calls_sign_in(client, make_user, calls_tenant):
    """Sign the test client in as one of the demo people (no MSAL: see test_calls_live_check)."""

    def sign_in(upn_prefix: str, role: str | None = None):
        person = calls_tenant[upn_prefix]
        user = make_user(role, upn=person.upn, object_id=person.object_id)
        client.force_login(user)
        return user

    return sign_in


@pytest.fixture
def change_tasks(monkeypatch):
    """(task name, *args) queued by the delegation-change services, recorded instead of sent."""
    sent: list[tuple] = []

    def record(name, *args, **kwargs):
        sent.append((name, *args))

    for module in changes.CHANGE_SERVICES:
        monkeypatch.setattr(f"delegation.changes.services.{module}.enqueue", record)
    return sent


@pytest.fixture
def teams(graph_settings, graphsim, sim, signed_in_client, settings):
    """graphsim with the sync account connected (manager@, delegated) and the cache synced."""
    yield from changes.open_teams(sim, graphsim, signed_in_client, settings)


@pytest.fixture
def change_people(db):
    """Four directory people for change requests: boss, assistant, deputy, disabled."""
    return changes.demo_people()


@pytest.fixture
def smtp_inbox(settings):
    """A real SMTP server (aiosmtpd) that Django's SMTP backend sends to; its received mail."""
    controller, inbox = smtp.start()
    smtp.use_smtp(settings, controller)
    yield inbox
    controller.stop()


@pytest.fixture
def teams_webhook(settings):
    """A local HTTPS receiver standing in for a Teams Incoming Webhook, trusted through its own
    test CA; its URL carries a secret like a real one."""
    receiver = Receiver(200, tls=True, path="/webhookb2/0f1e@9a8b/IncomingWebhook/S3CR3TSIG/77aa")
    settings.ALERT_WEBHOOK_CA_BUNDLE = receiver.ca_path
    yield receiver
    receiver.close()


@pytest.fixture
def alert_channels(settings, smtp_inbox, teams_webhook, tasks_inline):
    """Alerts sent by email through the SMTP server and to the webhook, tasks run at commit."""
    settings.ALERT_EMAIL_TO = ["security@contoso.test", "it@contoso.test"]
    settings.ALERT_TEAMS_WEBHOOK_URLS = [teams_webhook.url]
    settings.PORTAL_URL = "https://portal.contoso.test"
    return {"inbox": smtp_inbox, "webhook": teams_webhook}
