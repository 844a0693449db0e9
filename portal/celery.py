"""The Celery app: autodiscovers tasks.py of each app; configured from settings (CELERY_*)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def _schedule(sender, **kwargs):
    """Beat's schedule is built from settings, so its period is an environment variable."""
    from django.conf import settings

    sender.conf.beat_schedule = {
        "sync-delegations": {
            "task": "delegation.tasks.scheduled_sync",
            "schedule": settings.SYNC_SCHEDULE_MINUTES * 60.0,
        },
        "calls-keepalive": {
            "task": "calls.tasks.keep_calls_alive",
            "schedule": max(60.0, settings.CALLS_KEEPALIVE_SECONDS / 3),
        },
        "portal-worker-heartbeat": {
            "task": "portal.tasks.worker_heartbeat",
            "schedule": 60.0,
        },
    }
