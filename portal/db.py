"""Database idioms the apps share."""

from __future__ import annotations

from django.db import IntegrityError, transaction


def create_once(model, lookup: dict, **fields):
    """Insert a row unless one with `lookup` (a unique key) exists: `(row, created)`.

    Race-safe where `get_or_create` is not written to be: two requests with the same key both try
    the insert, the unique constraint lets one win, and the loser reads the winner's row (None if
    another unique column clashed and nothing matches `lookup`)."""
    try:
        with transaction.atomic():
            return model.objects.create(**lookup, **fields), True
    except IntegrityError:
        return model.objects.filter(**lookup).first(), False
