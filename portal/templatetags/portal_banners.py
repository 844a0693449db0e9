"""Banners every page of the layout may show (base.html includes portal/_banners.html)."""

from django import template

from portal.sync_account import needs_reconnect

register = template.Library()


@register.inclusion_tag("portal/_sync_account_banner.html", takes_context=True)
def sync_account_banner(context):
    """For those who can fix it: the sync account needs reconnecting (one query, admins only)."""
    can = context.get("can") or {}
    return {"show": bool(can.get("manage_sync_account")) and needs_reconnect()}
