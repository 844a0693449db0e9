"""Serialising changes per person, on PersonLock rows (see the model for why two kinds).

- `lock_people(*ids)`: inside a transaction, lock both people's rows (select_for_update, in one
  order so two requests never deadlock). Deciding a request holds it while it reads the facts and
  inserts the request: two requests cannot both take the 25th place or both pass "no pending
  request for this pair". On SQLite select_for_update is a no-op and BEGIN IMMEDIATE serialises
  every writer anyway.
- `lease(delegator, holder)`: a hold on the delegator's row that lasts
  DELEGATION_CHANGE_LEASE_SECONDS, taken and given back with conditional UPDATEs, no transaction
  held open: applying a change (Graph write, re-read, cache update) holds it, so two changes to
  one delegator never interleave their writes and re-reads. A dead worker's lease runs out; the
  same holder (one change request) may take its own lease again.
"""

from __future__ import annotations

import time
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from delegation.changes.models import PersonLock
from portal.db import create_once

POLL_SECONDS = 0.2


def _ensure_rows(object_ids: list[str]) -> None:
    have = set(
        PersonLock.objects.filter(object_id__in=object_ids).values_list("object_id", flat=True)
    )
    for object_id in object_ids:
        if object_id not in have:
            create_once(PersonLock, {"object_id": object_id})  # a racing insert is fine


def lock_people(*object_ids: str) -> None:
    """Lock these people's rows until the surrounding transaction ends."""
    ids = sorted({object_id.lower() for object_id in object_ids if object_id})
    _ensure_rows(ids)
    list(PersonLock.objects.select_for_update().filter(object_id__in=ids).order_by("object_id"))


def lease(delegator_id: str, holder: str, *, seconds: float | None = None) -> bool:
    """Take (or renew) the delegator's lease for `holder`; False if someone else holds it."""
    object_id = delegator_id.lower()
    _ensure_rows([object_id])
    now = timezone.now()
    seconds = settings.DELEGATION_CHANGE_LEASE_SECONDS if seconds is None else seconds
    free = Q(leased_by="") | Q(leased_until__lt=now) | Q(leased_by=holder)
    taken = PersonLock.objects.filter(free, object_id=object_id).update(
        leased_by=holder[:64], leased_until=now + timedelta(seconds=seconds)
    )
    return taken == 1


def wait_for_lease(delegator_id: str, holder: str, *, wait: float | None = None) -> bool:
    """`lease`, polling for up to DELEGATION_CHANGE_LEASE_WAIT_SECONDS while another holds it."""
    wait = settings.DELEGATION_CHANGE_LEASE_WAIT_SECONDS if wait is None else wait
    deadline = time.monotonic() + wait
    while not lease(delegator_id, holder):
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL_SECONDS)
    return True


def release(delegator_id: str, holder: str) -> None:
    PersonLock.objects.filter(object_id=delegator_id.lower(), leased_by=holder[:64]).update(
        leased_by="", leased_until=None
    )
