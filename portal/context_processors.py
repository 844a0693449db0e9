from django.conf import settings

from portal import extensions
from portal.roles import CAPABILITIES, user_has_capability


def portal(request):
    """What the base layout needs: version, capabilities for the navigation, and the facts the
    apps add to the footer (the delegation app's last sync time)."""
    user = getattr(request, "user", None)
    caps = {}
    if user is not None and user.is_authenticated:
        caps = {code: user_has_capability(user, code) for code in CAPABILITIES}
    return {
        "portal_version": settings.PORTAL_VERSION,
        "can": caps,
        **extensions.footer_context(request),
    }
