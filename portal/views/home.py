"""Where a signed-in person lands, and the page for someone the portal has nothing for."""

from django.shortcuts import redirect, render

from portal import extensions
from portal.roles import user_has_capability
from portal.setup_guide import setup_guide


def home(request):
    """Each person lands where the apps' landing rules send them; anyone no rule claims lands on
    the page that says whom to ask (never a bare 403). An admin lands on the setup guide until
    the sync account is connected and the first sync has read the tenant."""
    if user_has_capability(request.user, "manage_sync_account"):
        guide = setup_guide()
        if not guide.done:
            return render(request, "portal/setup.html", {"guide": guide})
    return redirect(extensions.landing_for(request.user) or "portal:no_access")


def no_access(request):
    return render(request, "portal/no_access.html")
