"""Reads of the directory cache: the one people search, a person, their delegates and
delegators, and the organisation's grants with the table's filters."""

from __future__ import annotations

from typing import Literal

from django.db.models import Subquery
from ninja import Field as F
from ninja import Path, Query, Router, Schema

from api import pagination, schemas
from api.auth import require
from api.problems import ApiProblem, responses
from delegation.forms import DelegationFilterForm
from delegation.models import Delegation
from delegation.selectors import grants as grant_selectors
from delegation.selectors import people as people_selectors
from portal.allowed_actions import FIELDS

router = Router(tags=["directory"])
PersonPage = schemas.page_of(schemas.Person)
GrantPage = schemas.page_of(schemas.Grant)
ObjectId = Path(..., pattern=schemas.OBJECT_ID)


def _person(request, object_id: str):
    user = require(request, "view_people")
    within = people_selectors.people_for_user(user)
    person = within.filter(object_id=object_id.lower()).first()
    if person is None:
        raise ApiProblem(404, "No such person in the directory cache.", ["not_found"])
    return person


@router.get("/people", response=responses({200: PersonPage}))
def search_people(request, q: str = Query(..., min_length=1, max_length=100)):
    """The People page's search: exact, then prefix, then substring matches (capped)."""
    within = people_selectors.people_for_user(require(request, "view_people"))
    return {"items": people_selectors.search_people(within, q)}


@router.get("/people/{object_id}", response=responses({200: schemas.Person}, 404))
def get_person(request, object_id: str = ObjectId):
    return _person(request, object_id)


@router.get("/people/{object_id}/delegates", response=responses({200: GrantPage}, 404))
def delegates_of(request, object_id: str = ObjectId):
    """Who acts for this person (capped at 200; Teams allows 25)."""
    grants = people_selectors.grants_given(_person(request, object_id))
    return {"items": [schemas.grant_out(g) for g in grants]}


@router.get("/people/{object_id}/delegators", response=responses({200: GrantPage}, 404))
def delegators_of(request, object_id: str = ObjectId):
    """For whom this person acts (capped at 200)."""
    grants = people_selectors.grants_received(_person(request, object_id))
    return {"items": [schemas.grant_out(g) for g in grants]}


class GrantFilters(Schema):
    person: str = F("", max_length=100, description="Start of a name, UPN or mail")
    department: str = F("", max_length=256, description="The delegator's department")
    action: Literal["", *FIELDS] = ""
    active: Literal["", "yes", "no"] = ""
    sort: Literal["", *grant_selectors.SORTS] = ""
    cursor: str = F("", max_length=400)
    limit: int = F(50, ge=1, le=200)


@router.get("/grants", response=responses({200: GrantPage}))
def list_grants(request, query: Query[GrantFilters]):
    """The organisation table: the same filters and order as the dashboard's table."""
    require(request, "view_organisation")
    data = query.dict(exclude={"cursor", "limit"})
    filters, _page = DelegationFilterForm(data).filters_and_page()  # the API pages by cursor
    offset = pagination.decode(query.cursor, "grants", filters) or 0
    qs = grant_selectors.filtered_delegations(**filters)
    return _grant_page(qs, offset, query.limit, filters)


def _grant_page(qs, offset: int, limit: int, filters: dict) -> dict:
    # Offsets stop at the table's COUNT_CAP, as the dashboard's pages do (deep OFFSETs scan).
    ids = qs.values("id")[offset : offset + limit + 1]
    rows = list(
        Delegation.objects.filter(id__in=Subquery(ids))
        .select_related("delegator", "delegate")
        .order_by(*qs.query.order_by)
    )
    more = len(rows) > limit and offset + limit < grant_selectors.COUNT_CAP
    cursor = pagination.encode("grants", offset + limit, filters) if more else None
    return {"items": [schemas.grant_out(g) for g in rows[:limit]], "next_cursor": cursor}
