"""What the reviews app tells the portal's own pages (registered in `ReviewsConfig.ready`): a
reviewer with nothing else lands on their reviews, and the navigation shows how many wait."""

from __future__ import annotations

from django.urls import reverse

from reviews import selectors


def landing(user) -> str | None:
    if selectors.pending_count(user):
        return reverse("reviews:queue")
    return None


def footer(request) -> dict:
    """Grants waiting for this person's review (one indexed query), for the navigation."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"reviews_waiting": selectors.pending_count(user)}
