"""Where apps plug into the portal's own pages, so `portal` (the floor) never imports an app.

An app registers in its `AppConfig.ready()`:
- a landing rule: given a signed-in person, the URL of their first page, or None to pass;
- footer facts: a function of the request returning template context for the base layout
  (read by `portal.context_processors.portal`);
- setup facts: a function returning what the admin's setup guide needs to know from the app
  (`{"first_sync_done": bool, "first_sync_url": str}` from the delegation app).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

LandingRule = Callable[[Any], str | None]
FooterFacts = Callable[[Any], dict[str, Any]]

_landing_rules: list[LandingRule] = []
_footer_facts: list[FooterFacts] = []
_setup_facts: list[Callable[[], dict[str, Any]]] = []


def register_landing(rule: LandingRule) -> LandingRule:
    if rule not in _landing_rules:
        _landing_rules.append(rule)
    return rule


def register_footer(facts: FooterFacts) -> FooterFacts:
    if facts not in _footer_facts:
        _footer_facts.append(facts)
    return facts


def landing_for(user) -> str | None:
    """The first registered rule's answer for this person, or None."""
    for rule in _landing_rules:
        url = rule(user)
        if url:
            return url
    return None


def footer_context(request) -> dict[str, Any]:
    context: dict[str, Any] = {}
    for facts in _footer_facts:
        context.update(facts(request))
    return context


def register_setup_facts(facts: Callable[[], dict[str, Any]]) -> Callable[[], dict[str, Any]]:
    if facts not in _setup_facts:
        _setup_facts.append(facts)
    return facts


def setup_facts() -> dict[str, Any]:
    found: dict[str, Any] = {}
    for facts in _setup_facts:
        found.update(facts())
    return found
