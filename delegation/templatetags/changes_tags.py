"""The delegates panels of a person's page and of My delegations (inclusion tags, so those
pages' views need not know about change requests), and formatting of change requests."""

from __future__ import annotations

from django import template

from delegation.changes import panels
from delegation.changes.forms import new_key
from portal.allowed_actions import ACTIONS

register = template.Library()


@register.inclusion_tag("changes/_panel.html", takes_context=True)
def delegates_panel(context, person):
    """A person's delegates with what Teams shows each side, end dates, recent requests, and
    the change buttons where the signed-in person may change them."""
    return {"panel": panels.panel(context["request"].user, person), "request": context["request"]}


@register.inclusion_tag("changes/_my_panels.html", takes_context=True)
def my_delegates_panels(context):
    return {"panels": panels.my_panels(context["request"].user), "request": context["request"]}


@register.simple_tag
def new_form_key():
    """A fresh idempotency key for a small form rendered in a list (remove, per delegate)."""
    return new_key()


@register.filter
def grant_words(grant):
    """A snapshot (dict) in words: the allowed actions' labels and the active state."""
    if not grant:
        return "no grant"
    allowed = [action.label for action in ACTIONS if grant.get(action.field)]
    state = "active" if grant.get("is_active", True) else "inactive"
    return f"{', '.join(allowed) or 'nothing allowed'} ({state})"
