"""What alerts hang on others: the sync's signal (queue the run's evaluation, so the sync's
worker is not slowed) and the nav badge (through portal.extensions)."""

from __future__ import annotations

from alerts import selectors
from portal.queue import enqueue
from portal.roles import user_has_capability

EVALUATE_TASK = "alerts.tasks.evaluate_run"


def on_sync_applied(sender, run_id: int, drifted=(), **kwargs) -> None:
    enqueue(EVALUATE_TASK, run_id, list(drifted))


def footer(request) -> dict:
    """The unread digests' count for the nav, for those who may read them (one query)."""
    user = getattr(request, "user", None)
    if user is None or not user_has_capability(user, "view_alerts"):
        return {}
    return {"alerts_unread": selectors.unread_count(user)}
