"""People who sign in, the audit log, and the encrypted token caches the portal keeps."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models

from portal.roles import CAPABILITIES


class User(AbstractUser):
    """A person who signs in. Keyed on (tenant_id, object_id) from the id token, never on UPN."""

    tenant_id = models.CharField(max_length=64, blank=True, default="")
    object_id = models.CharField(max_length=64, blank=True, default="")
    display_name = models.CharField(max_length=256, blank=True, default="")
    upn = models.CharField("user principal name", max_length=256, blank=True, default="")
    # When Entra ID last vouched for the person: their sign-in, or a re-check with their refresh
    # token (portal/session_checks.py). Per person, like the token cache it is checked with.
    entra_checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant_id", "object_id"],
                condition=~models.Q(object_id=""),
                name="user_unique_tenant_object",
            )
        ]

    def __str__(self) -> str:
        return self.display_name or self.upn or self.username


class TokenCache(models.Model):
    """A signed-in person's MSAL token cache, encrypted with TOKEN_ENCRYPTION_KEYS (Fernet)."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="token_cache")
    ciphertext = models.BinaryField()
    updated_at = models.DateTimeField(auto_now=True)


class SyncAccount(models.Model):
    """The one account the delegation sync acts as (Graph has no app-only delegation read)."""

    class Status(models.TextChoices):
        CONNECTED = "connected", "Connected"
        RECONNECT_NEEDED = "reconnect_needed", "Reconnect needed"

    singleton = models.PositiveSmallIntegerField(default=1, unique=True, editable=False)
    status = models.CharField(max_length=32, choices=Status.choices, default=Status.CONNECTED)
    tenant_id = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    home_account_id = models.CharField(max_length=200)
    display_name = models.CharField(max_length=256, blank=True, default="")
    upn = models.CharField(max_length=256, blank=True, default="")
    ciphertext = models.BinaryField()
    connected_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    connected_at = models.DateTimeField()
    last_refreshed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")

    def __str__(self) -> str:
        return f"sync account {self.upn or self.object_id} ({self.status})"


class AuditEvent(models.Model):
    """Append-only record of who did what, to what, with which outcome. The one exception: a
    repeat collapsed into its first row (`audit.record_repeated`) updates that row's count."""

    class Outcome(models.TextChoices):
        SUCCESS = "success", "Success"
        FAILURE = "failure", "Failure"
        DENIED = "denied", "Denied"

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL)
    actor_label = models.CharField(max_length=256, blank=True, default="")
    action = models.CharField(max_length=64, db_index=True)
    target = models.CharField(max_length=512, blank=True, default="")
    outcome = models.CharField(max_length=16, choices=Outcome.choices, db_index=True)
    request_id = models.CharField(max_length=128, blank=True, default="")
    ip = models.GenericIPAddressField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Audit events are append-only.")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.outcome}"


class WorkerHeartbeat(models.Model):
    """Last time a Celery worker ran the heartbeat task (shown by /healthz as information)."""

    singleton = models.PositiveSmallIntegerField(default=1, unique=True, editable=False)
    at = models.DateTimeField()
    hostname = models.CharField(max_length=256, blank=True, default="")


class Capability(models.Model):
    """Holds the capability permissions of portal/roles.py (no table of its own)."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [(code, desc) for code, (desc, _) in CAPABILITIES.items()]
