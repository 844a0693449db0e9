"""The notifications page: digests newest first, each expandable, escaped, read or unread per
person with a count in the nav; a failed delivery shows as failed, and an admin's "Retry now"
sends it again (to a real local HTTPS receiver)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from alerts.deliveries import address_key
from alerts.delivery.teams import redact
from alerts.models import Delivery, Digest, Finding
from delegation.models import SyncRun

pytestmark = pytest.mark.django_db
PAGE = "/alerts/"


def digest(rows: int = 1, name: str = "Bea Boss") -> Digest:
    run = SyncRun.objects.create(trigger="schedule", status="succeeded", finished_at=timezone.now())
    made = Digest.objects.create(run=run, findings_count=rows, counts={"manage_settings": rows})
    Finding.objects.bulk_create(
        Finding(
            digest=made,
            rule="manage_settings",
            delegator_id="b",
            delegator=name,
            delegate_id=f"d{i}",
            delegate=f"Delegate {i}",
            sentence="Added in Teams.",
        )
        for i in range(rows)
    )
    return made


def test_a_manager_sees_digests_newest_first_with_the_unread_count(client, make_user):
    older, newer = digest(name="Older Boss"), digest(name="Newer Boss")
    client.force_login(make_user("manager"))

    page = client.get(PAGE).content.decode()

    assert page.index(f'id="digest-{newer.pk}"') < page.index(f'id="digest-{older.pk}"')
    assert page.count("<details") == 2
    assert '2<span class="visually-hidden"> unread</span>' in page
    assert "New grant that may manage call settings" in page


def test_names_are_escaped(client, make_user):
    digest(name="<script>alert(1)</script>")
    client.force_login(make_user("manager"))
    page = client.get(PAGE).content.decode()
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page


def test_read_and_unread_are_per_person(client, make_user):
    first, second = digest(), digest()
    manager, admin = make_user("manager"), make_user("admin")
    client.force_login(manager)

    response = client.post(reverse("alerts:read", args=[first.pk]))

    assert response["Location"] == f"{PAGE}#digest-{first.pk}"
    page = client.get(PAGE).content.decode()
    assert '1<span class="visually-hidden"> unread</span>' in page
    client.post(reverse("alerts:read_all"))
    assert "unread</span>" not in client.get(PAGE).content.decode()
    client.force_login(admin)
    assert '2<span class="visually-hidden"> unread</span>' in client.get(PAGE).content.decode()
    assert second.reads.count() == 1


def test_a_long_digest_shows_its_first_rows_and_how_many_more(client, make_user):
    digest(rows=60)
    client.force_login(make_user("manager"))
    page = client.get(PAGE).content.decode()
    assert page.count("<td>Delegate ") == 50 and "And 10 more." in page


def failed_delivery(url_shown: str) -> Delivery:
    return Delivery.objects.create(
        digest=digest(),
        channel="teams",
        target=url_shown,
        target_key="x",
        state="failed",
        attempts=8,
        rules=["manage_settings"],
        last_error="HTTP 503 from https://x/…",
    )


def test_only_an_admin_is_offered_retry_now_for_a_failed_delivery(client, make_user):
    failed_delivery("https://contoso.webhook.office.com/webhookb2/…")
    client.force_login(make_user("manager"))
    page = client.get(PAGE).content.decode()
    assert "<strong>Failed</strong>, 8 attempts" in page and "Retry now" not in page
    client.force_login(make_user("admin"))
    assert "Retry now" in client.get(PAGE).content.decode()


def test_retry_now_sends_a_failed_delivery_again(
    client, make_user, settings, teams_webhook, tasks_inline, django_capture_on_commit_callbacks
):
    settings.ALERT_TEAMS_WEBHOOK_URLS = [teams_webhook.url]
    delivery = failed_delivery(redact(teams_webhook.url))
    Delivery.objects.filter(pk=delivery.pk).update(target_key=address_key(teams_webhook.url))
    client.force_login(make_user("admin"))

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("alerts:retry", args=[delivery.pk]))

    assert response.status_code == 302
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_error) == ("sent", 1, "")
    assert [e["answered"] for e in teams_webhook.events] == [200]
    # Sent is sent: a second press changes nothing.
    client.post(reverse("alerts:retry", args=[delivery.pk]))
    assert len(teams_webhook.events) == 1
