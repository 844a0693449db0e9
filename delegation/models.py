"""The local cache of the directory and of call delegations, and the sync runs that fill it."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from delegation.folding import SOURCES, person_folded


class FoldedField(models.TextField):
    """A person's searched columns folded (delegation/folding.py), refreshed from the row each
    time Django writes it (save, create, bulk_create): no code path can forget it. The sync's
    own SQL writes it alongside the columns (sync/apply_people.py)."""

    def pre_save(self, model_instance, add):
        value = person_folded(*(getattr(model_instance, name) for name in SOURCES))
        setattr(model_instance, self.attname, value)
        return value


class DirectoryUser(models.Model):
    """A person of the tenant, as Graph's /users lists them.

    A delegation may name an id that /users does not know (a removed account): such a person
    is kept with in_directory=False and shown as "unknown person (id)".
    """

    object_id = models.CharField(max_length=64, unique=True)
    display_name = models.CharField(max_length=256, blank=True, default="")
    upn = models.CharField("user principal name", max_length=256, blank=True, default="")
    mail = models.CharField(max_length=256, blank=True, default="")
    department = models.CharField(max_length=256, blank=True, default="")
    job_title = models.CharField(max_length=256, blank=True, default="")
    account_enabled = models.BooleanField(default=True)
    # Teams Phone (the MCOEV plan) working, as the directory's assignedPlans say: only such a
    # person can be a delegator, so the sync reads only their delegates (and current delegators').
    voice_enabled = models.BooleanField("Teams Phone licence", default=False)
    # The manager as the directory names them, by object id: the column holds the id as Graph
    # gives it, so the sync writes it as read and a manager the cache does not (yet) hold costs
    # no constraint failure; a join on it finds them once they are there.
    manager = models.ForeignKey(
        "self",
        to_field="object_id",
        db_constraint=False,
        db_index=False,  # read through joins only; an index would slow the sync's writes
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="reports",
    )
    in_directory = models.BooleanField(default=True)
    removed_at = models.DateTimeField(null=True, blank=True)
    # When a sync first saw the account disabled (None while it is enabled): what tells the
    # alerts that a grant's holder was disabled by this run (sync/apply_people.stamp_disabled).
    disabled_at = models.DateTimeField(null=True, blank=True)
    first_seen = models.DateTimeField()
    updated_at = models.DateTimeField()
    # What the people search compares with (selectors/people.py): the name first, so its index
    # range serves "the name starts with". On PostgreSQL the column collates as "C" (bytes, as
    # on SQLite) and has a trigram index for substrings (both made by delegation's migration).
    search_folded = FoldedField(blank=True, default="", editable=False)

    class Meta:
        indexes = [
            models.Index(fields=["search_folded"], name="directoryuser_search_folded"),
            models.Index(fields=["display_name"]),
            models.Index(fields=["upn"]),
            models.Index(fields=["mail"]),
            models.Index(fields=["department"]),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        if not self.in_directory or not self.display_name:
            return f"unknown person ({self.object_id})"
        return self.display_name


class Delegation(models.Model):
    """delegator lets delegate act on their line, with these allowed actions (Graph beta)."""

    # No single-column FK indexes: the unique pair and the (delegate, delegator) index cover
    # both lookups, and every extra index slows the sync's bulk writes.
    delegator = models.ForeignKey(
        DirectoryUser, on_delete=models.CASCADE, related_name="delegations_given", db_index=False
    )
    delegate = models.ForeignKey(
        DirectoryUser, on_delete=models.CASCADE, related_name="delegations_received", db_index=False
    )
    is_active = models.BooleanField(default=True)
    created_in_teams = models.DateTimeField(null=True, blank=True)
    # The five allowed actions, spelt out for migrations; they equal allowed_actions.FIELDS
    # (a unit test holds them together).
    make_calls = models.BooleanField(default=False)
    receive_calls = models.BooleanField(default=False)
    manage_settings = models.BooleanField(default=False)
    pick_up_held_calls = models.BooleanField(default=False)
    join_active_calls = models.BooleanField(default=False)
    first_seen = models.DateTimeField()
    last_changed = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["delegator", "delegate"], name="delegation_unique_pair")
        ]
        indexes = [models.Index(fields=["delegate", "delegator"])]

    def __str__(self) -> str:
        return f"{self.delegator_id} -> {self.delegate_id}"


class SyncRun(models.Model):
    """One run of the delegation sync: who started it, how far it got, what it found."""

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", "Schedule"
        MANUAL = "manual", "Started by an admin"
        COMMAND = "command", "Management command"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        PARTIAL = "partial", "Succeeded with failures"
        FAILED = "failed", "Failed"

    class Sweep(models.TextChoices):
        VOICE = "voice", "People with Teams Phone and current delegators"
        EVERYONE = "everyone", "Everyone (full sweep)"

    # The status groups every query and page uses: defined here once.
    ACTIVE_STATUSES = (Status.QUEUED, Status.RUNNING)  # holds the one-sync-at-a-time lock
    FINISHED_STATUSES = (Status.SUCCEEDED, Status.PARTIAL, Status.FAILED)
    READ_OK_STATUSES = (Status.SUCCEEDED, Status.PARTIAL)  # read the directory and applied it

    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    users_mode = models.CharField(max_length=16, blank=True, default="")  # full | delta
    sweep = models.CharField(max_length=16, choices=Sweep.choices, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Written as the run goes: a lock older than SYNC_LOCK_TTL_SECONDS belongs to a dead worker.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    people = models.PositiveIntegerField(default=0)
    people_added = models.PositiveIntegerField(default=0)
    people_changed = models.PositiveIntegerField(default=0)
    people_removed = models.PositiveIntegerField(default=0)
    delegations_added = models.PositiveIntegerField(default=0)
    delegations_changed = models.PositiveIntegerField(default=0)
    delegations_removed = models.PositiveIntegerField(default=0)
    # The first sync of an empty cache finds grants that existed before the portal looked:
    # recorded as the baseline (how many), not as additions (no DelegationChange rows), so
    # history and charts start from what the portal saw change (sync/apply.py).
    baseline_grants = models.PositiveIntegerField(default=0)
    graph_requests = models.PositiveIntegerField(default=0)
    throttled = models.PositiveIntegerField(default=0)
    retries = models.PositiveIntegerField(default=0)
    failures = models.JSONField(default=dict, blank=True)  # kind -> count
    failed_user_ids = models.JSONField(default=list, blank=True)
    # People holding delegations in the cache without a working Teams Phone licence.
    unlicensed_delegators = models.PositiveIntegerField(default=0)
    unlicensed_delegator_ids = models.JSONField(default=list, blank=True)  # the first ones
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "finished_at"])]

    def __str__(self) -> str:
        return f"sync #{self.pk} {self.status}"


class DelegationChange(models.Model):
    """One difference the cache took in: a grant added, changed or removed, found by a sync or
    by the re-read that verifies a change request."""

    class Kind(models.TextChoices):
        ADDED = "added", "Added"
        CHANGED = "changed", "Changed"
        REMOVED = "removed", "Removed"

    # The sync run that found it, or (run empty) the change request whose verification did.
    run = models.ForeignKey(
        SyncRun, null=True, blank=True, on_delete=models.CASCADE, related_name="changes"
    )
    change_request = models.ForeignKey(
        "changes.ChangeRequest",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="history",
        db_index=False,  # the partial index below: the sync's rows leave it untouched
    )
    at = models.DateTimeField(db_index=True)
    # Covered by the (delegator, at) and (delegate, at) indexes below.
    delegator = models.ForeignKey(
        DirectoryUser, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    delegate = models.ForeignKey(
        DirectoryUser, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["delegator", "at"]),
            models.Index(fields=["delegate", "at"]),
            models.Index(
                fields=["change_request"],
                condition=models.Q(change_request__isnull=False),
                name="change_history_by_request",
            ),
        ]


class SyncCursor(models.Model):
    """Where the incremental users listing resumes (Graph's users/delta deltaLink), and the
    sync's other marks by name."""

    # When the manager refresh last wrote a manager: the dashboards' cached figures (risk
    # rules read managers) are keyed on it, as a sync run's own writes key them by the run.
    MANAGERS_CHANGED = "managers-changed"

    name = models.CharField(max_length=64, unique=True)
    value = models.TextField(blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)


class GrantReview(models.Model):
    """A manager's decision on a grant: keep it, or revoke it (done in Teams PowerShell, since
    Graph exposes no write operation for call delegation: GRAPH_CONTRACT §2)."""

    class Decision(models.TextChoices):
        KEEP = "keep", "Keep"
        REVOKE = "revoke", "Revoke"

    delegator = models.ForeignKey(DirectoryUser, on_delete=models.CASCADE, related_name="+")
    delegate = models.ForeignKey(DirectoryUser, on_delete=models.CASCADE, related_name="+")
    decision = models.CharField(max_length=16, choices=Decision.choices)
    reason = models.CharField(max_length=64, blank=True, default="")  # the risk that prompted it
    note = models.TextField(blank=True, default="")
    grant_snapshot = models.JSONField(default=dict, blank=True)  # the grant as reviewed
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["delegator", "delegate", "at"])]


