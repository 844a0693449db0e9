"""Celery tasks of the portal itself."""

import socket

from celery import shared_task
from django.core.management import call_command
from django.utils import timezone

from portal.models import WorkerHeartbeat


@shared_task(name="portal.tasks.worker_heartbeat", ignore_result=True)
def worker_heartbeat() -> str:
    """Proves a worker consumes the queue (/healthz shows when one last did)."""
    WorkerHeartbeat.objects.update_or_create(
        singleton=1, defaults={"at": timezone.now(), "hostname": socket.gethostname()}
    )
    return "ok"


@shared_task(name="portal.tasks.clear_expired_sessions", ignore_result=True)
def clear_expired_sessions() -> str:
    """Session rows past their expiry (sign-ins never finished, people who never signed out)
    are deleted: nothing else removes them from the database."""
    call_command("clearsessions")
    return "ok"
