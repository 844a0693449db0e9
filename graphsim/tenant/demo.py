"""The demo tenant, deterministic from the seed: the fixed people of the README, then generated
colleagues (every combination of actions, people at the limit, inactive grants, disabled
accounts and names that break careless code).

Licences: a share of the generated people (`voice_share`, 25 % by default) has Teams Phone,
and only they delegate (Teams requires the licence on the delegator), about three delegates
each; a few delegators then lose the licence and keep their grants, as Teams lets them.
Every fixed person has Teams Phone except Adele Admin, Fay Former and Dora Disabled (the last
two lost it)."""

from __future__ import annotations

import random
import unicodedata
import uuid

from graphsim.tenant import org
from graphsim.tenant.model import (
    ALL_ACTIONS,
    BASE_ONLY,
    BASE_TIME,
    DOMAIN,
    MAX_DELEGATORS,
    TEAMS_PHONE_REMOVED,
    WITH_TEAMS_PHONE,
    Grant,
    User,
    actions_to_bits,
)
from graphsim.tenant.store import Tenant


def _words(text: str) -> list[str]:
    return text.split()


FIRST = _words(
    "Anna Ben Chloé David Elif François Greta Hamid Ingrid Jonas Karin Luis Maëlle Nikolai Olga "
    "Pedro Qi Rosa Søren Tomás Ulla Viktor Wen Xavier Yusuf Zoë Åsa Björn Çağla Dóra"
)
LAST = _words(
    "Andersen Berg Costa Dubois Eriksen Fischer García Hoffmann Ivanova Jensen Kowalski López "
    "Müller Nguyen O'Neill Petrov Quinn Rossi Schäfer Tanaka Újvári Vasquez Weiß Xu Yilmaz "
    "Zieliński Ångström"
)
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
LANGUAGES = ("en-US", "de-DE", "fr-FR", "ar-SA", "he-IL")

FIXED = [
    # upn local part, given, surname, roles, department, job, extra
    ("admin", "Adele", "Admin", ["admin"], "IT", "Portal Administrator", {"plans": BASE_ONLY}),
    ("helpdesk", "Hugo", "Helpdesk", ["helpdesk"], "Support", "Helpdesk Agent", {}),
    ("manager", "Mona", "Manager", ["manager"], "Operations", "Operations Manager", {}),
    ("nobody", "Nils", "Nobody", [], "Sales", "Sales Representative", {}),
    ("boss", "Bea", "Boss", [], "Executive Office", "Chief Executive Officer", {}),
    ("assistant", "Ari", "Assistant", [], "Executive Office", "Executive Assistant", {}),
    ("deputy", "Dev", "Deputy", [], "Executive Office", "Deputy Chief Executive", {}),
    (
        "former",
        "Fay",
        "Former",
        [],
        "Executive Office",
        "Former Assistant",
        {"plans": TEAMS_PHONE_REMOVED},
    ),
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
    (
        "disabled",
        "Dora",
        "Disabled",
        [],
        "Finance",
        "Former Accountant",
        {"accountEnabled": False, "plans": TEAMS_PHONE_REMOVED},
    ),
]
GROUPS = {
    "Portal Admins": ["admin"],
    "Portal Helpdesk": ["helpdesk"],
    "Portal Managers": ["manager"],
    "Executives": ["boss"],
}
DAY = 86400
THREE_YEARS = 94608000  # generated grants were created up to three years before BASE_TIME
VOICE_SHARE = 0.25
LAPSED_EVERY = 100  # one delegator in a hundred (the 4th, 104th, ...) loses Teams Phone


def _bits(*names):
    return actions_to_bits(dict.fromkeys(names, True))


ASSISTANT_BITS = _bits("makeCalls", "receiveCalls", "pickUpHeldCalls")
# common action sets, for most generated grants
COMMON_BITS = [
    _bits("makeCalls", "receiveCalls"),
    _bits("receiveCalls"),
    ASSISTANT_BITS,
    _bits("makeCalls", "receiveCalls", "manageCallAndDelegateSettings"),
    _bits("receiveCalls", "pickUpHeldCalls", "joinActiveCalls"),
    ALL_ACTIONS,
]


def slug(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if ch.isascii() and ch.isalnum())
    return text.lower() or "user"


