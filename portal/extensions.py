"""Where apps plug into the portal's own pages, so `portal` (the floor) never imports an app.

An app registers in its `AppConfig.ready()`:
- a landing rule: given a signed-in person, the URL of their first page, or None to pass;
- footer facts: a function of the request returning template context for the base layout
  (read by `portal.context_processors.portal`). It runs for every template rendered with a
  request, htmx fragments included: return values that cost a query as callables (the template
  calls them where it reads them; `lazy_fact` computes one once per render);
- an access check: given a signed-in person, a short reason why they may no longer use the
  portal ("disabled", "removed"), or None to pass. Asked at every request of a signed-in
  person (`portal.middleware.SignInCheckMiddleware`): keep it to one indexed query.
- setup facts: a function returning what the admin's setup guide needs to know from the app
  (`{"first_sync_done": bool, "first_sync_url": str}` from the delegation app).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

LandingRule = Callable[[Any], str | None]
FooterFacts = Callable[[Any], dict[str, Any]]
AccessCheck = Callable[[Any], str | None]

_landing_rules: list[LandingRule] = []
_footer_facts: list[FooterFacts] = []
_access_checks: list[AccessCheck] = []
_setup_facts: list[Callable[[], dict[str, Any]]] = []


def register_landing(rule: LandingRule) -> LandingRule:
    if rule not in _landing_rules:
        _landing_rules.append(rule)
    return rule


def register_footer(facts: FooterFacts) -> FooterFacts:
    if facts not in _footer_facts:
        _footer_facts.append(facts)
    return facts


def register_access_check(check: AccessCheck) -> AccessCheck:
    if check not in _access_checks:
        _access_checks.append(check)
    return check


def landing_for(user) -> str | None:
    """The first registered rule's answer for this person, or None."""
    return _first_answer(_landing_rules, user)


def footer_context(request) -> dict[str, Any]:
    context: dict[str, Any] = {}
    for facts in _footer_facts:
        context.update(facts(request))
    return context


def lazy_fact(compute: Callable[[], Any]) -> Callable[[], Any]:
    """A footer fact the template computes when it first reads it, then reuses: base.html reads
    the last sync time three times, an htmx fragment never."""
    return functools.cache(compute)


def access_refused(user) -> str | None:
    """The first registered check's reason to refuse this person, or None."""
    return _first_answer(_access_checks, user)


def _first_answer(registered: list[Callable[[Any], str | None]], user) -> str | None:
    for ask in registered:
        answer = ask(user)
        if answer:
            return answer
    return None


def register_setup_facts(facts: Callable[[], dict[str, Any]]) -> Callable[[], dict[str, Any]]:
    if facts not in _setup_facts:
        _setup_facts.append(facts)
    return facts


def setup_facts() -> dict[str, Any]:
    found: dict[str, Any] = {}
    for facts in _setup_facts:
        found.update(facts())
    return found
