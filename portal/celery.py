"""The Celery app: autodiscovers tasks.py of each app; configured from settings (CELERY_*,
beat's schedule included)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