def build_demo(seed: int = 1, n_users: int = 200, voice_share: float = VOICE_SHARE) -> Tenant:
    tenant = Tenant(seed)
    rng = random.Random(seed)
    _add_fixed_people(tenant)
    _add_fixed_grants(tenant)
    generated = max(0, n_users - len(FIXED))
    if generated:
        ids = _generate_people(tenant, rng.random, generated)
        # Its own generator: the share of voice-enabled people leaves the rest of the tenant be.
        voice = random.Random(f"voice:{seed}")
        for uid in ids:
            has_phone = voice.random() < voice_share
            tenant.users[uid].assignedPlans = WITH_TEAMS_PHONE if has_phone else BASE_ONLY
        _DemoGrants(tenant, rng.random, ids).generate()
        _lapse_a_few(tenant, ids)
    fixed = [tenant.by_upn[f"{local}@{DOMAIN}"].id for local, *_ in FIXED]
    org.assign_managers(tenant, ids if generated else [], fixed, tenant.by_upn[f"boss@{DOMAIN}"].id)
    if generated:
        org.settle_risks(tenant, ids)
    tenant.version = 0
    return tenant


def _lapse_a_few(tenant: Tenant, ids: list[str]) -> None:
    """A few delegators lose Teams Phone and keep their grants (Graph still lists them)."""
    delegators = [uid for uid in ids if tenant.delegates_of.get(uid)]
    for uid in delegators[3::LAPSED_EVERY]:
        tenant.users[uid].assignedPlans = TEAMS_PHONE_REMOVED


def _add_fixed_people(tenant: Tenant) -> None:
    gid_of = {name: tenant.make_id("group:" + name) for name in GROUPS}
    tenant.groups = {gid_of[name]: name for name in GROUPS}
    member_of: dict[str, list[str]] = {}
    for name, members in GROUPS.items():
        for member in members:
            member_of.setdefault(member, []).append(gid_of[name])
    for i, (local, given, surname, roles, department, job, extra) in enumerate(FIXED):
        fields = {
            "userPrincipalName": f"{local}@{DOMAIN}",
            "givenName": given,
            "surname": surname,
            "displayName": f"{given} {surname}",
            "department": department,
            "jobTitle": job,
            "roles": roles,
            "groups": member_of.get(local, []),
            "businessPhones": [f"+1 425 555 {1000 + i:04d}"],
            "mobilePhone": f"+14255550{100 + i:03d}",
            "officeLocation": "HQ",
        }
        fields.update(extra)
        fields["assignedPlans"] = fields.pop("plans", WITH_TEAMS_PHONE)
        tenant.add_user(fields, log=False)


def _add_fixed_grants(tenant: Tenant) -> None:
    fid = {local: tenant.by_upn[f"{local}@{DOMAIN}"].id for local, *_ in FIXED}
    created = BASE_TIME - DAY * 200
    boss, manager = fid["boss"], fid["manager"]
    tenant.set_grant(boss, fid["assistant"], True, created, ASSISTANT_BITS)
    tenant.set_grant(boss, fid["deputy"], True, created + 3600, _bits("receiveCalls"))
    tenant.set_grant(boss, fid["former"], False, created - DAY * 400, _bits("receiveCalls"))
    orphan = tenant.make_id("orphan")
    tenant.set_grant(boss, orphan, True, created - DAY * 30, _bits("makeCalls", "receiveCalls"))
    tenant.set_grant(
        manager,
        fid["disabled"],
        True,
        created - DAY * 90,
        _bits("receiveCalls", "joinActiveCalls"),
    )
    tenant.set_grant(
        manager,
        fid["helpdesk"],
        True,
        created + DAY,
        _bits("makeCalls", "receiveCalls", "manageCallAndDelegateSettings"),
    )


def _generate_people(tenant: Tenant, draw, count: int) -> list[str]:
    """`count` colleagues in department blocks; returns their ids in order. `draw` is the seeded
    random(); the order of its calls is what makes a seed give the same tenant."""
    ids = []
    for i in range(count):
        if i < len(SPECIAL_NAMES):
            given, surname = SPECIAL_NAMES[i]
        else:
            given = FIRST[int(draw() * len(FIRST))]
            surname = LAST[int(draw() * len(LAST))]
        user = _colleague(tenant, i, count, given, surname)
        user.accountEnabled = draw() > 0.02
        tenant.users[user.id] = user
        tenant.by_upn[user.userPrincipalName.lower()] = user
        tenant.order.append(user.id)
        ids.append(user.id)
    return ids


