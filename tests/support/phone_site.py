"""The phone page served to Chromium without the portal's views (the lead wires those): the real
template rendered by Django, static files from static/, the stand-in from tests/e2e/assets/, and a
token endpoint answering what the test says, all through Playwright's routing under one https
origin (a secure context, so the browser offers microphones). Every other request is recorded and
refused: the page is offline, as on a machine that cannot reach Microsoft.
"""

from __future__ import annotations

import json
import mimetypes
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
ORIGIN = "https://portal.test"
STAND_IN = "/test-assets/phone_standin.js"
DELEGATORS = [
    {"name": "Bea Boss", "object_id": "0b0b0b0b-0000-4000-8000-000000000001"},
    {"name": "Mona Manager", "object_id": "0b0b0b0b-0000-4000-8000-000000000002"},
]


def csp_header(settings) -> str:
    """The portal's Content-Security-Policy (django-csp settings) with the phone page's additions,
    as the page's view will send it."""
    from calls.phone_csp import PHONE_CSP_UPDATE

    directives = {k: list(v) for k, v in settings.CONTENT_SECURITY_POLICY["DIRECTIVES"].items()}
    for name, values in PHONE_CSP_UPDATE.items():
        directives[name] = directives.get(name, []) + values
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def render_phone_page(*, stand_in: bool, connect_timeout_ms: int | None = None) -> str:
    from django.contrib.auth.models import AnonymousUser
    from django.template.loader import render_to_string
    from django.test import RequestFactory

    request = RequestFactory().get("/calls/phone")
    request.user = AnonymousUser()
    config = {"token_url": "/calls/phone/token"}
    if connect_timeout_ms:
        config["connect_timeout_ms"] = connect_timeout_ms
    return render_to_string(
        "calls/phone.html",
        {
            "delegators": DELEGATORS,
            "receives_for": ["Bea Boss"],
            "phone_config": config,
            "stand_in_url": STAND_IN if stand_in else "",
        },
        request=request,
    )


@dataclass
class PhoneSite:
    html: str
    csp: str
    token_answer: tuple[int, dict] = (200, {"token": "stand-in-token", "expires_on": ""})
    refused: list[str] = field(default_factory=list)  # URLs outside the portal, refused
    bearer_seen: list[str] = field(default_factory=list)  # their Authorization headers

    def handle(self, route) -> None:
        request = route.request
        url = urlsplit(request.url)
        if f"{url.scheme}://{url.netloc}" != ORIGIN:
            self.refused.append(request.url)
            auth = request.headers.get("authorization")
            if auth:
                self.bearer_seen.append(auth)
            route.abort("internetdisconnected")
            return
        if url.path == "/calls/phone":
            route.fulfill(
                status=200,
                body=self.html,
                headers={
                    "Content-Type": "text/html; charset=utf-8",
                    "Content-Security-Policy": self.csp,
                },
            )
        elif url.path == "/calls/phone/token" and request.method == "POST":
            status, body = self.token_answer
            route.fulfill(status=status, body=json.dumps(body), content_type="application/json")
        elif url.path.startswith("/static/"):
            self._file(route, ROOT / "static" / url.path.removeprefix("/static/"))
        elif url.path == STAND_IN:
            self._file(route, ROOT / "tests" / "e2e" / "assets" / "phone_standin.js")
        else:
            route.fulfill(status=404, body="not found")

    @staticmethod
    def _file(route, path: Path) -> None:
        if not path.is_file():
            route.fulfill(status=404, body="not found")
            return
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        route.fulfill(status=200, body=path.read_bytes(), content_type=kind)
