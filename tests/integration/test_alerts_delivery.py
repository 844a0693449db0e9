"""Alerts end to end: a sync against graphsim that changes grants -> one digest -> one email
through a real SMTP server and one Adaptive Card to a real local HTTPS receiver; receivers that
fail (429 with Retry-After, 503, SMTP 451) get the digest later, once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import Q

from alerts import deliveries
from alerts.models import Delivery, Digest
from delegation.models import Delegation
from delegation.sync.service import sync_now
from portal.models import AuditEvent
from tests.support import smtp
from tests.support.sync import boss_lets_nobody_manage_settings, has_teams_phone

pytestmark = pytest.mark.django_db
SECRET = "S3CR3TSIG"


@pytest.fixture
def settle(django_capture_on_commit_callbacks):
    """Run a sync and everything it queues at commit (re-verification, alerts, deliveries),
    as the worker would."""

    def run_sync():
        with django_capture_on_commit_callbacks(execute=True):
            return sync_now()

    return run_sync


def people(tenant) -> dict:
    return {u["userPrincipalName"]: u for u in tenant.truth()["users"]}


def test_a_sync_with_changes_sends_one_digest_by_email_and_one_card_to_teams(
    tenant, alert_channels, settle, settings
):
    inbox, webhook = alert_channels["inbox"], alert_channels["webhook"]
    settle()  # the first sync is where the portal starts: no alerts
    assert not Digest.objects.exists() and not webhook.events and not inbox.messages
    by_upn = people(tenant)
    boss, nobody = by_upn["boss@contoso.test"], by_upn["nobody@contoso.test"]
    disabled = next(u for u in by_upn.values() if not u["accountEnabled"])
    boss_delegates = Delegation.objects.filter(delegator__object_id=boss["id"]).count()
    settings.ALERT_MANY_DELEGATES = boss_delegates + 1  # the run takes the boss past it
    manage = {"manageCallAndDelegateSettings": True}
    rows = [
        {"delegator": boss["id"], "delegate": nobody["id"], "allowedActions": manage},
        {"delegator": boss["id"], "delegate": disabled["id"]},
    ]
    tenant.sim.post("tenant", {"delegations": {"set": rows}})

    run = settle()

    digest = Digest.objects.get(run=run)
    found = {(f.rule, f.delegate_id) for f in digest.findings.all()}
    assert {
        ("manage_settings", nobody["id"]),
        ("disabled_account", disabled["id"]),
        ("many_delegates", ""),
    } <= found
    (message,) = inbox.wait_for(1)
    assert sorted(inbox.recipients[0]) == ["it@contoso.test", "security@contoso.test"]
    assert message["Subject"] == digest_title(digest)
    text, html = smtp.text_and_html(message)
    for finding in digest.findings.all():
        assert finding.sentence.split(":")[0] in text
        assert finding.delegator in text
    assert f"https://portal.contoso.test/alerts/#digest-{digest.pk}" in html
    webhook.wait_for(lambda: len(webhook.events) == 1)
    card = webhook.events[0]["body"]["attachments"][0]["content"]
    assert card["body"][0]["text"] == digest_title(digest)
    assert len(card["body"]) == 2 + digest.findings_count  # heading, counts, a block per row
    assert set(Delivery.objects.values_list("channel", "state", "attempts")) == {
        ("email", "sent", 1),
        ("teams", "sent", 1),
    }


def test_a_delegate_disabled_in_entra_raises_one_alert_per_grant_they_still_hold(
    tenant, settle, tasks_inline
):
    settle()  # the baseline
    assistant = people(tenant)["assistant@contoso.test"]
    theirs = Delegation.objects.filter(
        Q(delegate__object_id=assistant["id"]) | Q(delegator__object_id=assistant["id"]),
        is_active=True,
    )
    held = set(theirs.values_list("delegator__object_id", "delegate__object_id"))
    assert held, "the demo tenant's assistant holds active grants"
    update = {"users": {"update": [{"id": assistant["id"], "accountEnabled": False}]}}
    tenant.sim.post("tenant", update)

    run = settle()  # no grant changed; the account did

    findings = Digest.objects.get(run=run).findings.filter(rule="disabled_account")
    assert set(findings.values_list("delegator_id", "delegate_id")) == held
    assert all(f.sentence.startswith("This sync found it: ") for f in findings)
    assert all("is disabled" in f.sentence for f in findings)
    assert not Digest.objects.filter(run=settle()).exists()  # said once, not every run after


def digest_title(digest) -> str:
    return f"Delegation alerts after sync #{digest.run_id}: {digest.findings_count} to look at"


def test_many_changes_make_one_email_and_one_post_each_bounded(
    tenant, alert_channels, settle, settings
):
    inbox, webhook = alert_channels["inbox"], alert_channels["webhook"]
    settings.ALERT_MAX_ROWS = 5
    settings.ALERT_RULES_ON = ["manage_settings"]
    settle()
    # Delegators with Teams Phone: the sync reads their delegates on every run.
    users = [u for u in tenant.truth()["users"] if u["accountEnabled"]]
    phones = [u for u in users if has_teams_phone(u)][:40]
    others = [u for u in users if u not in phones][:40]
    assert len(phones) == len(others) == 40
    manage = {"manageCallAndDelegateSettings": True}
    rows = [
        {"delegator": a["id"], "delegate": b["id"], "allowedActions": manage, "force": True}
        for a, b in zip(phones, others, strict=True)
    ]
    tenant.sim.post("tenant", {"delegations": {"set": rows}})

    run = settle()

    digest = Digest.objects.get(run=run)
    assert digest.findings_count >= 40
    (message,) = inbox.wait_for(1)
    text, html = smtp.text_and_html(message)
    assert text.count("\n- New grant that may manage call settings") == 5
    more = digest.findings_count - 5
    assert f"And {more} more, see https://portal.contoso.test/alerts/#digest-{digest.pk}" in text
    assert html.count("<tr><td>New grant") == 5
    webhook.wait_for(lambda: len(webhook.events) == 1)
    body = webhook.events[0]["body"]["attachments"][0]["content"]["body"]
    assert body[-1]["text"] == f"And {digest.findings_count - 15} more."
    assert len(inbox.messages) == 1 and len(webhook.events) == 1


def test_a_failing_webhook_gets_the_digest_once_after_retry_after_and_a_503(
    tenant, alert_channels, settle, settings
):
    inbox, webhook = alert_channels["inbox"], alert_channels["webhook"]
    settings.ALERT_DELIVERY_RETRY_SECONDS = 30
    settle()
    boss_lets_nobody_manage_settings(tenant)
    webhook.fail_next((429, {"Retry-After": "120"}), (503, {}))

    settle()

    teams = Delivery.objects.get(channel="teams")
    assert (teams.state, teams.attempts, teams.last_status) == ("pending", 1, 429)
    first_try = teams.next_try_at
    assert first_try - teams.digest.created >= timedelta(seconds=119)  # Retry-After honoured
    # Not due yet: the beat round leaves it alone.
    assert deliveries.deliveries_due(now=first_try - timedelta(seconds=1)) == []
    assert len(webhook.events) == 1
    # Due: the receiver answers 503, so it waits again (doubling from 30 s: 60 s).
    assert deliveries.deliveries_due(now=first_try) == [teams.pk]
    teams.refresh_from_db()
    assert (teams.state, teams.attempts, teams.last_status) == ("pending", 2, 503)
    assert teams.next_try_at == first_try + timedelta(seconds=60)
    # The receiver recovered: delivered once, every attempt recorded and audited.
    assert deliveries.deliveries_due(now=teams.next_try_at) == [teams.pk]
    teams.refresh_from_db()
    assert (teams.state, teams.attempts, teams.last_status) == ("sent", 3, 200)
    assert [e["answered"] for e in webhook.events] == [429, 503, 200]
    assert webhook.events[0]["body"] == webhook.events[2]["body"]
    assert deliveries.deliveries_due(now=first_try + timedelta(days=1)) == []  # sent is sent
    assert len(webhook.events) == 3 and len(inbox.wait_for(1)) == 1
    outcomes = AuditEvent.objects.filter(action="alerts.deliver.teams").order_by("id")
    assert list(outcomes.values_list("outcome", flat=True)) == ["retry", "retry", "success"]
    assert_secret_never_kept()


def assert_secret_never_kept():
    for event in AuditEvent.objects.all():
        assert SECRET not in f"{event.target} {event.detail}"
    for delivery in Delivery.objects.all():
        assert SECRET not in f"{delivery.target} {delivery.last_error}"


def test_an_smtp_server_refusing_for_a_while_gets_the_email_later(
    tenant, alert_channels, settle, settings
):
    inbox = alert_channels["inbox"]
    settings.ALERT_TEAMS_WEBHOOK_URLS = []
    settle()
    boss_lets_nobody_manage_settings(tenant)
    inbox.refuse_with = "451 4.3.0 Try again later"

    settle()

    email = Delivery.objects.get(channel="email")
    assert (email.state, email.attempts, email.last_status) == ("pending", 1, 451)
    assert inbox.messages == []
    inbox.refuse_with = None
    assert deliveries.deliveries_due(now=email.next_try_at) == [email.pk]
    email.refresh_from_db()
    assert (email.state, email.attempts) == ("sent", 2)
    assert len(inbox.wait_for(1)) == 1


def test_a_webhook_that_is_not_trusted_is_never_sent_to(tenant, alert_channels, settle, settings):
    """The receiver's certificate is checked: without its CA the post fails, and is retried."""
    webhook = alert_channels["webhook"]
    settings.ALERT_WEBHOOK_CA_BUNDLE = ""  # the system's CAs, which never signed the test CA
    settle()
    boss_lets_nobody_manage_settings(tenant)

    settle()

    teams = Delivery.objects.get(channel="teams")
    assert teams.state == "pending" and teams.last_error.startswith("SSLError")
    assert webhook.events == []
    assert_secret_never_kept()
