"""Template tags of calls: the call buttons other apps' pages show for a person."""

from django import template

from calls import selectors, summary

register = template.Library()


@register.inclusion_tag("calls/_person_buttons.html", takes_context=True)
def call_buttons(context, person):
    """Call, and call on behalf of each delegator who allows it: only what the signed-in person
    may submit (the call form checks again, and the server decides)."""
    return selectors.call_choices(context["request"].user, person)


@register.filter
def call_summary(call) -> summary.Summary:
    """The call's state line (status and detail), as its own page shows it."""
    return summary.summarise(call)
