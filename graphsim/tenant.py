"""The tenant: users, groups and call delegations, with indexes and a change log for delta."""

from __future__ import annotations

import bisect
import random
import time
import unicodedata
import uuid

DOMAIN = "contoso.test"
ACTIONS = (
    "makeCalls",
    "receiveCalls",
    "manageCallAndDelegateSettings",
    "pickUpHeldCalls",
    "joinActiveCalls",
)
ALL_ACTIONS = (1 << len(ACTIONS)) - 1
MAX_DELEGATES = 25
MAX_DELEGATORS = 25

# Properties Graph v1.0 returns for a user without $select, and every property we know.
DEFAULT_SELECT = (
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
)
USER_PROPS = DEFAULT_SELECT + ("accountEnabled", "department")
SIM_PROPS = ("roles", "groups", "callBehavior")

BASE_TIME = 1767225600  # 2026-01-01T00:00:00Z: generated grants are older than this


_DAYS: dict[int, str] = {}


def iso(ts: int | float) -> str:
    day, sec = divmod(int(ts), 86400)
    d = _DAYS.get(day)
    if d is None:
        d = _DAYS[day] = time.strftime("%Y-%m-%d", time.gmtime(day * 86400))
    h, rem = divmod(sec, 3600)
    return f"{d}T{h:02d}:{rem // 60:02d}:{rem % 60:02d}Z"


def parse_iso(s: str) -> int:
    s = s.strip().replace("Z", "+00:00")
    from datetime import datetime

    return int(datetime.fromisoformat(s).timestamp())


def actions_to_bits(d: dict | None, base: int = 0) -> int:
    bits = base
    for i, name in enumerate(ACTIONS):
        if d and name in d:
            if d[name]:
                bits |= 1 << i
            else:
                bits &= ~(1 << i)
    return bits


def bits_to_actions(bits: int) -> dict:
    return {name: bool(bits >> i & 1) for i, name in enumerate(ACTIONS)}


_ACTIONS_OF = [bits_to_actions(b) for b in range(ALL_ACTIONS + 1)]  # shared, read-only


class User:
    __slots__ = (
        "id",
        "displayName",
        "givenName",
        "surname",
        "userPrincipalName",
        "mail",
        "department",
        "jobTitle",
        "accountEnabled",
        "mobilePhone",
        "businessPhones",
        "officeLocation",
        "preferredLanguage",
        "roles",
        "groups",
        "callBehavior",
        "version",
    )

    def to_graph(self, select=None) -> dict:
        props = select or DEFAULT_SELECT
        out = {}
        for p in props:
            v = getattr(self, p)
            out[p] = list(v) if p == "businessPhones" else v
        return out

    def to_truth(self) -> dict:
        d = {p: getattr(self, p) for p in USER_PROPS}
        d["businessPhones"] = list(self.businessPhones)
        d["roles"] = list(self.roles)
        d["groups"] = list(self.groups)
        d["callBehavior"] = self.callBehavior
        return d


class Grant:
    __slots__ = ("delegator", "delegate", "active", "created", "bits", "gid")

    def __init__(self, delegator, delegate, active, created, bits, gid):
        self.delegator = delegator
        self.delegate = delegate
        self.active = active
        self.created = created
        self.bits = bits
        self.gid = gid

    def to_truth(self) -> dict:
        d = {
            "delegator": self.delegator,
            "delegate": self.delegate,
            "isActive": self.active,
            "createdDateTime": iso(self.created),
            "allowedActions": _ACTIONS_OF[self.bits & ALL_ACTIONS],
        }
        return d


class TenantError(ValueError):
    pass


