"""Change requests and the batches (one CSV import, one bulk review) that group them.

A request freezes who asked and the people's names and UPNs when it was made, as NetBox's
ObjectChange keeps `user_name`: the record reads the same after an account or person is gone.
People are held by object id, not by foreign key to the cache: a sync may drop a person row,
the request must survive it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from delegation.changes import snapshots, states
from delegation.models import GrantReview


class ChangeBatch(models.Model):
    """One CSV import or one bulk review: planned (dry run), then applied as one job. The same
    shape as SyncRun: status, progress, counts, who and when."""

    class Kind(models.TextChoices):
        CSV_IMPORT = "csv_import", "CSV import"
        BULK_REVIEW = "bulk_review", "Bulk review"

    class Status(models.TextChoices):
        PLANNED = "planned", "Dry run done, not applied"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Applying"
        SUCCEEDED = "succeeded", "Applied"
        PARTIAL = "partial", "Applied with failures"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PLANNED)
    file_name = models.CharField(max_length=256, blank=True, default="")
    file_sha256 = models.CharField(max_length=64, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_name = models.CharField(max_length=256, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    rows = models.PositiveIntegerField(default=0)
    adds = models.PositiveIntegerField(default=0)
    changes = models.PositiveIntegerField(default=0)
    removes = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    refused_rows = models.PositiveIntegerField(default=0)
    applied = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} {self.status}"

    @property
    def to_apply(self) -> int:
        return self.adds + self.changes + self.removes

    @property
    def can_apply(self) -> bool:
        """A dry run with something to do and no refused row: an import applies all or nothing."""
        return self.status == self.Status.PLANNED and not self.refused_rows and self.to_apply > 0

    @property
    def percent_done(self) -> int:
        if not self.progress_total:
            return 0
        return min(100, self.progress_done * 100 // self.progress_total)


class ChangeRequest(models.Model):
    """Someone asked to add, change or remove one delegate of one delegator."""

    class Kind(models.TextChoices):
        ADD = "add", "Add a delegate"
        CHANGE = "change", "Change a delegate's allowed actions"
        REMOVE = "remove", "Remove a delegate"

    class ActingAs(models.TextChoices):
        # Decides whose token applies it: the delegator's own, the delegate's, or the sync
        # account's (helpdesk/admin), since Graph's writes take delegated tokens only (§9).
        SELF = "self", "The delegator"
        DELEGATE = "delegate", "A delegate allowed to manage settings"
        STAFF = "staff", "Helpdesk or admin"

    class Method(models.TextChoices):
        GRAPH = "graph", "Microsoft Graph"
        POWERSHELL = "powershell", "Teams PowerShell"

    class OnEnd(models.TextChoices):
        REMOVE = "remove", "Remove the delegate"
        RESTORE = "restore", "Restore the allowed actions it had before"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    delegator_object_id = models.CharField(max_length=64)
    delegator_name = models.CharField(max_length=256, blank=True, default="")
    delegator_upn = models.CharField(max_length=256, blank=True, default="")
    delegate_object_id = models.CharField(max_length=64)
    delegate_name = models.CharField(max_length=256, blank=True, default="")
    delegate_upn = models.CharField(max_length=256, blank=True, default="")
    # snapshots.KEYS each, or None for "no grant" (before an add, after a remove).
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    reason = models.TextField(blank=True, default="")
    ends_at = models.DateTimeField(null=True, blank=True)
    on_end = models.CharField(max_length=8, choices=OnEnd.choices, blank=True, default="")
    # The request that carries out the ending (a remove, or a change back to `before`).
    ended_by = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="ends"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_by_name = models.CharField(max_length=256, blank=True, default="")
    acting_as = models.CharField(max_length=8, choices=ActingAs.choices)
    status = models.CharField(max_length=24, choices=states.CHOICES, default=states.REQUESTED)
    method = models.CharField(max_length=16, choices=Method.choices, blank=True, default="")
    failure = models.TextField(blank=True, default="")
    graph_request_id = models.CharField(max_length=64, blank=True, default="")
    # One per submitted form or CSV row: a double submit finds the first request.
    idempotency_key = models.CharField(max_length=64, unique=True)
    batch = models.ForeignKey(
        ChangeBatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="requests"
    )
    batch_line = models.PositiveIntegerField(null=True, blank=True)  # the CSV line it came from
    # The review decision ("revoke") this removal carries out.
    review = models.ForeignKey(
        GrantReview, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_by_name = models.CharField(max_length=256, blank=True, default="")
    approved_at = models.DateTimeField(null=True, blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    # Applying: how many times a write was claimed (bounded by DELEGATION_CHANGE_MAX_ATTEMPTS),
    # when the current claim was taken (a claim older than the lease belongs to a dead worker),
    # when a Graph write went out whose outcome is not settled yet (set before sending: the
    # next attempt re-reads Teams before it may send anything), and when to try again.
    attempts = models.PositiveSmallIntegerField(default=0)
    applying_at = models.DateTimeField(null=True, blank=True)
    write_sent_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # Ending a time-boxed grant: how many ending requests were made (the key of the next one).
    end_attempts = models.PositiveSmallIntegerField(default=0)
    verified_at = models.DateTimeField(null=True, blank=True)
    drifted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # Pending for this delegator (races, the 25 limit) and for this delegate (its 25).
            models.Index(fields=["delegator_object_id", "status"], name="change_delegator_status"),
            models.Index(fields=["delegate_object_id", "status"], name="change_delegate_status"),
            # Due to end: status=verified and ends_at <= now.
            models.Index(fields=["status", "ends_at"], name="change_status_ends_at"),
            # Awaiting PowerShell (and any other state's list), oldest first.
            models.Index(fields=["status", "created_at"], name="change_status_created"),
            # Due for another attempt (requested or applying with next_attempt_at <= now).
            models.Index(fields=["status", "next_attempt_at"], name="change_status_next_attempt"),
        ]

    def __str__(self) -> str:
        return (
            f"change #{self.pk} {self.kind} {self.delegator_object_id} -> {self.delegate_object_id}"
        )

    @property
    def is_pending(self) -> bool:
        return self.status in states.PENDING

    @property
    def is_final(self) -> bool:
        return self.status in states.FINAL

    @property
    def status_words(self) -> str:
        return states.label(self.status)

    @property
    def changed_keys(self) -> list[str]:
        """What the page shows as the diff (NetBox's ObjectChange.diff())."""
        return snapshots.changed_keys(self.before, self.after)


class ChangeBatchRow(models.Model):
    """One planned row of a batch (a CSV line): what the dry run found, and, once applied, the
    change request it became and how that ended."""

    class Outcome(models.TextChoices):
        PLANNED = "", "Not applied yet"
        DONE = "done", "Applied"
        POWERSHELL = "powershell", "Awaiting PowerShell"
        APPROVAL = "approval", "Awaiting approval"
        REFUSED = "refused", "Refused"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Nothing to do"

    batch = models.ForeignKey(ChangeBatch, on_delete=models.CASCADE, related_name="planned_rows")
    line = models.PositiveIntegerField()
    kind = models.CharField(max_length=16, blank=True, default="")  # add|change|remove|unchanged
    delegator_object_id = models.CharField(max_length=64, blank=True, default="")
    delegate_object_id = models.CharField(max_length=64, blank=True, default="")
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    errors = models.JSONField(default=list, blank=True)  # the dry run's words, one per problem
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True, default="")
    outcome_words = models.TextField(blank=True, default="")
    change_request = models.OneToOneField(
        ChangeRequest, null=True, blank=True, on_delete=models.SET_NULL, related_name="batch_row"
    )

    class Meta:
        ordering = ["batch", "line"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "line"], name="change_batch_row_unique_line")
        ]

    def __str__(self) -> str:
        return f"batch #{self.batch_id} line {self.line} {self.kind or 'refused'}"

    @property
    def changed_keys(self) -> list[str]:
        return snapshots.changed_keys(self.before, self.after)


class PersonLock(models.Model):
    """What serialises changes to one person's delegations.

    Deciding a request (the rule check and the insert) locks the rows of both people with
    select_for_update in one short transaction, so two requests cannot both take the 25th place
    (on SQLite every write transaction is serialised already: BEGIN IMMEDIATE). Applying one
    holds a lease on the delegator's row instead (`leased_by` until `leased_until`), taken and
    given back by conditional UPDATEs: a Graph write and its re-read take seconds, too long to
    hold a database transaction open, and a dead worker's lease simply runs out.
    """

    object_id = models.CharField(max_length=64, unique=True)
    leased_by = models.CharField(max_length=64, blank=True, default="")
    leased_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"lock {self.object_id} ({self.leased_by or 'free'})"
