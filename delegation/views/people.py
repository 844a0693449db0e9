"""Views of the people pages: my delegations, the people search and a person's page."""

from __future__ import annotations

from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from delegation.selectors import people as people_selectors
from portal.permissions import require_capability
from portal.roles import user_has_capability


@require_GET
def mine(request):
    """Every signed-in person: whom I act for (with the actions I may take), who acts for me."""
    data = people_selectors.my_delegations(request.user)
    return render(
        request,
        "delegation/mine.html",
        {"data": data, "can_place_calls": user_has_capability(request.user, "place_calls_any")},
    )


def _people_results(request, template: str):
    term = request.GET.get("q", "")
    visible = people_selectors.people_for_user(request.user)
    results = people_selectors.search_people(visible, term)
    return render(
        request,
        template,
        {"term": term, "results": results, "min_chars": people_selectors.SEARCH_MIN_CHARS},
    )


@require_GET
@require_capability("view_people")
def people(request):
    return _people_results(request, "delegation/people.html")


@require_GET
@require_capability("view_people")
def people_search(request):
    """The results fragment htmx swaps in as the person types."""
    return _people_results(request, "delegation/_people_results.html")


@require_GET
@require_capability("view_people")
def person(request, object_id: str):
    who = get_object_or_404(people_selectors.people_for_user(request.user), object_id=object_id)
    return render(request, "delegation/person.html", {"page": people_selectors.person_page(who)})
