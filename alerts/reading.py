"""Read and unread, per person: writes for the notifications page."""

from __future__ import annotations

from alerts.models import Digest, DigestRead


def mark_read(user, digest_id: int) -> bool:
    """False when there is no such digest."""
    if not Digest.objects.filter(pk=digest_id).exists():
        return False
    DigestRead.objects.get_or_create(user=user, digest_id=digest_id)
    return True


def mark_all_read(user) -> int:
    unread = Digest.objects.exclude(reads__user=user).values_list("pk", flat=True)
    made = DigestRead.objects.bulk_create(
        [DigestRead(user=user, digest_id=pk) for pk in unread], ignore_conflicts=True
    )
    return len(made)
