"""Delivering digests: each channel address gets a Delivery row before anything is sent; a
worker claims it (a conditional update, so two never send it), sends once, and records the
outcome. A receiver that fails (429, 5xx, unreachable) gets the delivery again after its
Retry-After or a doubling wait, from the beat task, until it is sent or its attempts run out;
then it shows as failed, and an admin may send it again. Every outcome is audited."""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from alerts import rules, selectors
from alerts.delivery import email, teams
from alerts.delivery.result import Result
from alerts.models import Delivery, Digest
from portal import audit
from portal.queue import enqueue

DELIVER_TASK = "alerts.tasks.deliver"
STALE_SENDING = timedelta(minutes=15)  # a worker that died mid-send: try again
MAX_WAIT = timedelta(hours=6)

log = logging.getLogger(__name__)


def address_key(address: str) -> str:
    return hashlib.sha256(address.encode()).hexdigest()


def channels() -> list[tuple[str, str, str, list[str]]]:
    """(channel, address, shown as, rules) for each configured address, from the settings."""
    on = settings.ALERT_RULES_ON
    out = []
    mail_rules = [r for r in settings.ALERT_EMAIL_RULES if r in on]
    if settings.ALERT_EMAIL_TO and mail_rules:
        address = ", ".join(settings.ALERT_EMAIL_TO)
        out.append((Delivery.Channel.EMAIL, address, address, mail_rules))
    teams_rules = [r for r in settings.ALERT_TEAMS_RULES if r in on]
    for url in settings.ALERT_TEAMS_WEBHOOK_URLS if teams_rules else ():
        out.append((Delivery.Channel.TEAMS, url, teams.redact(url), teams_rules))
    return out


def plan(digest: Digest) -> list[Delivery]:
    """A delivery per channel address that carries at least one of the digest's rules, queued
    once the digest commits."""
    now = timezone.now()
    made = [
        Delivery(
            digest=digest,
            channel=channel,
            target=shown[:512],
            target_key=address_key(address),
            rules=wanted,
            next_try_at=now,
        )
        for channel, address, shown, wanted in channels()
        if set(wanted) & set(digest.counts)
    ]
    made = Delivery.objects.bulk_create(made)
    for delivery in Delivery.objects.filter(digest=digest):
        enqueue(DELIVER_TASK, delivery.pk)
    return made


def _address(delivery: Delivery) -> str | None:
    for channel, address, _, _ in channels():
        if channel == delivery.channel and address_key(address) == delivery.target_key:
            return address
    return None


def content(delivery: Delivery) -> dict:
    """What the email and the card say: the digest's counts for this channel's rules, the first
    rows, how many more, and the link to the digest on the portal's notifications page."""
    digest = delivery.digest
    limit = (
        settings.ALERT_MAX_ROWS if delivery.channel == Delivery.Channel.EMAIL else teams.CARD_ROWS
    )
    rows, total = selectors.finding_rows(digest, delivery.rules, limit)
    facts = [
        (rules.LABELS[r], digest.counts[r])
        for r in rules.ORDER
        if r in digest.counts and r in delivery.rules
    ]
    return {
        "title": f"Delegation alerts after sync #{digest.run_id}: {total} to look at",
        "facts": facts,
        "rows": rows,
        "more": max(0, total - len(rows)),
        "link": f"{settings.PORTAL_URL}/alerts/#digest-{digest.pk}",
    }


def _send(delivery: Delivery) -> Result:
    address = _address(delivery)
    if address is None:
        return Result(False, error="this address is no longer configured", permanent=True)
    context = content(delivery)
    if delivery.channel == Delivery.Channel.EMAIL:
        return email.send(context, list(settings.ALERT_EMAIL_TO))
    payload = teams.card(
        context["title"], context["facts"], context["rows"], context["more"], context["link"]
    )
    return teams.post(
        address,
        payload,
        ca_bundle=settings.ALERT_WEBHOOK_CA_BUNDLE,
        timeout=settings.ALERT_WEBHOOK_TIMEOUT_SECONDS,
    )


def attempt(delivery_id: int, now=None) -> Delivery | None:
    """Send a waiting delivery once if it is due; None when it is not ours to send (sent,
    failed, claimed by another worker, or not due yet)."""
    now = now or timezone.now()
    claimed = Delivery.objects.filter(
        pk=delivery_id, state=Delivery.State.PENDING, next_try_at__lte=now
    ).update(state=Delivery.State.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    if not claimed:
        return None
    delivery = Delivery.objects.select_related("digest").get(pk=delivery_id)
    try:
        result = _send(delivery)
    except Exception as exc:  # a bug must not leave the row claimed forever
        log.exception("alert delivery #%s failed unexpectedly", delivery_id)
        result = Result(False, error=f"unexpected {type(exc).__name__}")
    _record(delivery, result, now)
    return delivery


def _record(delivery: Delivery, result: Result, now) -> None:
    delivery.last_status = result.status
    delivery.last_error = result.error
    delivery.claimed_at = None
    if result.ok:
        delivery.state, delivery.sent_at, delivery.next_try_at = Delivery.State.SENT, now, None
    elif result.permanent or delivery.attempts >= settings.ALERT_DELIVERY_MAX_ATTEMPTS:
        delivery.state, delivery.next_try_at = Delivery.State.FAILED, None
    else:
        delivery.state = Delivery.State.PENDING
        delivery.next_try_at = now + wait_before_next(delivery.attempts, result.retry_after)
    delivery.save()
    outcome = {"sent": "success", "pending": "retry", "failed": "failure"}[delivery.state]
    audit.record(
        f"alerts.deliver.{delivery.channel}",
        outcome,
        target=f"alert digest #{delivery.digest_id} to {delivery.target}",
        who="alerts",
        attempt=delivery.attempts,
        status=result.status,
        error=result.error,
        next_try_at=delivery.next_try_at.isoformat() if delivery.next_try_at else None,
    )


def wait_before_next(attempts: int, retry_after: float | None) -> timedelta:
    """Doubling from ALERT_DELIVERY_RETRY_SECONDS; the receiver's Retry-After when longer."""
    backoff = timedelta(seconds=settings.ALERT_DELIVERY_RETRY_SECONDS * 2 ** max(0, attempts - 1))
    asked = timedelta(seconds=retry_after or 0)
    return max(min(backoff, MAX_WAIT), asked)


def deliveries_due(now=None) -> list[int]:
    """The beat task's round: take back deliveries a dead worker left claimed, then send every
    delivery whose next try is due. Returns the ids tried."""
    now = now or timezone.now()
    Delivery.objects.filter(
        state=Delivery.State.SENDING, claimed_at__lt=now - STALE_SENDING
    ).update(state=Delivery.State.PENDING, next_try_at=now, claimed_at=None)
    due = list(
        Delivery.objects.filter(state=Delivery.State.PENDING, next_try_at__lte=now)
        .order_by("next_try_at", "id")
        .values_list("pk", flat=True)[:500]
    )
    return [pk for pk in due if attempt(pk, now) is not None]


def retry_now(user, delivery_id: int, *, request=None) -> bool:
    """An admin sends a failed delivery again: it gets a fresh round of attempts."""
    moved = Delivery.objects.filter(pk=delivery_id, state=Delivery.State.FAILED).update(
        state=Delivery.State.PENDING, attempts=0, next_try_at=timezone.now(), last_error=""
    )
    audit.record(
        "alerts.retry",
        "success" if moved else "denied",
        request=request,
        actor=user,
        target=f"alert delivery #{delivery_id}",
    )
    if moved:
        enqueue(DELIVER_TASK, delivery_id)
    return bool(moved)
