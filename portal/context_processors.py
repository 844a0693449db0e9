from collections.abc import Mapping

from django.conf import settings

from portal import extensions
from portal.roles import CAPABILITIES, user_has_capability


class Capabilities(Mapping):
    """The person's capabilities for the navigation, each asked only when a template reads it.

    Context processors run for every template rendered with a request, htmx fragments included:
    a fragment that never shows the navigation must not pay for it (the role query). Each answer
    is kept: a table's rows ask the same one for each person they link."""

    def __init__(self, user):
        self._user = user
        self._answers: dict[str, bool] = {}

    def __getitem__(self, code: str) -> bool:
        answer = self._answers.get(code)
        if answer is None:
            if code not in CAPABILITIES:
                raise KeyError(code)
            answer = self._answers[code] = user_has_capability(self._user, code)
        return answer

    def __iter__(self):
        return iter(CAPABILITIES)

    def __len__(self) -> int:
        return len(CAPABILITIES)


def portal(request):
    """What the base layout needs: version, capabilities for the navigation, and the facts the
    apps add to the footer (the delegation app's last sync time). The apps' facts are callables
    the template calls when it reads them, so fragments skip their queries."""
    user = getattr(request, "user", None)
    caps = Capabilities(user) if user is not None and user.is_authenticated else {}
    return {
        "portal_version": settings.PORTAL_VERSION,
        "can": caps,
        **extensions.footer_context(request),
    }
