"""Calls the portal placed or received through Graph, what Graph told us about them, and what
people asked the portal to do with them. Each row is saved before Graph is called."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from calls import states


class Call(models.Model):
    class Direction(models.TextChoices):
        OUTGOING = "outgoing", "Outgoing"
        INCOMING = "incoming", "Incoming"

    class TargetKind(models.TextChoices):
        PERSON = "person", "Person"
        PHONE = "phone", "Phone number"

    class Mode(models.TextChoices):
        # The application calls the callee: nobody from our side is on the line (older calls).
        DIRECT = "direct", "The application calls the callee"
        # Two legs: the application rings the acting person, then transfers them to the callee.
        RING_ME_FIRST = "ring_me_first", "Rings you first, then puts you through"

    # Generated when the form was rendered: a double submit finds this row instead of a new call.
    idempotency_key = models.CharField(max_length=64, unique=True)
    graph_id = models.CharField(max_length=128, blank=True, default="")
    direction = models.CharField(
        max_length=16, choices=Direction.choices, default=Direction.OUTGOING
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="calls_started",
    )
    on_behalf_of = models.ForeignKey(
        "delegation.DirectoryUser",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    target_kind = models.CharField(max_length=16, choices=TargetKind.choices, blank=True)
    target_object_id = models.CharField(max_length=64, blank=True, default="")
    target_phone = models.CharField(max_length=32, blank=True, default="")  # E.164
    target_display = models.CharField(max_length=256, blank=True, default="")
    mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.DIRECT)
    # Ring-me-first: the first leg rings this person (the acting person's object id in Teams);
    # the callee's leg is the transfer the portal makes once they answer.
    first_leg_object_id = models.CharField(max_length=64, blank=True, default="")
    first_leg_display = models.CharField(max_length=256, blank=True, default="")
    callee_leg = models.CharField(max_length=16, choices=states.LEG_CHOICES, blank=True, default="")
    callee_leg_reason = models.CharField(max_length=512, blank=True, default="")
    # Who called us, for incoming calls, and whom they dialled (from Graph: untrusted, bounded).
    caller_display = models.CharField(max_length=256, blank=True, default="")
    caller_object_id = models.CharField(max_length=64, blank=True, default="")
    called_display = models.CharField(max_length=256, blank=True, default="")
    called_object_id = models.CharField(max_length=64, blank=True, default="")
    state = models.CharField(max_length=32, choices=states.CHOICES, default=states.REQUESTED)
    # Rank of the last applied notification: late or repeated ones cannot move the call back.
    state_rank = models.PositiveSmallIntegerField(default=0)
    result_code = models.CharField(max_length=16, blank=True, default="")
    result_subcode = models.CharField(max_length=16, blank=True, default="")
    result_message = models.CharField(max_length=512, blank=True, default="")
    # Why Graph refused to place the call, in plain words.
    error = models.CharField(max_length=512, blank=True, default="")
    graph_request_id = models.CharField(max_length=128, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    last_keepalive_at = models.DateTimeField(null=True, blank=True)
    # When a worker claimed the call to place it: a task delivered twice places it once.
    sent_at = models.DateTimeField(null=True, blank=True)
    # First established: the callee (direct) or the acting person (ring-me-first) answered.
    answered_at = models.DateTimeField(null=True, blank=True)
    callee_rang_at = models.DateTimeField(null=True, blank=True)
    callee_answered_at = models.DateTimeField(null=True, blank=True)
    callee_ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "last_keepalive_at"])]
        constraints = [
            # Two notifications of a new incoming call racing each other make one row.
            models.UniqueConstraint(
                fields=["graph_id"], condition=~models.Q(graph_id=""), name="call_unique_graph_id"
            )
        ]

    def __str__(self) -> str:
        return f"call #{self.pk} to {self.target_label} ({self.state})"

    @staticmethod
    def audit_target_of(call_id: int) -> str:
        """How the audit log names a call (the target of every call event it records)."""
        return f"call {call_id}"

    @property
    def audit_target(self) -> str:
        return self.audit_target_of(self.pk)

    @property
    def rings_me_first(self) -> bool:
        return self.mode == self.Mode.RING_ME_FIRST

    @property
    def target_label(self) -> str:
        if self.direction == self.Direction.INCOMING:
            return self.caller_display or "unknown caller"
        return self.target_display or self.target_phone or self.target_object_id or "?"

    @property
    def is_over(self) -> bool:
        return self.state in states.FINAL

    @property
    def state_label(self) -> str:
        return states.label(self.state)

    @property
    def result_label(self) -> str:
        return states.result_in_words(self.state, self.result_code, self.result_subcode)


class CallEvent(models.Model):
    """One notification from Graph, stored raw (authenticated before it got here)."""

    call = models.ForeignKey(
        Call, null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    # A hash of the notification: the same one delivered twice is stored once.
    dedupe_key = models.CharField(max_length=64, unique=True)
    graph_call_id = models.CharField(max_length=128, blank=True, default="")
    change_type = models.CharField(max_length=16, blank=True, default="")
    state = models.CharField(max_length=32, blank=True, default="")
    result_code = models.CharField(max_length=16, blank=True, default="")
    result_subcode = models.CharField(max_length=16, blank=True, default="")
    result_message = models.CharField(max_length=512, blank=True, default="")
    applied = models.BooleanField(default=False)  # False: late or repeated, state unchanged
    raw = models.JSONField(default=dict)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["received_at", "id"]

    @property
    def state_label(self) -> str:
        return states.label(self.state) if self.state else self.change_type

    @property
    def result_label(self) -> str:
        return states.result_in_words(self.state, self.result_code, self.result_subcode)


class CallAction(models.Model):
    """A request to transfer, redirect or end a call: saved first, then sent to Graph."""

    class Kind(models.TextChoices):
        TRANSFER = "transfer", "Transfer"
        # The transfer of a ring-me-first call to its callee, made when the first leg answers.
        HANDOVER = "handover", "Put through"
        REDIRECT = "redirect", "Redirect"
        END = "end", "End"

    class Outcome(models.TextChoices):
        PENDING = "pending", "waiting to be sent"
        ACCEPTED = "accepted", "sent; Microsoft is on it"  # 202: the call's notifications finish it
        COMPLETED = "completed", "done"
        FAILED = "failed", "failed"

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="actions")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    idempotency_key = models.CharField(max_length=64, unique=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Target people: [{"id": ..., "display": ...}], and the consulted call for a consultative
    # transfer.
    targets = models.JSONField(default=list, blank=True)
    replaces_call = models.ForeignKey(
        Call, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.PENDING)
    # When a worker claimed it to send it: a task delivered twice sends it once.
    sent_at = models.DateTimeField(null=True, blank=True)
    message = models.CharField(max_length=512, blank=True, default="")
    graph_request_id = models.CharField(max_length=128, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    @property
    def targets_label(self) -> str:
        return ", ".join(t.get("display") or t.get("id", "?") for t in self.targets)