FIRST = [
    "Anna",
    "Ben",
    "Chloé",
    "David",
    "Elif",
    "François",
    "Greta",
    "Hamid",
    "Ingrid",
    "Jonas",
    "Karin",
    "Luis",
    "Maëlle",
    "Nikolai",
    "Olga",
    "Pedro",
    "Qi",
    "Rosa",
    "Søren",
    "Tomás",
    "Ulla",
    "Viktor",
    "Wen",
    "Xavier",
    "Yusuf",
    "Zoë",
    "Åsa",
    "Björn",
    "Çağla",
    "Dóra",
]
LAST = [
    "Andersen",
    "Berg",
    "Costa",
    "Dubois",
    "Eriksen",
    "Fischer",
    "García",
    "Hoffmann",
    "Ivanova",
    "Jensen",
    "Kowalski",
    "López",
    "Müller",
    "Nguyen",
    "O'Neill",
    "Petrov",
    "Quinn",
    "Rossi",
    "Schäfer",
    "Tanaka",
    "Újvári",
    "Vasquez",
    "Weiß",
    "Xu",
    "Yilmaz",
    "Zieliński",
    "Ångström",
]
SPECIAL_NAMES = [
    ("Zoë", "Ångström"),
    ("ليلى", "حداد"),
    ("נועה", "כהן"),
    ("<script>alert(1)</script>", 'O\'Brien & "Co"'),
    ("Jürgen", "Groß-Überlänge"),
    ("محمد", "الأحمد"),
]
DEPARTMENTS = [
    "Sales",
    "Finance",
    "Legal",
    "Engineering",
    "Support",
    "Marketing",
    "Human Resources",
    "Operations",
    "Executive Office",
    "Research & Development",
    "Procurement",
    "IT",
]
JOBS = ["Specialist", "Analyst", "Engineer", "Coordinator", "Consultant", "Officer", "Manager"]


