"""The main navigation's links, each marked as the current section when the page is under it."""

from django import template
from django.utils.html import format_html

from portal.reversing import reverse_cached

register = template.Library()

# A tag writing its HTML, not an included template: every page draws up to a dozen of these,
# and an include costs a template render each. The same markup as an include gave (newline too).
_ITEM = '<li class="nav-item"><a class="nav-link" href="{}">{}</a></li>\n'
_CURRENT = (
    '<li class="nav-item"><a class="nav-link active" href="{}" aria-current="page">{}</a></li>\n'
)


@register.simple_tag(takes_context=True)
def nav_item(context, url_name: str, label: str):
    """A link of the main navigation; `aria-current="page"` when the request's path is the
    link's, or under it when the link is a folder (a person's page is under People)."""
    href = reverse_cached(url_name)
    path = getattr(context.get("request"), "path", "")
    current = path == href or (href.endswith("/") and path.startswith(href))
    return format_html(_CURRENT if current else _ITEM, href, label)
