"""The main navigation's links, each marked as the current section when the page is under it."""

from django import template
from django.urls import reverse

register = template.Library()


@register.inclusion_tag("portal/_nav_item.html", takes_context=True)
def nav_item(context, url_name: str, label: str):
    """A link of the main navigation; `aria-current="page"` when the request's path is the
    link's, or under it when the link is a folder (a person's page is under People)."""
    href = reverse(url_name)
    path = getattr(context.get("request"), "path", "")
    current = path == href or (href.endswith("/") and path.startswith(href))
    return {"href": href, "label": label, "current": current}
