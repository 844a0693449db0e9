"""Reads for the notifications page, the nav badge and the messages: a fixed number of queries
whatever the number of digests or findings."""

from __future__ import annotations

from django.db.models import Exists, F, OuterRef, Prefetch, Window
from django.db.models.functions import RowNumber

from alerts import rules
from alerts.models import Delivery, Digest, DigestRead, Finding

PAGE_SIZE = 20
ROWS_SHOWN = 50  # per digest on the page; the rest are counted


def finding_rows(digest: Digest, wanted: list[str], limit: int) -> tuple[list[dict], int]:
    """The first `limit` findings of these rules, as plain rows, and how many there are."""
    found = Finding.objects.filter(digest=digest, rule__in=list(wanted))
    rows = [
        {**row, "label": rules.LABELS.get(row["rule"], row["rule"])}
        for row in found.order_by("id").values("rule", "delegator", "delegate", "sentence")[:limit]
    ]
    total = sum(digest.counts.get(rule, 0) for rule in set(wanted))
    return rows, total


def unread_count(user) -> int:
    return Digest.objects.exclude(reads__user=user).count()


def digests_page(user, page: int = 1) -> dict:
    """Newest first: each digest with its first findings, its deliveries and whether this
    person has read it (four queries)."""
    page = max(1, page)
    read = DigestRead.objects.filter(digest=OuterRef("pk"), user=user)
    start = (page - 1) * PAGE_SIZE
    digests = list(
        Digest.objects.select_related("run")
        .annotate(read=Exists(read))
        .prefetch_related(Prefetch("deliveries", queryset=Delivery.objects.order_by("id")))
        .order_by("-created", "-id")[start : start + PAGE_SIZE + 1]
    )
    shown = _first_findings([d.pk for d in digests[:PAGE_SIZE]])
    for digest in digests:
        digest.shown = shown.get(digest.pk, [])
        digest.more = digest.findings_count - len(digest.shown)
        digest.rule_counts = [
            (rules.LABELS.get(r, r), digest.counts[r]) for r in rules.ORDER if r in digest.counts
        ]
    return {
        "digests": digests[:PAGE_SIZE],
        "page": page,
        "has_next": len(digests) > PAGE_SIZE,
        "unread": unread_count(user),
    }


def _first_findings(digest_ids: list[int]) -> dict[int, list[Finding]]:
    """The first ROWS_SHOWN findings of each digest, in one query however long they are."""
    position = Window(RowNumber(), partition_by=F("digest_id"), order_by=F("id").asc())
    rows = (
        Finding.objects.filter(digest_id__in=digest_ids)
        .annotate(position=position)
        .filter(position__lte=ROWS_SHOWN)
        .order_by("digest_id", "id")
    )
    out: dict[int, list[Finding]] = {}
    for finding in rows:
        finding.label = rules.LABELS.get(finding.rule, finding.rule)
        out.setdefault(finding.digest_id, []).append(finding)
    return out
