"""Reads for the people pages: each function returns exactly a page's rows in a fixed number of
queries, whatever the tenant's size (no per-row queries, no Graph during a request)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet

from delegation.folding import SEPARATOR, fold
from delegation.models import Delegation, DelegationChange, DirectoryUser, SyncRun
from portal.roles import user_has_capability

SEARCH_MIN_CHARS = 2
SEARCH_LIMIT = 20
HISTORY_LIMIT = 50
# Teams allows 25 each way; the cap only guards the page against a corrupt cache.
LIST_CAP = 200
# A received grant's `may_start_call`: it lets the delegate start calls on behalf of a delegator
# who is still in the directory (the "start a call" button). The call form decides again, with
# Graph's live answer, through calls/rules.may_start_call.
MAY_START_CALL = Q(is_active=True, make_calls=True, delegator__in_directory=True)


def people_for_user(user) -> QuerySet[DirectoryUser]:
    """The directory people `user` may look at: everyone with view_people, else no one."""
    if user_has_capability(user, "view_people"):
        return DirectoryUser.objects.all()
    return DirectoryUser.objects.none()


def directory_user_of(user) -> DirectoryUser | None:
    """The cached directory entry of a signed-in person (matched on the Entra object id)."""
    object_id = getattr(user, "object_id", "")
    if not object_id:
        return None
    return DirectoryUser.objects.filter(object_id=object_id).first()


# --- search ----------------------------------------------------------------------------------
# The term and the people are compared folded (delegation/folding.py): "zoe" finds "Zoë", "strasse"
# "Straße", alike on SQLite and PostgreSQL. The folded column starts with the folded name.
FOLDED = "search_folded"
# UPNs and mail addresses are ASCII (Entra refuses others), so their own indexes serve their
# exact and prefix tiers: case is the only difference folding would take away.
ADDRESS_FIELDS = ("upn", "mail")


def _case_variants(term: str) -> list[str]:
    # An index serves a range scan for one spelling only (SQLite compares bytes): try the
    # spellings addresses actually have (as typed, lower, Title).
    return list(dict.fromkeys([term, term.lower(), term.capitalize(), term.title(), term.upper()]))


def _starts_with(column: str, prefix: str) -> Q:
    """`column` starts with `prefix`, as an index range (prefix <= col < prefix with its last
    character bumped) that SQLite and PostgreSQL walk, plus a LIKE that keeps the match exact
    under a linguistic collation, where the range alone could admit neighbours."""
    if ord(prefix[-1]) >= 0x10FFFF:  # no next character: the LIKE alone
        return Q(**{f"{column}__startswith": prefix})
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return Q(**{f"{column}__gte": prefix, f"{column}__lt": upper, f"{column}__startswith": prefix})


def _folded_starts_with(prefix: str) -> Q:
    """The folded column starts with `prefix`: the range alone, exact because the column
    compares bytes (SQLite's BINARY, PostgreSQL's "C"). No LIKE beside it: on PostgreSQL a LIKE
    lets the planner pick the trigram index and sort every match (30 ms for "zoe" at 100,000
    people) rather than walk the B-tree in order and stop at the limit (a millisecond)."""
    if ord(prefix[-1]) >= 0x10FFFF:  # no next character: the LIKE alone
        return Q(**{f"{FOLDED}__startswith": prefix})
    return Q(**{f"{FOLDED}__gte": prefix, f"{FOLDED}__lt": prefix[:-1] + chr(ord(prefix[-1]) + 1)})


def _name_prefix_q(folded: str) -> Q:
    # One range on the folded column: its index walks it in order and the query stops at the
    # limit, however many thousands of people share the prefix.
    return _folded_starts_with(folded)


def prefix_q(term: str) -> Q:
    """Name (folded), UPN or mail starts with the term: each an index range."""
    folded = fold(term)
    q = _name_prefix_q(folded) if folded else Q(pk__in=[])
    for column in ADDRESS_FIELDS:
        for variant in _case_variants(term):
            q |= _starts_with(column, variant)
    return q


def _exact_q(term: str, folded: str) -> Q:
    variants = _case_variants(term)
    name = _folded_starts_with(folded + SEPARATOR)
    return name | Q(upn__in=variants) | Q(mail__in=variants)


def contains_q(folded: str) -> Q:
    """Name, UPN, mail, department or job title holds the folded term (PostgreSQL: a trigram
    index; SQLite: a scan)."""
    return Q(**{f"{FOLDED}__contains": folded})


def search_people(
    within: QuerySet[DirectoryUser], term: str, limit: int = SEARCH_LIMIT
) -> list[DirectoryUser]:
    """People of `within` matching `term`, ranked: exact name/UPN/mail, then prefixes, then
    substrings. The one person search: the People page passes the people its user may see
    (people_for_user), the call form's picker the people who can be called, the change forms
    and the API theirs.

    Each tier runs only while the page is not full, so a typical search costs two indexed
    queries; the substring tier (a scan of the directory on SQLite) runs only for rare terms.
    """
    # PostgreSQL refuses NUL in text, and no name holds control characters (nor the separator).
    term = " ".join("".join(ch for ch in term if ch.isprintable()).split())[:100]
    folded = fold(term)
    if len(term) < SEARCH_MIN_CHARS or not folded:
        return []
    people = within.order_by(FOLDED, "id")
    found: dict[int, DirectoryUser] = {}
    for q in (_exact_q(term, folded), _name_prefix_q(folded), prefix_q(term)):
        for person in people.filter(q).exclude(id__in=list(found))[: limit - len(found)]:
            found[person.id] = person
        if len(found) >= limit:
            return list(found.values())
    # Substrings: scan the table in storage order (walking the name index instead would read
    # every row at random, several times slower), then sort the few found.
    rest = people.filter(contains_q(folded)).exclude(id__in=list(found)).order_by("id")
    found.update({p.id: p for p in sorted(rest[: limit - len(found)], key=_by_name)})
    return list(found.values())


def _by_name(person: DirectoryUser) -> tuple[str, int]:
    return (person.search_folded, person.id)


# --- my delegations --------------------------------------------------------------------------
@dataclass
class MyDelegations:
    me: DirectoryUser | None
    acting_for: list[Delegation] = field(default_factory=list)  # I am their delegate
    my_delegates: list[Delegation] = field(default_factory=list)  # they act for me


def my_delegations(user) -> MyDelegations:
    """What the signed-in person may do for others, and what they allow others: 3 queries."""
    me = directory_user_of(user)
    if me is None:
        return MyDelegations(me=None)
    return MyDelegations(me=me, acting_for=grants_received(me), my_delegates=grants_given(me))


def grants_given(person: DirectoryUser) -> list[Delegation]:
    """The person's delegates (one query), active first, by name, capped at LIST_CAP."""
    return list(
        Delegation.objects.filter(delegator=person)
        .select_related("delegate")
        .order_by("-is_active", "delegate__display_name", "id")[:LIST_CAP]
    )


