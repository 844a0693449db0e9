"""The one way to write the audit log. Never pass tokens, codes or secrets in `detail`."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from portal import ratelimit
from portal.client_ip import client_ip
from portal.models import AuditEvent

_MAX_DETAIL_TEXT = 2000


def _text(value: str, limit: int) -> str:
    # NUL cannot be stored in PostgreSQL text or jsonb; it reaches us from query strings.
    return value.replace("\x00", "")[:limit]


def record(
    action: str,
    outcome: str,
    *,
    request=None,
    actor=None,
    target: str = "",
    request_id: str = "",
    **detail,
) -> AuditEvent:
    """Append one event. `actor` defaults to the request's signed-in user."""
    if actor is None and request is not None and getattr(request, "user", None) is not None:
        actor = request.user if request.user.is_authenticated else None
    clean = {
        k: (_text(v, _MAX_DETAIL_TEXT) if isinstance(v, str) else v) for k, v in detail.items()
    }
    return AuditEvent.objects.create(
        actor=actor,
        actor_label=_text(str(actor) if actor is not None else detail.get("who", ""), 256),
        action=action[:64],
        target=_text(str(target), 512),
        outcome=outcome,
        request_id=_text(request_id or "", 128),
        ip=client_ip(request),
        detail=clean,
    )


def record_repeated(
    action: str,
    outcome: str,
    *,
    request,
    reason: str,
    window_start: float,
    window_seconds: int,
    **detail,
) -> AuditEvent:
    """Like `record`, but one row per (client, action, outcome, reason) per window: a repeat
    updates that row's `count` and `last_at` instead of adding one, so a client repeating a
    failure cannot grow the log by more than a row per window. The only update audit rows get."""
    ip = client_ip(request)
    slot = f"audit:repeat:{action}:{outcome}:{ip}:{reason}:{window_start:.6f}"
    count = ratelimit.increment(slot, timeout=window_seconds)
    if count > 1:
        since = dt.datetime.fromtimestamp(int(window_start) - 1, tz=dt.UTC)
        first = (
            AuditEvent.objects.filter(
                action=action, outcome=outcome, ip=ip, at__gte=since, detail__reason=reason
            )
            .order_by("id")
            .first()
        )
        if first is not None:
            changed = {**first.detail, "count": count, "last_at": timezone.now().isoformat()}
            # Never back: two requests at once may reach here in either order.
            AuditEvent.objects.filter(pk=first.pk, detail__count__lt=count).update(detail=changed)
            return first
    return record(action, outcome, request=request, reason=reason, count=count, **detail)
