"""After a sync run: the alert rules over what it changed, kept as one digest, whose deliveries
are recorded and queued. A fixed number of queries whatever the run's size: the run's changes
with their people (one), the risk rules' context (delegate counts, managers, unreviewed changes:
five), the drifted requests (one), then the digest, its rows and deliveries written in bulk."""

from __future__ import annotations

from dataclasses import asdict

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from alerts import deliveries, rules
from alerts.models import Digest, Finding
from delegation.changes.models import ChangeRequest
from delegation.models import DelegationChange, SyncRun
from delegation.risk import queries as risk
from portal import audit

INSERT_BATCH = 1000


def rule_settings() -> rules.Settings:
    return rules.Settings(
        rules_on=frozenset(settings.ALERT_RULES_ON), many_delegates=settings.ALERT_MANY_DELEGATES
    )


def change_facts(changes: list[DelegationChange]) -> list[rules.ChangeFacts]:
    """The run's rows as the rules see them: the grant's facts come from the risk rules'
    loader, so "disabled" or "same department" mean what they mean on the review pages."""
    context = risk.Context((c.delegator, c.delegate) for c in changes)
    out = []
    for change in changes:
        after = change.after or {}
        active = bool(after.get("is_active", True))
        grant = risk.GrantFacts(
            delegator=risk.party(change.delegator),
            delegate=risk.party(change.delegate),
            is_active=active,
            manage_settings=bool(after.get("manage_settings")),
            delegator_grants=context.counts.get(change.delegator_id, 0),
            chain=context.chain(change.delegator),
        )
        out.append(rules.ChangeFacts(change.kind, change.before, change.after, grant))
    return out


def drift_alerts(drifted: list[int]) -> list[rules.Alert]:
    if rules.DRIFT not in settings.ALERT_RULES_ON or not drifted:
        return []
    found = ChangeRequest.objects.filter(pk__in=list(drifted)).order_by("pk")
    return [
        rules.drift_alert(
            c.pk,
            (c.delegator_object_id, c.delegator_name or c.delegator_object_id),
            (c.delegate_object_id, c.delegate_name or c.delegate_object_id),
            c.get_kind_display().lower(),
        )
        for c in found
    ]


def evaluate_run(run_id: int, drifted: list[int] | tuple = ()) -> Digest | None:
    """The run's digest (made once: a repeated task finds it), or None when nothing was found
    or the run is the first (the baseline)."""
    existing = Digest.objects.filter(run_id=run_id).first()
    if existing is not None:
        return existing
    read_ok = SyncRun.objects.filter(status__in=SyncRun.READ_OK_STATUSES)
    run = read_ok.filter(pk=run_id).first()
    # The first run loads the tenant as it was: that is where the portal starts (the review
    # pages show its risks), not something that changed.
    baseline = read_ok.order_by("finished_at", "id").values_list("id", flat=True).first()
    if run is None or baseline == run_id:
        return None
    changes = list(
        DelegationChange.objects.filter(run_id=run_id, kind__in=risk.SYNC_FOUND)
        .select_related("delegator", "delegate")
        .order_by("id")
    )
    found = rules.evaluate(change_facts(changes), rule_settings(), risk.limits(), timezone.now())
    found += drift_alerts(list(drifted))
    if not found:
        return None
    return _record(run, found)


def _record(run: SyncRun, found: list[rules.Alert]) -> Digest | None:
    counts: dict[str, int] = {}
    for alert in found:
        counts[alert.rule] = counts.get(alert.rule, 0) + 1
    try:
        with transaction.atomic():
            digest = Digest.objects.create(run=run, findings_count=len(found), counts=counts)
            Finding.objects.bulk_create(
                (Finding(digest=digest, **asdict(alert)) for alert in found),
                batch_size=INSERT_BATCH,
            )
            made = deliveries.plan(digest)
    except IntegrityError:  # another worker made it first (a redelivered task)
        return Digest.objects.filter(run=run).first()
    audit.record(
        "alerts.digest",
        "success",
        target=f"sync run #{run.pk}",
        who="alerts",
        digest=digest.pk,
        findings=len(found),
        counts=counts,
        deliveries=len(made),
    )
    return digest
