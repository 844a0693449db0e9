"""What the reviews app tells the portal's own pages (registered in `ReviewsConfig.ready`): a
reviewer with nothing else lands on their reviews. (The navigation shows "My reviews" to
everyone signed in, as it shows "Changes": no query on every page to decide it.)"""

from __future__ import annotations

from django.urls import reverse

from reviews import selectors


def landing(user) -> str | None:
    if selectors.pending_count(user):
        return reverse("reviews:queue")
    return None
