"""The demo tenant's organisation: managers that follow departments, and grants shaped as a
tidy tenant's are, so that the portal's risk rules flag few of them, each for a reason."""

from __future__ import annotations

from graphsim.tenant.model import actions_to_bits
from graphsim.tenant.store import Tenant

KEEP_RISKY_EVERY = 12  # one cross-department "manage settings" grant in twelve stays
NEAR_LIMIT = 23


def assign_managers(tenant: Tenant, ids: list[str], fixed: list[str], boss: str) -> None:
    """Managers follow departments: the first generated person of each department block heads
    it and reports to Bea Boss (the CEO, who has none); everyone else reports to their
    department's head. Of the fixed people, the Executive Office and Operations (Mona) report
    to Bea, the others to their department's head."""
    users = tenant.users
    heads: dict[str, str] = {}
    for uid in ids:
        user = users[uid]
        head = heads.setdefault(user.department, uid)
        user.manager = boss if head == uid else head
    for uid in fixed:
        user = users[uid]
        if uid != boss:
            head = heads.get(user.department, boss)
            user.manager = boss if user.department in ("Executive Office", "Operations") else head


def in_chain(tenant: Tenant, delegator: str, delegate: str) -> bool:
    """The delegate is the delegator's manager, their manager's manager, or a direct report."""
    users = tenant.users
    person, other = users.get(delegator), users.get(delegate)
    if person is None or other is None:
        return False
    manager = users.get(person.manager or "")
    return delegate in (person.manager, manager and manager.manager) or other.manager == delegator


def _inside(tenant: Tenant, grant) -> bool | None:
    """Whether the delegate is in the delegator's department or chain; None: unknown person."""
    delegator, delegate = tenant.users.get(grant.delegator), tenant.users.get(grant.delegate)
    if delegator is None or delegate is None:
        return None
    same = bool(delegator.department) and delegator.department == delegate.department
    return same or in_chain(tenant, grant.delegator, grant.delegate)


def settle_risks(tenant: Tenant, ids: list[str]) -> None:
    """Shape the generated grants as a tidy tenant looks, so that risk means something: the
    right to change call settings stays within a department or management chain but for one
    grant in KEEP_RISKY_EVERY, and a disabled account keeps at most one lingering grant each
    way. Only bits are changed and grants dropped, so the seeded draws are untouched; every
    combination of actions still appears (the only grant with one swaps it with a grant inside
    a department), and people at or near the limit of 25 keep their grants. Only the grants
    of the generated people (`ids`) change: the fixed ones are the README's."""
    generated = set(ids)
    grants = [g for g in tenant.all_grants() if g.delegator in generated]
    manage = actions_to_bits({"manageCallAndDelegateSettings": True})
    combos: dict[int, int] = {}
    for grant in grants:
        combos[grant.bits] = combos.get(grant.bits, 0) + 1
    partners = [g for g in grants if not g.bits & manage and _inside(tenant, g) is True]
    crossing = 0
    for grant in grants:
        if not grant.bits & manage or _inside(tenant, grant) is not False:
            continue
        crossing += 1
        if not crossing % KEEP_RISKY_EVERY:
            continue
        if combos[grant.bits] > 1:
            combos[grant.bits] -= 1
            grant.bits &= ~manage
            combos[grant.bits] = combos.get(grant.bits, 0) + 1
        elif partners:
            partner = partners.pop()
            grant.bits, partner.bits = partner.bits, grant.bits
    for uid in ids:
        if not tenant.users[uid].accountEnabled:
            _prune(tenant, uid, combos, generated)


def _prune(tenant: Tenant, uid: str, combos: dict[int, int], generated: set[str]) -> None:
    """A disabled account keeps its first grant each way (the lingering one a review finds)."""
    given = tenant.delegates_of.get(uid, [])[1:]
    received = tenant.delegators_of.get(uid, [])[1:]
    for grant in given + received:
        if grant.delegator not in generated:
            continue
        if len(tenant.delegates_of.get(grant.delegator, ())) >= NEAR_LIMIT:
            continue
        if combos[grant.bits] > 1:
            combos[grant.bits] -= 1
            tenant.remove_grant(grant.delegator, grant.delegate)
