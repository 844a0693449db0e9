"""Keep live calls alive: Graph ends a call that has not had a keepAlive for 45 minutes
(408/8537, GRAPH_CONTRACT §6), so beat sends one well before that."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from calls import states
from calls.models import Call
from calls.services.state import apply_state
from portal import audit
from portal.graph import calls as graph_calls
from portal.graph.errors import GraphError, TokenError

log = logging.getLogger(__name__)

# An incoming call that nobody answered is not ours to keep alive; a requested one has no id.
_NOT_KEPT = (states.REQUESTED, states.INCOMING, *states.FINAL)


def calls_due_for_keepalive(now=None):
    now = now or timezone.now()
    due_before = now - timedelta(seconds=settings.CALLS_KEEPALIVE_SECONDS)
    return (
        Call.objects.exclude(state__in=_NOT_KEPT)
        .exclude(graph_id="")
        .filter(
            Q(last_keepalive_at__lte=due_before)
            | Q(last_keepalive_at__isnull=True, created_at__lte=due_before)
        )
    )


def keep_calls_alive(now=None) -> dict:
    """Send keepAlive to every call due; a call Graph no longer knows (404) is marked ended."""
    counts = {"kept": 0, "gone": 0, "failed": 0}
    for call in calls_due_for_keepalive(now).only("pk", "graph_id")[:500]:
        try:
            graph_calls.keep_alive(call.graph_id)
        except GraphError as exc:
            if exc.status == 404:
                apply_state(call.pk, states.TERMINATED, ("404", "", "Graph no longer knows it"))
                audit.record(
                    "call.gone",
                    "success",
                    target=call.audit_target,
                    request_id=exc.request_id,
                    who="keepAlive",
                )
                counts["gone"] += 1
            else:
                log.warning("keepAlive for call %s failed: %s", call.pk, exc)
                counts["failed"] += 1
            continue
        except TokenError as exc:
            log.warning("keepAlive: no app token: %s", exc)
            counts["failed"] += 1
            break
        Call.objects.filter(pk=call.pk).update(last_keepalive_at=timezone.now())
        counts["kept"] += 1
    return counts
