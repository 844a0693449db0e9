"""What /healthz checks: the database, the broker, and Microsoft's reachability; and, for
information only, when a worker last ran a task (a quiet queue must not fail the probe)."""

from __future__ import annotations

from django.core.cache import cache
from django.db import connection

from portal.celery import app
from portal.graph import health as graph_health
from portal.models import WorkerHeartbeat


def database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return {"ok": True, "vendor": connection.vendor}
    except Exception as exc:  # any database failure is "down", with its kind
        return {"ok": False, "error": type(exc).__name__}


def broker() -> dict:
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            return {
                "ok": True,
                "transport": conn.transport_cls
                if isinstance(conn.transport_cls, str)
                else conn.transport.driver_type,
            }
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}


def graph() -> dict:
    # Cached briefly: a load balancer probing every second must not probe Microsoft as often.
    cached = cache.get("healthz:graph")
    if cached is None:
        cached = graph_health.probe()
        cache.set("healthz:graph", cached, 15)
    return {"ok": all(v.get("ok") for v in cached.values()), **cached}


def worker_last_seen() -> str | None:
    """When a worker last ran the heartbeat task (beat queues it every minute)."""
    try:
        beat = WorkerHeartbeat.objects.only("at").first()
    except Exception:  # the database check already says why; this fact is only informational
        return None
    return beat.at.isoformat() if beat else None


def report() -> dict:
    checks = {"database": database(), "broker": broker(), "graph": graph()}
    return {
        "ok": all(c["ok"] for c in checks.values()),
        "checks": checks,
        "worker_last_seen": worker_last_seen(),
    }
