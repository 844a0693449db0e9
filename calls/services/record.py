"""Saving what a submitted form asks for, once: the key the form carried is the row's unique
idempotency_key, so a double submit finds the first row and neither audits nor sends again."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction

from portal.db import create_once
from portal.queue import enqueue


def record_and_queue(model, idempotency_key: str, task: str, audit: Callable, **fields):
    """Insert the row unless the key has one: `(row, created)`. Only the request that inserted it
    audits it and queues `task` for it, in one transaction with the insert, so the row and its
    audit commit together and the worker is sent the row only once both have."""
    with transaction.atomic():
        row, created = create_once(model, {"idempotency_key": idempotency_key}, **fields)
        if created:
            audit(row)
            enqueue(task, row.pk)
    return row, created
