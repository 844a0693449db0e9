import socket

from celery import shared_task
from django.utils import timezone


@shared_task(name="portal.tasks.worker_heartbeat", ignore_result=True)
def worker_heartbeat() -> str:
    """Proves a worker consumes the queue (shown by /healthz)."""
    from portal.models import WorkerHeartbeat

    WorkerHeartbeat.objects.update_or_create(
        singleton=1, defaults={"at": timezone.now(), "hostname": socket.gethostname()}
    )
    return "ok"
