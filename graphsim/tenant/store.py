"""The Tenant: people indexed by id and UPN, grants both ways, and the change log delta reads."""

from __future__ import annotations

import bisect
import time
import uuid

from graphsim.tenant.model import (
    MAX_DELEGATES,
    MAX_DELEGATORS,
    RECEIVE_CALLS,
    Grant,
    TenantError,
    User,
)

_PLANS: dict[tuple, dict] = {}  # one shared dict per distinct plan: big tenant files stay small


def plans_of(value) -> tuple:
    """assignedPlans as given (a list of plan objects) -> a tuple of shared, read-only dicts."""
    if value is None:
        return ()
    if not isinstance(value, (list, tuple)) or not all(isinstance(p, dict) for p in value):
        raise TenantError("assignedPlans must be a list of objects")
    out = []
    for plan in value:
        key = tuple(sorted((str(k), str(v)) for k, v in plan.items()))
        out.append(_PLANS.setdefault(key, dict(plan)))
    return tuple(out)


class Tenant:
    def __init__(self, seed: int = 1):
        self.seed = seed
        self.ns = uuid.uuid5(uuid.NAMESPACE_URL, f"graphsim:{seed}")
        self.tenant_id = str(uuid.uuid5(self.ns, "tenant"))
        self.users: dict[str, User] = {}
        self.by_upn: dict[str, User] = {}
        self.order: list[str] = []
        self.delegates_of: dict[str, list[Grant]] = {}
        self.delegators_of: dict[str, list[Grant]] = {}
        self.groups: dict[str, str] = {}  # id -> displayName
        self.version = 0
        self.changes_v: list[int] = []  # versions, ascending
        self.changes: list[tuple[str, str | None]] = []  # (user id, removal reason or None)
        self.epoch = 1  # bumped to expire every delta token

    def make_id(self, name: str) -> str:
        return str(uuid.uuid5(self.ns, name))

    # ---------------------------------------------------------------- users
    def new_user(self, fields: dict, uid: str | None = None) -> User:
        user = User()
        upn = fields["userPrincipalName"]
        user.id = uid or fields.get("id") or self.make_id("user:" + upn.lower())
        user.displayName = fields.get("displayName")
        user.givenName = fields.get("givenName")
        user.surname = fields.get("surname")
        user.userPrincipalName = upn
        user.mail = fields.get("mail", upn)
        user.department = fields.get("department")
        user.jobTitle = fields.get("jobTitle")
        user.accountEnabled = bool(fields.get("accountEnabled", True))
        user.mobilePhone = fields.get("mobilePhone")
        user.businessPhones = tuple(fields.get("businessPhones") or ())
        user.officeLocation = fields.get("officeLocation")
        user.preferredLanguage = fields.get("preferredLanguage", "en-US")
        user.roles = tuple(fields.get("roles") or ())
        user.groups = tuple(fields.get("groups") or ())
        user.callBehavior = fields.get("callBehavior")
        user.assignedPlans = plans_of(fields.get("assignedPlans"))
        user.manager = fields.get("manager") or None
        user.former_manager = None
        user.version = 0
        return user

    def _log(self, uid: str, reason: str | None) -> int:
        self.version += 1
        self.changes_v.append(self.version)
        self.changes.append((uid, reason))
        return self.version

    def add_user(self, fields: dict, log: bool = True) -> User:
        if "userPrincipalName" not in fields:
            raise TenantError("a user needs userPrincipalName")
        user = self.new_user(fields)
        key = user.userPrincipalName.lower()
        if user.id in self.users:
            raise TenantError(f"user id {user.id} exists")
        if key in self.by_upn:
            raise TenantError(f"userPrincipalName {user.userPrincipalName} exists")
        self.users[user.id] = user
        self.by_upn[key] = user
        self.order.append(user.id)
        if log:
            user.version = self._log(user.id, None)
        return user

    def find_user(self, ref: str) -> User | None:
        if ref is None:
            return None
        user = self.users.get(ref)
        if user is None and "@" in ref:
            user = self.by_upn.get(ref.lower())
        return user

    def resolve_id(self, ref: str) -> str:
        """A user id or UPN -> object id; unknown GUIDs pass through (orphans)."""
        user = self.find_user(ref)
        if user:
            return user.id
        if "@" in ref:
            raise TenantError(f"unknown user {ref}")
        return ref

    def update_user(self, fields: dict) -> User:
        ref = fields.get("id") or fields.get("userPrincipalName")
        user = self.find_user(ref)
        if user is None:
            raise TenantError(f"unknown user {ref}")
        for name, value in fields.items():
            if name == "id":
                continue
            if name == "userPrincipalName" and value.lower() != user.userPrincipalName.lower():
                if value.lower() in self.by_upn:
                    raise TenantError(f"userPrincipalName {value} exists")
                del self.by_upn[user.userPrincipalName.lower()]
                self.by_upn[value.lower()] = user
            if name in ("businessPhones", "roles", "groups"):
                value = tuple(value or ())
            if name == "assignedPlans":
                value = plans_of(value)
            if name not in User.__slots__ or name in ("version", "former_manager"):
                raise TenantError(f"unknown user property {name}")
            if name == "manager":
                value = value or None
                if value is not None and value not in self.users:
                    raise TenantError(f"unknown manager {value}")
                user.former_manager = user.manager if user.manager != value else None
            setattr(user, name, value)
        user.version = self._log(user.id, None)
        return user

    def remove_user(self, ref: str, reason: str = "deleted", keep_delegations=False) -> None:
        user = self.find_user(ref)
        if user is None:
            raise TenantError(f"unknown user {ref}")
        if reason not in ("changed", "deleted"):
            raise TenantError("reason must be changed or deleted")
        del self.users[user.id]
        del self.by_upn[user.userPrincipalName.lower()]
        self.order.remove(user.id)
        if not keep_delegations:
            for grant in list(self.delegates_of.get(user.id, ())):
                self.remove_grant(grant.delegator, grant.delegate)
            for grant in list(self.delegators_of.get(user.id, ())):
                self.remove_grant(grant.delegator, grant.delegate)
        self._log(user.id, reason)

    def changes_between(self, v_from: int, v_to: int) -> list[tuple[str, str | None]]:
        """Each user changed after version v_from up to v_to, once, in the order of its last
        change, with the removal reason (None when it still exists)."""
        lo = bisect.bisect_right(self.changes_v, v_from)
        hi = bisect.bisect_right(self.changes_v, v_to)
        latest: dict[str, str | None] = {}
        for uid, reason in self.changes[lo:hi]:
            latest.pop(uid, None)
            latest[uid] = reason
        return list(latest.items())

    # ---------------------------------------------------------------- grants
    def get_grant(self, delegator: str, delegate: str) -> Grant | None:
        for grant in self.delegates_of.get(delegator, ()):
            if grant.delegate == delegate:
                return grant
        return None

    def set_grant(self, delegator, delegate, active=True, created=None, bits=None, check=True):
        """Creates the grant, or changes only the given (not None) fields of an existing one.
        `check` applies Teams' limits of 25 delegates per delegator and 25 delegators per
        delegate to a new grant."""
        grant = self.get_grant(delegator, delegate)
        if grant is not None:
            if active is not None:
                grant.active = bool(active)
            if bits is not None:
                grant.bits = bits
            if created is not None:
                grant.created = created
            return grant
        if delegator == delegate:
            raise TenantError("a person cannot delegate to themselves")
        delegates = self.delegates_of.setdefault(delegator, [])
        delegators = self.delegators_of.setdefault(delegate, [])
        if check and len(delegates) >= MAX_DELEGATES:
            raise TenantError(f"{delegator} already has {MAX_DELEGATES} delegates")
        if check and len(delegators) >= MAX_DELEGATORS:
            raise TenantError(f"{delegate} already has {MAX_DELEGATORS} delegators")
        grant = Grant(
            delegator,
            delegate,
            True if active is None else bool(active),
            int(time.time()) if created is None else created,
            RECEIVE_CALLS if bits is None else bits,
        )
        delegates.append(grant)
        delegators.append(grant)
        return grant

    def gid(self, grant: Grant) -> str:
        """The grant's own id (shown as `id` in the `grant` delegation id mode)."""
        if grant.gid is None:
            grant.gid = self.make_id(f"grant:{grant.delegator}:{grant.delegate}")
        return grant.gid

    def remove_grant(self, delegator: str, delegate: str) -> bool:
        grant = self.get_grant(delegator, delegate)
        if grant is None:
            return False
        self.delegates_of[delegator].remove(grant)
        self.delegators_of[delegate].remove(grant)
        return True

    def clear_grants(self) -> None:
        self.delegates_of.clear()
        self.delegators_of.clear()

    def all_grants(self):
        for grants in self.delegates_of.values():
            yield from grants

    def grant_count(self) -> int:
        return sum(len(grants) for grants in self.delegates_of.values())

    def truth(self, grant_ids: bool = False) -> dict:
        """The whole tenant as `/_sim/truth` shows it (and `--tenant-file` reads it)."""
        delegations = []
        for grant in self.all_grants():
            row = grant.to_truth()
            if grant_ids:
                row["grantId"] = self.gid(grant)
            delegations.append(row)
        return {
            "tenant": self.tenant_id,
            "groups": [{"id": gid, "displayName": name} for gid, name in self.groups.items()],
            "users": [self.users[uid].to_truth() for uid in self.order],
            "delegations": delegations,
        }
