"""Formatting for the reviews pages: a grant's snapshot in words."""

from __future__ import annotations

from django import template

from reviews.exports import actions_words

register = template.Library()


@register.filter
def snapshot_words(snapshot) -> str:
    return actions_words(snapshot if isinstance(snapshot, dict) else None)
