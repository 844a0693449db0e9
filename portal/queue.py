"""Queue background work by task name, after the current transaction commits.

Services queue work through `enqueue()` instead of importing an app's `tasks` module: tasks import
services (they are the thin adapter), never the other way, so no import cycle can form. The name is
the task's registered name (`"delegation.tasks.run_sync"`), which Celery's autodiscovery fills in.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from portal.celery import app


def send_now(name: str, *args: Any, **kwargs: Any) -> None:
    """Send the task at once. `send_task` ignores `task_always_eager`, so honour it here: eager
    mode (unit tests) runs the registered task in-process."""
    if app.conf.task_always_eager:
        # A worker imports every app's tasks.py at start; a web process never needs to, except
        # here, where it runs the task itself.
        app.loader.import_default_modules()
        app.tasks[name].apply(args=args, kwargs=kwargs, throw=True)
    else:
        app.send_task(name, args=args, kwargs=kwargs)


def enqueue(name: str, *args: Any, **kwargs: Any) -> None:
    """Send the task once the surrounding transaction commits (at once outside one), so a worker
    never reads a row that is not there yet."""
    transaction.on_commit(lambda: send_now(name, *args, **kwargs))


def signature(name: str, *args: Any, **kwargs: Any):
    """A task signature by name, for chords and chains (`celery.chord(header)(body)`)."""
    return app.signature(name, args=args, kwargs=kwargs)
