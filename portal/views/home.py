"""Where a signed-in person lands, and the page for someone the portal has nothing for."""

from django.shortcuts import redirect, render

from portal import extensions


def home(request):
    """Each person lands where the apps' landing rules send them; anyone no rule claims lands on
    the page that says whom to ask (never a bare 403)."""
    return redirect(extensions.landing_for(request.user) or "portal:no_access")


def no_access(request):
    return render(request, "portal/no_access.html")