def _colleague(tenant: Tenant, i: int, count: int, given: str, surname: str) -> User:
    upn = f"{slug(given)[:12]}.{slug(surname)[:14]}.{i}@{DOMAIN}"
    user = User()
    user.id = str(uuid.uuid5(tenant.ns, f"gen:{i}"))
    user.displayName = f"{given} {surname}"
    user.givenName = given
    user.surname = surname
    user.userPrincipalName = upn
    user.mail = upn
    user.department = DEPARTMENTS[i * len(DEPARTMENTS) // count]
    user.jobTitle = JOBS[i % len(JOBS)]
    if i % 50 == 10:
        user.jobTitle = "Executive Director"
    elif i % 50 == 11:
        user.jobTitle = "Executive Assistant"
    user.mobilePhone = None if i % 3 else f"+4930{i:08d}"
    user.businessPhones = (f"+1 206 555 {i % 10000:04d}",) if i % 4 == 0 else ()
    user.officeLocation = f"Building {1 + i % 9}"
    user.preferredLanguage = LANGUAGES[i % 5]
    user.roles = ()
    user.groups = ()
    user.callBehavior = None
    user.assignedPlans = BASE_ONLY
    user.manager = user.former_manager = None
    user.version = 0
    return user


class _DemoGrants:
    """Each person gets a number of delegates from a skewed distribution, drawn from colleagues
    close by (the same department block); about 3 on average."""

    def __init__(self, tenant: Tenant, draw, ids: list[str]):
        self.tenant = tenant
        self.draw = draw
        self.ids = ids
        self.span = max(2, min(len(ids), 400))
        self.next_combination = 0  # every combination of actions appears at least once

    def generate(self) -> None:
        count = len(self.ids)
        users = self.tenant.users
        for i in range(count):
            wanted = self._how_many(i)
            if count < 2:
                break
            if users[self.ids[i]].assignedPlans is WITH_TEAMS_PHONE:  # only they may delegate
                self._grants_of(i, min(wanted, count - 1))

    def _how_many(self, i: int) -> int:
        roll = self.draw()
        if i % 97 == 5:
            return 25  # shared line / people at the limit
        if i % 41 == 7:
            return 10 + int(self.draw() * 15)  # shared lines
        if roll < 0.25:
            return 0
        if roll < 0.9:
            return 1 + int(self.draw() * 5)
        return 6 + int(self.draw() * 6)

    def _grants_of(self, i: int, wanted: int) -> None:
        draw, ids, count = self.draw, self.ids, len(self.ids)
        delegator = ids[i]
        mine = self.tenant.delegates_of.setdefault(delegator, [])
        if i % 50 == 10 and i + 1 < count and len(mine) < wanted + 1:
            # an executive director and the executive assistant after them
            self._add(
                delegator, ids[i + 1], True, BASE_TIME - int(draw() * THREE_YEARS), ASSISTANT_BITS
            )
        tries = 0
        while len(mine) < wanted and tries < wanted * 4:
            tries += 1
            j = i + 1 + int(draw() * self.span)
            if j >= count:
                j -= count
            if j == i:
                continue
            delegate = ids[j]
            if len(self.tenant.delegators_of.setdefault(delegate, [])) >= MAX_DELEGATORS:
                continue
            if any(grant.delegate == delegate for grant in mine):
                continue
            bits = self._pick_bits()
            active = draw() > 0.08
            self._add(delegator, delegate, active, BASE_TIME - int(draw() * THREE_YEARS), bits)

    def _pick_bits(self) -> int:
        if self.next_combination <= ALL_ACTIONS:
            self.next_combination += 1
            return self.next_combination - 1
        if self.draw() < 0.85:
            return COMMON_BITS[int(self.draw() * len(COMMON_BITS))]
        return int(self.draw() * 32)

    def _add(self, delegator: str, delegate: str, active: bool, created: int, bits: int) -> None:
        grant = Grant(delegator, delegate, active, created, bits)
        self.tenant.delegates_of[delegator].append(grant)
        self.tenant.delegators_of.setdefault(delegate, []).append(grant)
