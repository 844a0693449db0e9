"""Review campaigns: a manager asks reviewers to keep or revoke each grant in a scope by a due
date; closing it turns revokes (and, if the campaign says so, what nobody reviewed) into
removal change requests, whose verified outcome each item shows."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from delegation.changes.models import ChangeRequest
from delegation.models import Delegation, DirectoryUser, GrantReview


class Campaign(models.Model):
    class Scope(models.TextChoices):
        ALL = "all", "Every grant"
        DEPARTMENT = "department", "The grants of one department's delegators"
        RISK = "risk", "The grants one risk rule flags"

    class Reviewers(models.TextChoices):
        MANAGER = "manager", "The delegator's manager"
        NAMED = "named", "Named people"

    class Unreviewed(models.TextChoices):
        KEEP = "keep", "Keep them"
        REVOKE = "revoke", "Revoke them"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    name = models.CharField(max_length=200)
    scope = models.CharField(max_length=16, choices=Scope.choices, default=Scope.ALL)
    scope_value = models.CharField(max_length=256, blank=True, default="")  # department or rule
    reviewers = models.CharField(max_length=16, choices=Reviewers.choices)
    named_reviewers = models.ManyToManyField(DirectoryUser, blank=True, related_name="+")
    due_on = models.DateField()
    when_unreviewed = models.CharField(max_length=16, choices=Unreviewed.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(auto_now_add=True)
    items_total = models.PositiveIntegerField(default=0)
    reminded_on = models.DateField(null=True, blank=True)  # the last day reminders went out
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_automatically = models.BooleanField(default=False)  # at the due date, by beat

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return self.name


class CampaignItem(models.Model):
    """One grant in a campaign's scope, as it stood when the campaign started, and what became
    of it: the decision, who took it and why, and the removal request a revoke made."""

    class Decision(models.TextChoices):
        NONE = "", "Not reviewed"
        KEEP = "keep", "Keep"
        REVOKE = "revoke", "Revoke"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="items")
    grant = models.ForeignKey(
        Delegation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    delegator = models.ForeignKey(DirectoryUser, on_delete=models.CASCADE, related_name="+")
    delegate = models.ForeignKey(DirectoryUser, on_delete=models.CASCADE, related_name="+")
    snapshot = models.JSONField(default=dict)  # the grant as it stood at the start
    risks = models.CharField(max_length=256, blank=True, default="")  # ",rule,rule," at start
    reviewer = models.ForeignKey(
        DirectoryUser, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decision = models.CharField(max_length=8, choices=Decision.choices, blank=True, default="")
    note = models.TextField(blank=True, default="")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    automatic = models.BooleanField(default=False)  # decided at closing: nobody reviewed it
    review = models.ForeignKey(
        GrantReview, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    change_request = models.ForeignKey(
        ChangeRequest, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    refusal = models.TextField(blank=True, default="")  # why no removal could be requested

    class Meta:
        ordering = ["id"]
        indexes = [
            # A reviewer's queue, unreviewed first or all, in id order (keyset pages).
            models.Index(fields=["reviewer", "decision", "id"]),
            models.Index(fields=["campaign", "decision"]),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}: {self.delegator_id} -> {self.delegate_id}"

    @property
    def outcome(self) -> str:
        """What became of it, in words: kept, or its removal request's state."""
        if self.decision == self.Decision.KEEP:
            return "Kept"
        if self.decision != self.Decision.REVOKE:
            return "Not reviewed yet"
        if self.change_request is not None:
            return f"Removal: {self.change_request.status_words}"
        if self.refusal:
            return f"No removal requested: {self.refusal}"
        return "To be removed when the campaign closes"