def slug(s: str) -> str:
    s = unicodedata.normalize("NFKD", s)
    s = "".join(c for c in s if c.isascii() and (c.isalnum()))
    return s.lower() or "user"


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
        self.grant_by_gid: dict[str, Grant] | None = None  # built lazily
        self.groups: dict[str, str] = {}  # id -> displayName
        self.version = 0
        self.changes_v: list[int] = []  # versions, ascending
        self.changes: list[tuple[str, str | None]] = []  # (user id, removal reason or None)
        self.epoch = 1  # bumped to expire every delta token

    # ---------------------------------------------------------------- ids
    def make_id(self, name: str) -> str:
        return str(uuid.uuid5(self.ns, name))

    # ---------------------------------------------------------------- users
    def new_user(self, d: dict, uid: str | None = None) -> User:
        u = User()
        u.id = uid or d.get("id") or self.make_id("user:" + d["userPrincipalName"].lower())
        u.displayName = d.get("displayName")
        u.givenName = d.get("givenName")
        u.surname = d.get("surname")
        u.userPrincipalName = d["userPrincipalName"]
        u.mail = d.get("mail", u.userPrincipalName)
        u.department = d.get("department")
        u.jobTitle = d.get("jobTitle")
        u.accountEnabled = bool(d.get("accountEnabled", True))
        u.mobilePhone = d.get("mobilePhone")
        u.businessPhones = tuple(d.get("businessPhones") or ())
        u.officeLocation = d.get("officeLocation")
        u.preferredLanguage = d.get("preferredLanguage", "en-US")
        u.roles = tuple(d.get("roles") or ())
        u.groups = tuple(d.get("groups") or ())
        u.callBehavior = d.get("callBehavior")
        u.version = 0
        return u

    def _log(self, uid: str, reason: str | None) -> int:
        self.version += 1
        self.changes_v.append(self.version)
        self.changes.append((uid, reason))
        return self.version

    def add_user(self, d: dict, log: bool = True) -> User:
        if "userPrincipalName" not in d:
            raise TenantError("a user needs userPrincipalName")
        u = self.new_user(d)
        key = u.userPrincipalName.lower()
        if u.id in self.users:
            raise TenantError(f"user id {u.id} exists")
        if key in self.by_upn:
            raise TenantError(f"userPrincipalName {u.userPrincipalName} exists")
        self.users[u.id] = u
        self.by_upn[key] = u
        self.order.append(u.id)
        if log:
            u.version = self._log(u.id, None)
        return u

    def find_user(self, ref: str) -> User | None:
        if ref is None:
            return None
        u = self.users.get(ref)
        if u is None and "@" in ref:
            u = self.by_upn.get(ref.lower())
        return u

    def resolve_id(self, ref: str) -> str:
        """A user id or UPN -> object id; unknown GUIDs pass through (orphans)."""
        u = self.find_user(ref)
        if u:
            return u.id
        if "@" in ref:
            raise TenantError(f"unknown user {ref}")
        return ref

    def update_user(self, d: dict) -> User:
        ref = d.get("id") or d.get("userPrincipalName")
        u = self.find_user(ref)
        if u is None:
            raise TenantError(f"unknown user {ref}")
        for k, v in d.items():
            if k == "id":
                continue
            if k == "userPrincipalName" and v.lower() != u.userPrincipalName.lower():
                if v.lower() in self.by_upn:
                    raise TenantError(f"userPrincipalName {v} exists")
                del self.by_upn[u.userPrincipalName.lower()]
                self.by_upn[v.lower()] = u
            if k in ("businessPhones", "roles", "groups"):
                v = tuple(v or ())
            if k not in User.__slots__ or k == "version":
                raise TenantError(f"unknown user property {k}")
            setattr(u, k, v)
        u.version = self._log(u.id, None)
        return u

    def remove_user(self, ref: str, reason: str = "deleted", keep_delegations=False) -> None:
        u = self.find_user(ref)
        if u is None:
            raise TenantError(f"unknown user {ref}")
        if reason not in ("changed", "deleted"):
            raise TenantError("reason must be changed or deleted")
        del self.users[u.id]
        del self.by_upn[u.userPrincipalName.lower()]
        self.order.remove(u.id)
        if not keep_delegations:
            for g in list(self.delegates_of.get(u.id, ())):
                self.remove_grant(g.delegator, g.delegate)
            for g in list(self.delegators_of.get(u.id, ())):
                self.remove_grant(g.delegator, g.delegate)
        self._log(u.id, reason)

    # ---------------------------------------------------------------- delta
    def changes_between(self, v_from: int, v_to: int) -> list[tuple[str, str | None]]:
        lo = bisect.bisect_right(self.changes_v, v_from)
        hi = bisect.bisect_right(self.changes_v, v_to)
        latest: dict[str, str | None] = {}
        for uid, reason in self.changes[lo:hi]:
            latest.pop(uid, None)
            latest[uid] = reason
        return list(latest.items())

    # ---------------------------------------------------------------- grants
    def get_grant(self, delegator: str, delegate: str) -> Grant | None:
        for g in self.delegates_of.get(delegator, ()):
            if g.delegate == delegate:
                return g
        return None

    def grant_id(self, delegator: str, delegate: str) -> str:
        return self.make_id(f"grant:{delegator}:{delegate}")

    def set_grant(self, delegator, delegate, active=True, created=None, bits=None, check=True):
        g = self.get_grant(delegator, delegate)
        if g is not None:
            if active is not None:
                g.active = bool(active)
            if bits is not None:
                g.bits = bits
            if created is not None:
                g.created = created
            return g
        if delegator == delegate:
            raise TenantError("a person cannot delegate to themselves")
        ds = self.delegates_of.setdefault(delegator, [])
        dt = self.delegators_of.setdefault(delegate, [])
        if check and len(ds) >= MAX_DELEGATES:
            raise TenantError(f"{delegator} already has {MAX_DELEGATES} delegates")
        if check and len(dt) >= MAX_DELEGATORS:
            raise TenantError(f"{delegate} already has {MAX_DELEGATORS} delegators")
        g = Grant(
            delegator,
            delegate,
            True if active is None else bool(active),
            int(time.time()) if created is None else created,
            (1 << 1) if bits is None else bits,
            None,
        )
        ds.append(g)
        dt.append(g)
        if self.grant_by_gid is not None:
            self.grant_by_gid[self.gid(g)] = g
        return g

    def gid(self, g: Grant) -> str:
        if g.gid is None:
            g.gid = self.grant_id(g.delegator, g.delegate)
        return g.gid

    def find_gid(self, gid: str) -> Grant | None:
        if self.grant_by_gid is None:
            self.grant_by_gid = {self.gid(g): g for lst in self.delegates_of.values() for g in lst}
        return self.grant_by_gid.get(gid)

    def remove_grant(self, delegator: str, delegate: str) -> bool:
        g = self.get_grant(delegator, delegate)
        if g is None:
            return False
        self.delegates_of[delegator].remove(g)
        self.delegators_of[delegate].remove(g)
        if self.grant_by_gid is not None:
            self.grant_by_gid.pop(self.gid(g), None)
        return True

    def all_grants(self):
        for lst in self.delegates_of.values():
            yield from lst

    def grant_count(self) -> int:
        return sum(len(v) for v in self.delegates_of.values())

    # ---------------------------------------------------------------- truth
    def truth(self, grant_ids: bool = False) -> dict:
        delegations = [g.to_truth() for g in self.all_grants()]
        if grant_ids:
            for g, d in zip(self.all_grants(), delegations, strict=True):
                d["grantId"] = self.gid(g)
        return {
            "tenant": self.tenant_id,
            "groups": [{"id": k, "displayName": v} for k, v in self.groups.items()],
            "users": [self.users[i].to_truth() for i in self.order],
            "delegations": delegations,
        }


