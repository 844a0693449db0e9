"""Reads for the calls pages: only rows the person may see, with a fixed number of queries."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from calls import rules, states
from calls.models import Call
from delegation.models import Delegation, DirectoryUser
from delegation.selectors import people as people_selectors
from portal.roles import user_has_capability

PEOPLE_SEARCH_LIMIT = 10


def calls_for_user(user) -> QuerySet[Call]:
    """Helpdesk sees every call; anyone else the calls they started."""
    qs = Call.objects.select_related("started_by", "on_behalf_of")
    if user_has_capability(user, "act_on_any_call"):
        return qs
    visible = Q(started_by=user)
    if user_has_capability(user, "see_incoming_calls"):
        visible |= Q(direction=Call.Direction.INCOMING)
    return qs.filter(visible)


def call_for_user(user, pk) -> Call:
    try:
        return calls_for_user(user).get(pk=pk)
    except (Call.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such call") from exc


def ringing_incoming_calls() -> QuerySet[Call]:
    return Call.objects.filter(direction=Call.Direction.INCOMING, state=states.INCOMING)


def my_other_connected_calls(user, call: Call) -> QuerySet[Call]:
    """Candidates for a consultative transfer: the person's other live calls."""
    return (
        calls_for_user(user)
        .filter(state__in=states.CONNECTED, direction=Call.Direction.OUTGOING)
        .exclude(pk=call.pk)
        .exclude(graph_id="")
    )


def eligible_delegators(user) -> list[DirectoryUser]:
    """People whose active grant to this user allows makeCalls (the "on behalf of" choices)."""
    if not getattr(user, "object_id", ""):
        return []
    rows = (
        Delegation.objects.filter(
            delegate__object_id=user.object_id,
            is_active=True,
            make_calls=True,
            delegator__in_directory=True,
        )
        .select_related("delegator")
        .order_by("delegator__display_name")
    )
    return [row.delegator for row in rows]


def grant_between(delegator_object_id: str, delegate_object_id: str) -> rules.Grant | None:
    row = (
        Delegation.objects.filter(
            delegator__object_id=delegator_object_id, delegate__object_id=delegate_object_id
        )
        .only("is_active", "make_calls", "receive_calls")
        .first()
    )
    if row is None:
        return None
    return rules.Grant(row.is_active, row.make_calls, row.receive_calls)


def receivers_for(delegator: DirectoryUser | None) -> list[DirectoryUser]:
    """The delegator's delegates who may receive their calls: suggested first as targets."""
    if delegator is None:
        return []
    rows = (
        Delegation.objects.filter(delegator=delegator, is_active=True, receive_calls=True)
        .select_related("delegate")
        .order_by("delegate__display_name")
    )
    return [row.delegate for row in rows if row.delegate.in_directory]


def delegators_with_receivers() -> list[DirectoryUser]:
    """Delegators who have at least one delegate allowed to receive their calls (redirect)."""
    ids = (
        Delegation.objects.filter(is_active=True, receive_calls=True, delegate__in_directory=True)
        .values_list("delegator_id", flat=True)
        .distinct()
    )
    return list(DirectoryUser.objects.filter(pk__in=ids).order_by("display_name")[:200])


def directory_person(object_id: str) -> DirectoryUser | None:
    """A person who can take a call: in the directory and enabled."""
    if not object_id:
        return None
    return DirectoryUser.objects.filter(
        object_id=object_id, in_directory=True, account_enabled=True
    ).first()


def search_people(query: str) -> list[DirectoryUser]:
    """The person picker: the People page's ranked search, over the people a call can reach
    (present in the directory, account enabled)."""
    reachable = DirectoryUser.objects.filter(in_directory=True, account_enabled=True)
    return people_selectors.search_people(reachable, query or "", limit=PEOPLE_SEARCH_LIMIT)
