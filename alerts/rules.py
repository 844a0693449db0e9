"""The alert rules: plain functions over plain facts (no database), run on what one sync run
changed. Where a rule states a fact the risk rules already define, it asks them
(`delegation.risk.rules`): a disabled or removed account, the same department. What is only an
alert's (a grant that became able to manage settings, a delegator past N delegates) is here;
drift is what the change requests' re-verification found (`delegation.changes`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from delegation.risk import rules as risk
from delegation.risk.rules import GrantFacts, Limits

MANAGE_SETTINGS = "manage_settings"
DISABLED_ACCOUNT = "disabled_account"
OUTSIDE_DEPARTMENT = "outside_department"
MANY_DELEGATES = "many_delegates"
DRIFT = "drift"
# The kind of a ChangeFacts for a grant the run did not change but whose delegator or delegate
# it found disabled or removed (the DelegationChange kinds are added, changed, removed).
ACCOUNT_LOST = "account_lost"

LABELS = {
    MANAGE_SETTINGS: "New grant that may manage call settings",
    DISABLED_ACCOUNT: "Grant to or by a disabled or removed account",
    OUTSIDE_DEPARTMENT: "Delegate outside the delegator's department",
    MANY_DELEGATES: "Delegator past the delegate threshold",
    DRIFT: "Drift: Teams no longer shows a verified change",
}
ORDER = tuple(LABELS)


@dataclass(frozen=True)
class ChangeFacts:
    """One DelegationChange of the run (added, changed, removed) and the grant it left."""

    kind: str
    before: dict | None
    after: dict | None
    grant: GrantFacts  # as the risk rules see it: parties, departments, counts


@dataclass(frozen=True)
class Alert:
    rule: str
    delegator_id: str
    delegator: str
    delegate_id: str
    delegate: str
    sentence: str


@dataclass(frozen=True)
class Settings:
    rules_on: frozenset[str]
    many_delegates: int


def _live(change: ChangeFacts) -> bool:
    """The change left an active grant (a removal, or a grant switched off, alerts nothing)."""
    return change.kind != "removed" and bool(change.after) and change.after.get("is_active", True)


def _gained(change: ChangeFacts, field: str) -> bool:
    """The grant now has `field` and did not before (added, or changed to have it)."""
    if not _live(change) or not change.after.get(field):
        return False
    before = change.before or {}
    return change.kind == "added" or not (before.get(field) and before.get("is_active", True))


def new_manage_settings(change: ChangeFacts) -> str | None:
    if not _gained(change, "manage_settings"):
        return None
    how = "Added" if change.kind == "added" else "Changed"
    return f"{how} in Teams: the delegate may now change the delegator's call settings."


def disabled_account(change: ChangeFacts, limits: Limits, now: datetime) -> str | None:
    """A new or changed grant to or by a disabled or removed account, or a grant whose holder
    this run found disabled or removed: the risk rule's words."""
    if not _live(change):
        return None
    words = risk.RULES["disabled_or_removed"].test(change.grant, limits, now)
    if words and change.kind == ACCOUNT_LOST:
        return f"This sync found it: {words[0].lower()}{words[1:]}"
    return words


def outside_department(change: ChangeFacts) -> str | None:
    """A new grant (or one switched on) whose delegate is not in the delegator's department."""
    if not _gained(change, "is_active") or risk.same_department(change.grant):
        return None
    grant = change.grant
    theirs = grant.delegate.department or "no department"
    ours = grant.delegator.department or "no department"
    return f"The delegate is in {theirs}; the delegator in {ours}."


def many_delegates(change: ChangeFacts, threshold: int) -> str | None:
    """The run added a delegate to someone who now has more than `threshold`."""
    count = change.grant.delegator_grants
    if change.kind != "added" or count <= threshold:
        return None
    return (
        f"{change.grant.delegator.label} now has {count} delegates, past the threshold of "
        f"{threshold} (Teams allows {risk.TEAMS_LIMIT})."
    )


def evaluate(
    changes: list[ChangeFacts], settings: Settings, limits: Limits, now: datetime
) -> list[Alert]:
    """Every alert the run's changes raise, in rule order; a delegator past the threshold is
    reported once, however many delegates the run gave them."""
    found: dict[str, list[Alert]] = {rule: [] for rule in ORDER}
    counted: set[str] = set()
    for change in changes:
        grant = change.grant
        a, b = grant.delegator, grant.delegate
        sentences = {
            MANAGE_SETTINGS: new_manage_settings(change),
            DISABLED_ACCOUNT: disabled_account(change, limits, now),
            OUTSIDE_DEPARTMENT: outside_department(change),
        }
        if a.object_id not in counted:
            sentences[MANY_DELEGATES] = many_delegates(change, settings.many_delegates)
            if sentences[MANY_DELEGATES]:
                counted.add(a.object_id)
        for rule, sentence in sentences.items():
            if sentence and rule in settings.rules_on:
                delegate = ("", "") if rule == MANY_DELEGATES else (b.object_id, b.label)
                found[rule].append(Alert(rule, a.object_id, a.label, *delegate, sentence))
    return [alert for rule in ORDER for alert in found[rule]]


def drift_alert(
    request_id: int, delegator: tuple[str, str], delegate: tuple[str, str], wanted: str
) -> Alert:
    """A change request the portal verified that Teams no longer shows as it was set."""
    return Alert(
        DRIFT,
        *delegator,
        *delegate,
        f"Change request #{request_id} ({wanted}) was verified, but Teams now shows something "
        "else: it was changed outside the portal.",
    )