# -------------------------------------------------------------------- building
FIXED = [
    # upn local part, given, surname, roles, department, job, extra
    ("admin", "Adele", "Admin", ["admin"], "IT", "Portal Administrator", {}),
    ("helpdesk", "Hugo", "Helpdesk", ["helpdesk"], "Support", "Helpdesk Agent", {}),
    ("manager", "Mona", "Manager", ["manager"], "Operations", "Operations Manager", {}),
    ("nobody", "Nils", "Nobody", [], "Sales", "Sales Representative", {}),
    ("boss", "Bea", "Boss", [], "Executive Office", "Chief Executive Officer", {}),
    ("assistant", "Ari", "Assistant", [], "Executive Office", "Executive Assistant", {}),
    ("deputy", "Dev", "Deputy", [], "Executive Office", "Deputy Chief Executive", {}),
    ("former", "Fay", "Former", [], "Executive Office", "Former Assistant", {}),
    ("noanswer", "Nora", "Noanswer", [], "Sales", "Field Sales", {"callBehavior": "noanswer"}),
    (
        "unreachable",
        "Udo",
        "Unreachable",
        [],
        "Sales",
        "Traveller",
        {"callBehavior": "unreachable"},
    ),
    (
        "transferfail",
        "Tara",
        "Transferfail",
        [],
        "Support",
        "Night Shift",
        {"callBehavior": "transferfail"},
    ),
    ("disabled", "Dora", "Disabled", [], "Finance", "Former Accountant", {"accountEnabled": False}),
]
GROUPS = {
    "Portal Admins": ["admin"],
    "Portal Helpdesk": ["helpdesk"],
    "Portal Managers": ["manager"],
    "Executives": ["boss"],
}


def _bits(*names):
    return actions_to_bits(dict.fromkeys(names, True))


def build_demo(seed: int = 1, n_users: int = 200) -> Tenant:
    t = Tenant(seed)
    rng = random.Random(seed)
    gid_of = {name: t.make_id("group:" + name) for name in GROUPS}
    t.groups = {gid_of[name]: name for name in GROUPS}
    member_of: dict[str, list[str]] = {}
    for name, members in GROUPS.items():
        for m in members:
            member_of.setdefault(m, []).append(gid_of[name])
    for i, (local, given, sur, roles, dept, job, extra) in enumerate(FIXED):
        upn = f"{local}@{DOMAIN}"
        d = {
            "userPrincipalName": upn,
            "givenName": given,
            "surname": sur,
            "displayName": f"{given} {sur}",
            "department": dept,
            "jobTitle": job,
            "roles": roles,
            "groups": member_of.get(local, []),
            "businessPhones": [f"+1 425 555 {1000 + i:04d}"],
            "mobilePhone": f"+14255550{100 + i:03d}",
            "officeLocation": "HQ",
        }
        d.update(extra)
        t.add_user(d, log=False)
    fid = {local: t.by_upn[f"{local}@{DOMAIN}"].id for local, *_ in FIXED}
    created = BASE_TIME - 86400 * 200
    t.set_grant(
        fid["boss"],
        fid["assistant"],
        True,
        created,
        _bits("makeCalls", "receiveCalls", "pickUpHeldCalls"),
    )
    t.set_grant(fid["boss"], fid["deputy"], True, created + 3600, _bits("receiveCalls"))
    t.set_grant(fid["boss"], fid["former"], False, created - 86400 * 400, _bits("receiveCalls"))
    t.set_grant(
        fid["boss"],
        t.make_id("orphan"),
        True,
        created - 86400 * 30,
        _bits("makeCalls", "receiveCalls"),
    )
    t.set_grant(
        fid["manager"],
        fid["disabled"],
        True,
        created - 86400 * 90,
        _bits("receiveCalls", "joinActiveCalls"),
    )
    t.set_grant(
        fid["manager"],
        fid["helpdesk"],
        True,
        created + 86400,
        _bits("makeCalls", "receiveCalls", "manageCallAndDelegateSettings"),
    )

    n = max(0, n_users - len(FIXED))
    _generate(t, rng, n)
    t.version = 0
    return t


