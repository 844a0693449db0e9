"""After a sync run: the alert rules over what it changed, kept as one digest, whose deliveries
are recorded and queued. What changed is the run's grant changes and the grants whose holder the
run found disabled or removed (a grant need not change for its holder to lose their account).
A fixed number of queries whatever the run's size: the run's changes with their people (one),
the active grants of the accounts lost (one), the risk rules' context (five), the drifted
requests (one), then the digest, its rows and deliveries written in bulk."""

from __future__ import annotations

from dataclasses import asdict

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from alerts import deliveries, rules
from alerts.models import Digest, Finding
from delegation.changes.models import ChangeRequest
from delegation.models import Delegation, DelegationChange, DirectoryUser, SyncRun
from delegation.risk import queries as risk
from portal import audit

INSERT_BATCH = 1000


def rule_settings() -> rules.Settings:
    return rules.Settings(
        rules_on=frozenset(settings.ALERT_RULES_ON), many_delegates=settings.ALERT_MANY_DELEGATES
    )


def change_facts(
    changes: list[DelegationChange], lost: list[Delegation] = ()
) -> list[rules.ChangeFacts]:
    """The run's rows, and the grants of accounts it lost, as the rules see them: the grant's
    facts come from the risk rules' loader, so "disabled" or "same department" mean what they
    mean on the review pages. A grant of a lost account is unchanged (before = after)."""
    context = risk.Context([(c.delegator, c.delegate) for c in [*changes, *lost]])

    def facts(row, after: dict) -> risk.GrantFacts:
        return risk.GrantFacts(
            delegator=risk.party(row.delegator),
            delegate=risk.party(row.delegate),
            is_active=bool(after.get("is_active", True)),
            manage_settings=bool(after.get("manage_settings")),
            delegator_grants=context.counts.get(row.delegator_id, 0),
            chain=context.chain(row.delegator),
        )

    out = [rules.ChangeFacts(c.kind, c.before, c.after, facts(c, c.after or {})) for c in changes]
    for grant in lost:
        now = {"is_active": True, "manage_settings": grant.manage_settings}
        out.append(rules.ChangeFacts(rules.ACCOUNT_LOST, now, now, facts(grant, now)))
    return out


def grants_of_accounts_lost(run: SyncRun, changed: set[tuple[int, int]]) -> list[Delegation]:
    """Active grants to or by someone this run found disabled or removed, but for those the run
    changed (already among its changes). One query."""
    if run.started_at is None or run.finished_at is None:
        return []
    window = (run.started_at, run.finished_at)
    lost = DirectoryUser.objects.filter(Q(disabled_at__range=window) | Q(removed_at__range=window))
    rows = Delegation.objects.filter(Q(delegator__in=lost) | Q(delegate__in=lost), is_active=True)
    rows = rows.select_related("delegator", "delegate").order_by("pk")
    return [grant for grant in rows if (grant.delegator_id, grant.delegate_id) not in changed]


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
    changed = {(c.delegator_id, c.delegate_id) for c in changes}
    lost = grants_of_accounts_lost(run, changed)
    found = rules.evaluate(
        change_facts(changes, lost), rule_settings(), risk.limits(), timezone.now()
    )
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
