"""The one way to write the audit log. Never pass tokens, codes or secrets in `detail`."""

from __future__ import annotations

from portal.models import AuditEvent

_MAX_DETAIL_TEXT = 2000


def _client_ip(request) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


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
    clean = {k: (v[:_MAX_DETAIL_TEXT] if isinstance(v, str) else v) for k, v in detail.items()}
    return AuditEvent.objects.create(
        actor=actor,
        actor_label=(str(actor) if actor is not None else detail.get("who", ""))[:256],
        action=action[:64],
        target=str(target)[:512],
        outcome=outcome,
        request_id=(request_id or "")[:128],
        ip=_client_ip(request),
        detail=clean,
    )