def _generate(t: Tenant, rng: random.Random, n: int) -> None:
    if n == 0:
        return
    r = rng.random
    users = t.users
    order = t.order
    by_upn = t.by_upn
    ids = []
    depts = []
    ndept = len(DEPARTMENTS)
    ns = t.ns
    uuid5 = uuid.uuid5
    for i in range(n):
        if i < len(SPECIAL_NAMES):
            given, sur = SPECIAL_NAMES[i]
        else:
            given = FIRST[int(r() * len(FIRST))]
            sur = LAST[int(r() * len(LAST))]
        dept_i = i * ndept // n
        dept = DEPARTMENTS[dept_i]
        upn = f"{slug(given)[:12]}.{slug(sur)[:14]}.{i}@{DOMAIN}"
        u = User()
        u.id = str(uuid5(ns, f"gen:{i}"))
        u.displayName = f"{given} {sur}"
        u.givenName = given
        u.surname = sur
        u.userPrincipalName = upn
        u.mail = upn
        u.department = dept
        u.jobTitle = JOBS[i % len(JOBS)]
        if i % 50 == 10:
            u.jobTitle = "Executive Director"
        elif i % 50 == 11:
            u.jobTitle = "Executive Assistant"
        u.accountEnabled = r() > 0.02
        u.mobilePhone = None if i % 3 else f"+4930{i:08d}"
        u.businessPhones = (f"+1 206 555 {i % 10000:04d}",) if i % 4 == 0 else ()
        u.officeLocation = f"Building {1 + i % 9}"
        u.preferredLanguage = ("en-US", "de-DE", "fr-FR", "ar-SA", "he-IL")[i % 5]
        u.roles = ()
        u.groups = ()
        u.callBehavior = None
        u.version = 0
        users[u.id] = u
        by_upn[upn.lower()] = u
        order.append(u.id)
        ids.append(u.id)
        depts.append(dept_i)

    # Grants: each person gets a number of delegates from a skewed distribution, drawn
    # from colleagues close by (same department block). Average about 3.
    delegates_of = t.delegates_of
    delegators_of = t.delegators_of
    combo = 0
    span = max(2, min(n, 400))
    base = BASE_TIME
    # common action sets, weighted, for most grants
    common = [
        _bits("makeCalls", "receiveCalls"),
        _bits("receiveCalls"),
        _bits("makeCalls", "receiveCalls", "pickUpHeldCalls"),
        _bits("makeCalls", "receiveCalls", "manageCallAndDelegateSettings"),
        _bits("receiveCalls", "pickUpHeldCalls", "joinActiveCalls"),
        ALL_ACTIONS,
    ]
    for i in range(n):
        x = r()
        if i % 97 == 5:
            k = 25  # shared line / people at the limit
        elif i % 41 == 7:
            k = 10 + int(r() * 15)  # shared lines
        elif x < 0.25:
            k = 0
        elif x < 0.9:
            k = 1 + int(r() * 5)
        else:
            k = 6 + int(r() * 6)
        if n < 2:
            break
        k = min(k, n - 1)
        me = ids[i]
        mine = delegates_of.get(me)
        if mine is None:
            mine = delegates_of[me] = []
        if i % 50 == 10 and i + 1 < n and len(mine) < k + 1:
            other = ids[i + 1]
            theirs = delegators_of.setdefault(other, [])
            g = Grant(
                me,
                other,
                True,
                base - int(r() * 94608000),
                _bits("makeCalls", "receiveCalls", "pickUpHeldCalls"),
                None,
            )
            mine.append(g)
            theirs.append(g)
        tries = 0
        while len(mine) < k and tries < k * 4:
            tries += 1
            j = i + 1 + int(r() * span)
            if j >= n:
                j -= n
            if j == i:
                continue
            other = ids[j]
            theirs = delegators_of.get(other)
            if theirs is None:
                theirs = delegators_of[other] = []
            if len(theirs) >= MAX_DELEGATORS:
                continue
            dup = False
            for g in mine:
                if g.delegate == other:
                    dup = True
                    break
            if dup:
                continue
            if combo <= ALL_ACTIONS:
                bits = combo  # every combination appears at least once
                combo += 1
            else:
                bits = common[int(r() * len(common))] if r() < 0.85 else int(r() * 32)
            g = Grant(me, other, r() > 0.08, base - int(r() * 94608000), bits, None)
            mine.append(g)
            theirs.append(g)
