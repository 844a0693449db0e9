"""Alert digests: one per sync run that found something, its findings as rows, who has read it,
and its deliveries (one per channel and address), each with its attempts."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from delegation.models import SyncRun


class Digest(models.Model):
    """What the alert rules found in one sync run's changes (never a message per row)."""

    run = models.OneToOneField(SyncRun, on_delete=models.CASCADE, related_name="alert_digest")
    created = models.DateTimeField(auto_now_add=True, db_index=True)
    findings_count = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict, blank=True)  # rule id -> findings

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return f"alert digest #{self.pk} (sync #{self.run_id})"


class Finding(models.Model):
    """One row of a digest: a rule and the grant (or delegator) it is about, in words. Names are
    kept as they were, so the digest reads the same after people leave the directory."""

    digest = models.ForeignKey(Digest, on_delete=models.CASCADE, related_name="findings")
    rule = models.CharField(max_length=32)
    delegator_id = models.CharField(max_length=64)  # object ids, not keys: rows outlive people
    delegator = models.CharField(max_length=256)
    delegate_id = models.CharField(max_length=64, blank=True, default="")
    delegate = models.CharField(max_length=256, blank=True, default="")
    sentence = models.TextField()

    class Meta:
        ordering = ["id"]


class DigestRead(models.Model):
    digest = models.ForeignKey(Digest, on_delete=models.CASCADE, related_name="reads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "digest"], name="alerts_read_once"),
        ]


class Delivery(models.Model):
    """Sending one digest to one channel address: recorded before it is tried, retried until it
    is sent or its attempts run out, never lost when a receiver fails."""

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        TEAMS = "teams", "Teams"

    class State(models.TextChoices):
        PENDING = "pending", "Waiting"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    digest = models.ForeignKey(Digest, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    # The address as it may be shown (a webhook's secret part redacted) and a hash of it whole,
    # to find it again in the settings: the secret itself is never stored.
    target = models.CharField(max_length=512)
    target_key = models.CharField(max_length=64)
    rules = models.JSONField(default=list)  # the rules whose findings this channel carries
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_try_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["digest", "channel", "target_key"], name="alerts_delivery_once"
            ),
        ]
        indexes = [models.Index(fields=["state", "next_try_at"])]

    def __str__(self) -> str:
        return f"{self.channel} delivery #{self.pk} of digest #{self.digest_id}"