def grants_received(person: DirectoryUser) -> list[Delegation]:
    """The person's delegators (one query), active first, by name, capped at LIST_CAP; each
    grant carries `may_start_call` (MAY_START_CALL)."""
    return list(
        Delegation.objects.filter(delegate=person)
        .select_related("delegator")
        .annotate(may_start_call=ExpressionWrapper(MAY_START_CALL, output_field=BooleanField()))
        .order_by("-is_active", "delegator__display_name", "id")[:LIST_CAP]
    )


# --- a person's page -------------------------------------------------------------------------
@dataclass
class PersonPage:
    person: DirectoryUser
    delegates: list[Delegation]
    delegators: list[Delegation]
    history: list[DelegationChange]
    last_seen_by: SyncRun | None


def person_page(person: DirectoryUser) -> PersonPage:
    """Everything on a person's page in 4 queries."""
    history = (
        DelegationChange.objects.filter(Q(delegator=person) | Q(delegate=person))
        .select_related("delegator", "delegate", "run")
        .order_by("-at", "-id")[:HISTORY_LIMIT]
    )
    return PersonPage(
        person=person,
        delegates=grants_given(person),
        delegators=grants_received(person),
        history=list(history),
        last_seen_by=last_sync_that_saw(person),
    )


def last_sync_that_saw(person: DirectoryUser) -> SyncRun | None:
    """Every completed sync lists the whole directory (or its delta from a full list), so the
    last one to see a present person is the last completed run; for a removed person, the last
    completed run that finished before the removal was recorded."""
    runs = SyncRun.objects.filter(status__in=SyncRun.READ_OK_STATUSES, finished_at__isnull=False)
    if person.removed_at is not None or not person.in_directory:
        if person.removed_at is None:
            return None
        runs = runs.filter(finished_at__lt=person.removed_at)
    return runs.order_by("-finished_at", "-id").first()
