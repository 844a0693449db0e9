"""What alerts hang on others: the sync's signal (queue the run's evaluation, so the sync's
worker is not slowed) and the nav badge (through portal.extensions)."""

from __future__ import annotations

from alerts import selectors
from portal import extensions
from portal.queue import enqueue
from portal.roles import user_has_capability

EVALUATE_TASK = "alerts.tasks.evaluate_run"


def on_sync_applied(sender, run_id: int, drifted=(), **kwargs) -> None:
    enqueue(EVALUATE_TASK, run_id, list(drifted))


def footer(request) -> dict:
    """The unread digests' count for the nav, for those who may read them (one query, made only
    where the nav is drawn: not for htmx fragments)."""

    def unread() -> int:
        user = getattr(request, "user", None)
        if user is None or not user_has_capability(user, "view_alerts"):
            return 0
        return selectors.unread_count(user)

    return {"alerts_unread": extensions.lazy_fact(unread)}