class SyncStage(models.Model):
    """What the run's final apply needs besides the staged rows, written when the coordinator
    has read everything it reads itself: how the people were read (full or delta), the new
    delta link, the coordinator's Graph figures and how many shards it sent (zlib JSON).
    Its presence tells a finishing shard that the coordinator is done."""

    run = models.OneToOneField(SyncRun, on_delete=models.CASCADE, related_name="stage")
    payload = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)


class SyncShard(models.Model):
    """One batch of people whose delegates a worker reads for a large run."""

    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="shards")
    number = models.PositiveIntegerField()
    people = models.PositiveIntegerField()
    read = models.PositiveIntegerField(default=0)  # of them, read in full
    finished = models.BooleanField(default=False)
    error = models.TextField(blank=True, default="")  # in words; the run fails with it
    graph = models.JSONField(default=dict, blank=True)  # its Graph figures

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "number"], name="sync_shard_unique_number")
        ]


# What a run read that would change the cache, staged as it comes (so a process holds a chunk
# at a time, whatever the tenant's size), applied in one transaction at the end, then deleted.
class SyncStagedPerson(models.Model):
    """A person whose row would change: new, changed or back in /users (present), or gone (not
    present: a delta's removal, or a full listing that no longer shows them)."""

    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="+", db_index=False)
    object_id = models.CharField(max_length=64)
    present = models.BooleanField(default=True)
    display_name = models.CharField(max_length=256, blank=True, default="")
    upn = models.CharField(max_length=256, blank=True, default="")
    mail = models.CharField(max_length=256, blank=True, default="")
    department = models.CharField(max_length=256, blank=True, default="")
    job_title = models.CharField(max_length=256, blank=True, default="")
    account_enabled = models.BooleanField(default=True)
    voice_enabled = models.BooleanField(default=False)
    manager_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001 - None: none

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "object_id"], name="sync_staged_person_unique")
        ]


class SyncStagedRead(models.Model):
    """A person whose delegates were read in full and differ from the cache's (failure empty),
    or could not be read (failure: the kind)."""

    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="+", db_index=False)
    object_id = models.CharField(max_length=64)
    failure = models.CharField(max_length=32, blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["run", "object_id"], name="sync_staged_read_person")]


class SyncStagedGrant(models.Model):
    """A delegate read for a delegator: the grant packed as portal.graph.delegations.pack."""

    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="+", db_index=False)
    delegator = models.CharField(max_length=64)
    delegate = models.CharField(max_length=64)
    packed = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["run", "delegator"], name="sync_staged_grant_delegator")]
