"""Formatting for the dashboards: allowed-action badges and matrix cells, people's labels."""

from __future__ import annotations

import re

from django import template
from django.template.defaultfilters import date as date_filter
from django.template.defaultfilters import truncatechars
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.timezone import template_localtime

from delegation.urls import ObjectIdConverter
from portal import allowed_actions
from portal.reversing import reverse_with

register = template.Library()

NAME_MAX = 80  # names come from Graph: bound what one row can take
OBJECT_ID = re.compile(ObjectIdConverter.regex)


@register.simple_tag
def action_columns():
    """(field, label) of the five allowed actions, in Graph's order, for matrix headers."""
    return [(action.field, action.label) for action in allowed_actions.ACTIONS]


@register.filter
def action_flags(grant):
    """[(label, allowed)] of a grant (model or dict), for badges and matrix cells."""
    values = grant["actions"] if isinstance(grant, dict) else grant
    get = values.get if isinstance(values, dict) else lambda f: getattr(values, f)
    return [(action.label, bool(get(action.field))) for action in allowed_actions.ACTIONS]


@register.filter
def allowed_labels(grant):
    return [label for label, allowed in action_flags(grant) if allowed]


@register.filter
def person_label(person):
    """A person's display name, or "unknown person (id)" for one /users does not list."""
    if person is None:
        return "unknown person"
    label = person["label"] if isinstance(person, dict) else person.label
    return label if len(label) <= NAME_MAX else label[: NAME_MAX - 1] + "…"


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None


@register.filter
def change_actions(snapshot):
    """A change record's before/after as {"actions": {...}}: the sync stores a grant's columns
    by model field name (sync/apply.py), so that is the one shape read."""
    if not isinstance(snapshot, dict):
        return {"actions": {}}
    return {"actions": {field: bool(snapshot.get(field)) for field in allowed_actions.FIELDS}}


@register.filter
def run_duration(run):
    """How long a sync run took, in seconds under two minutes ("12 s"), else minutes."""
    if not (run.started_at and run.finished_at):
        return ""
    seconds = max(0.0, (run.finished_at - run.started_at).total_seconds())
    if seconds < 120:
        return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f} s"
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes} min {rest} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60} min"


@register.filter
def person_url(object_id) -> str:
    """`{% url 'delegation:person' object_id %}` for a table's rows, reversed once per page
    name rather than once per row (portal.reversing)."""
    return reverse_with("delegation:person", object_id, OBJECT_ID)


def _field(item, name):
    """A person's or a grant's field, from a model or a dict (as a template variable reads it)."""
    if item is None:
        return None
    return item.get(name) if isinstance(item, dict) else getattr(item, name, None)


@register.simple_tag(takes_context=True)
def person_link(context, who):
    """A person's name, a link to their page for those who may see people, and a badge when
    the account is disabled or gone. A tag, not an included template: a table of fifty grants
    names a hundred people, and an include a name cost more than the rest of the page."""
    label = person_label(who)
    object_id = _field(who, "object_id")
    can = context.get("can") or {}
    if can.get("view_people") and object_id:
        url = reverse_with("delegation:person", object_id, OBJECT_ID)
        name = format_html('<a href="{}">{}</a>', url, label)
    else:
        name = format_html("{}", label)
    if not _field(who, "in_directory"):
        return format_html('{} <span class="badge text-bg-danger">removed or unknown</span>', name)
    if not _field(who, "account_enabled"):
        return format_html('{} <span class="badge text-bg-warning">disabled</span>', name)
    return name


@register.simple_tag
def action_badges(grant):
    """A grant's allowed actions as badges (model or dict), or "no actions"."""
    labels = allowed_labels(grant)
    if not labels:
        return mark_safe('<span class="text-muted">no actions</span>')
    badge = '<span class="badge text-bg-primary badge-action me-1">{}</span>'
    return format_html_join("", badge, ((label,) for label in labels))


_GRANT_ROW = (
    "<tr>\n"
    '      <td data-label="Delegator">{}</td>\n'
    '      <td data-label="Department">{}</td>\n'
    '      <td data-label="Delegate">{}</td>\n'
    '      <td data-label="Allowed actions">{}</td>\n'
    '      <td data-label="State">{}</td>\n'
    '      <td data-label="Last change">{}<time datetime="{}">{}</time></td>\n'
    "    </tr>"
)


@register.simple_tag(takes_context=True)
def grant_row(context, grant):
    """One row of the organisation's table of grants (with `last_change`, grants.table_page).
    Written here rather than in the template: fifty rows of a dozen template nodes each were
    most of the page's time. The same markup, filters and tags as the template's row had, the
    dates in the viewer's time zone as the template shows them."""
    change = grant.last_change
    how = ""
    if change.how != "changed":
        how = format_html('<span class="small text-muted">{}</span> ', change.how)
    at = template_localtime(change.at, context.use_tz)
    return format_html(
        _GRANT_ROW,
        person_link(context, grant.delegator),
        truncatechars(grant.delegator.department, 60),
        person_link(context, grant.delegate),
        action_badges(grant),
        "active" if grant.is_active else "inactive",
        how,
        date_filter(at, "c"),
        date_filter(at, "SHORT_DATETIME_FORMAT"),
    )
