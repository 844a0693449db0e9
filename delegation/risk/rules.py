"""The risk rules: which grants a manager should look at twice, each explained in words.

Plain functions over plain facts (no database): `explain(facts, limits, now)` says, for one
grant, why each rule flags it. `delegation/risk/queries.py` holds the same rules as database
filters (lists over any number of grants, a fixed number of queries) and loads the facts of a
page of grants or of the sync's DelegationChange rows. A rule's id is stable: pages, campaign
scopes and alerts refer to it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

TEAMS_LIMIT = 25  # Teams refuses a 26th delegate (and a 26th delegator)


@dataclass(frozen=True)
class Party:
    """A delegator or delegate as the rules see them."""

    object_id: str
    name: str = ""
    department: str = ""
    enabled: bool = True
    in_directory: bool = True  # False: an id /users never listed (removed before we saw it)
    removed: bool = False  # listed once, gone from /users since
    manager_id: str | None = None

    @property
    def label(self) -> str:
        if self.in_directory and self.name:
            return self.name
        return f"unknown person ({self.object_id})"


@dataclass(frozen=True)
class OutsideChange:
    """The latest change to the grant that a sync found (not the portal's own verified
    change), and that nobody reviewed since."""

    kind: str  # "added" or "changed"
    at: datetime


@dataclass(frozen=True)
class GrantFacts:
    delegator: Party
    delegate: Party
    is_active: bool = True
    manage_settings: bool = False
    inactive_since: datetime | None = None  # when the portal first saw it inactive
    delegator_grants: int = 0  # how many grants the delegator holds now
    chain: tuple[str, ...] = ()  # the delegator's managers' object ids, nearest first
    outside: OutsideChange | None = None


@dataclass(frozen=True)
class Limits:
    """The rules' settings (REVIEW_INACTIVE_DAYS, REVIEW_NEAR_LIMIT)."""

    inactive_days: int = 90
    near_limit: int = 23


@dataclass(frozen=True)
class Finding:
    rule: str  # a rule id
    words: str  # the sentence for this grant


@dataclass(frozen=True)
class Rule:
    id: str
    label: str  # the rule in a few words (filters, headings)
    why: str  # why it matters
    test: Callable[[GrantFacts, Limits, datetime], str | None]  # the sentence, or None


def _department(party: Party) -> str:
    return party.department or "no department"


def in_chain(facts: GrantFacts) -> bool:
    """The delegate is one of the delegator's managers, or reports to the delegator."""
    delegate = facts.delegate
    return delegate.object_id in facts.chain or delegate.manager_id == facts.delegator.object_id


def same_department(facts: GrantFacts) -> bool:
    department = facts.delegator.department
    return bool(department) and department == facts.delegate.department


def _manage_outside(facts: GrantFacts, limits: Limits, now: datetime) -> str | None:
    if not (facts.is_active and facts.manage_settings):
        return None
    if same_department(facts) or in_chain(facts):
        return None
    return (
        f"Can change call settings; delegate is in {_department(facts.delegate)}, "
        f"delegator in {_department(facts.delegator)} and not in the delegator's "
        "management chain."
    )


def _account_words(party: Party, role: str) -> str | None:
    if not party.in_directory:
        return f"the {role} is not in the directory (a removed account, {party.object_id})"
    if party.removed:
        return f"the {role}'s account ({party.label}) was removed from the directory"
    if not party.enabled:
        return f"the {role}'s account ({party.label}) is disabled"
    return None


def _disabled_or_removed(facts: GrantFacts, limits: Limits, now: datetime) -> str | None:
    parts = [
        words
        for words in (
            _account_words(facts.delegate, "delegate"),
            _account_words(facts.delegator, "delegator"),
        )
        if words
    ]
    if not parts:
        return None
    text = " and ".join(parts)
    return f"{text[0].upper()}{text[1:]}; nobody can be held to account for this grant."


def _days(now: datetime, since: datetime) -> int:
    return max(0, (now - since).days)


def _inactive(facts: GrantFacts, limits: Limits, now: datetime) -> str | None:
    since = facts.inactive_since
    if facts.is_active or since is None or _days(now, since) < limits.inactive_days:
        return None
    return (
        f"Inactive for {_days(now, since)} days (since {since:%d %b %Y}) yet still present: "
        "it can be switched back on without anyone granting it again."
    )


def _near_limit(facts: GrantFacts, limits: Limits, now: datetime) -> str | None:
    if facts.is_active or facts.delegator_grants < limits.near_limit:
        return None
    return (
        f"{facts.delegator.label} has {facts.delegator_grants} delegates (Teams allows "
        f"{TEAMS_LIMIT}); this inactive grant holds one of the places."
    )


def _outside_portal(facts: GrantFacts, limits: Limits, now: datetime) -> str | None:
    outside = facts.outside
    if outside is None:
        return None
    if outside.kind == "added":
        what = "Added in Teams"
    else:
        what = "Changed in Teams (it no longer matches what the portal set)"
    return f"{what} on {outside.at:%d %b %Y}, not through the portal, and not reviewed since."


RULES: dict[str, Rule] = {
    rule.id: rule
    for rule in (
        Rule(
            "manage_outside",
            "Call settings, outside department and management chain",
            "the delegate can change the delegator's forwarding and add further delegates",
            _manage_outside,
        ),
        Rule(
            "disabled_or_removed",
            "Granted to or by a disabled or removed account",
            "the account can no longer be held to account for what it does",
            _disabled_or_removed,
        ),
        Rule(
            "inactive",
            "Inactive for a long time, yet present",
            "a dormant grant can be switched back on without anyone noticing",
            _inactive,
        ),
        Rule(
            "near_limit",
            "Inactive grant of a delegator at or near the limit of 25",
            "it takes a place the delegator may need for someone else",
            _near_limit,
        ),
        Rule(
            "outside_portal",
            "Made outside the portal",
            "nobody asked for it here, approved it or reviewed it since",
            _outside_portal,
        ),
    )
}


def explain(facts: GrantFacts, limits: Limits, now: datetime) -> list[Finding]:
    """Every rule that flags this grant, each with its sentence, in RULES order."""
    findings = []
    for rule in RULES.values():
        words = rule.test(facts, limits, now)
        if words:
            findings.append(Finding(rule.id, words))
    return findings
