"""Review campaigns as tests start them: over every grant, due in a week, the unreviewed kept,
unless a test says otherwise."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone


def campaign(actor, *, named=(), due_in_days: int = 7, **fields):
    """Start a campaign through the service; `named` reviewers (else the delegators' managers)."""
    from reviews.services.start import start_campaign

    values = {
        "name": "Year-end review",
        "scope": "all",
        "scope_value": "",
        "reviewers": "named" if named else "manager",
        "when_unreviewed": "keep",
        **fields,
    }
    due_on = timezone.localdate() + timedelta(days=due_in_days)
    return start_campaign(actor=actor, named=list(named), due_on=due_on, **values)
