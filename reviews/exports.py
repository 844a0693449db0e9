"""A campaign's report: who decided what, when and why, the removal's verified outcome, and what
Teams holds now. The same rows feed the printable page and the CSV (streamed a chunk at a
time, cells that a spreadsheet would read as formulas defused)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass

from django.http import StreamingHttpResponse
from django.utils.text import slugify

from delegation.exports import BOM, safe_cell
from portal import allowed_actions
from reviews import selectors
from reviews.models import Campaign, CampaignItem

CHUNK = 2000
HEADER = [
    "Delegator",
    "Delegator UPN",
    "Delegate",
    "Delegate UPN",
    "Allowed at the start",
    "Risks at the start",
    "Reviewer",
    "Decision",
    "Decided by",
    "Decided at",
    "Note",
    "Change request",
    "Outcome",
    "Teams holds now",
]


def actions_words(values: dict | None) -> str:
    """The allowed actions of a snapshot (or of the grant now), in words."""
    if values is None:
        return "no grant"
    allowed = [a.label for a in allowed_actions.ACTIONS if values.get(a.field)]
    words = ", ".join(allowed) or "no actions"
    return words if values.get("is_active", True) else f"{words} (inactive)"


def _now(item: CampaignItem) -> dict | None:
    grant = item.grant
    if grant is None:
        return None
    values = {field: getattr(grant, field) for field in allowed_actions.FIELDS}
    values["is_active"] = grant.is_active
    return values


@dataclass
class ReportRow:
    item: CampaignItem
    at_start: str
    now: str
    outcome: str
    decided_by: str

    @property
    def risks(self) -> list[str]:
        return [r for r in self.item.risks.split(",") if r]


def _row(item: CampaignItem) -> ReportRow:
    if item.automatic:
        by = "Nobody: the campaign's rule at closing"
    else:
        by = str(item.decided_by) if item.decided_by else ""
    return ReportRow(
        item, actions_words(item.snapshot), actions_words(_now(item)), item.outcome, by
    )


def report_rows(campaign: Campaign, limit: int | None = None) -> list[ReportRow]:
    items = selectors.report_items(campaign)
    return [_row(item) for item in (items[:limit] if limit else items)]


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(campaign: Campaign) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield BOM + writer.writerow(HEADER)
    for item in selectors.report_items(campaign).iterator(chunk_size=CHUNK):
        row = _row(item)
        values = [
            item.delegator.label,
            item.delegator.upn,
            item.delegate.label,
            item.delegate.upn,
            row.at_start,
            " ".join(row.risks),
            item.reviewer.label if item.reviewer else "",
            item.get_decision_display(),
            row.decided_by,
            item.decided_at,
            item.note,
            item.change_request_id or "",
            row.outcome,
            row.now,
        ]
        yield writer.writerow([safe_cell(v) for v in values])


def report_csv(campaign: Campaign) -> StreamingHttpResponse:
    response = StreamingHttpResponse(csv_lines(campaign), content_type="text/csv; charset=utf-8")
    name = slugify(campaign.name)[:60] or "campaign"
    response["Content-Disposition"] = f'attachment; filename="review-{campaign.pk}-{name}.csv"'
    return response
