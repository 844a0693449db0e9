"""Chromium through Playwright: where the system browser is, how it starts, the page errors a test
collects, and signing in through our sign-in page and graphsim's."""

from __future__ import annotations

import re

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Fake microphone and camera, no permission prompt: the phone's tests.
FAKE_MEDIA = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]


def watch_for_script_errors(tab) -> list[str]:
    """The tab's uncaught exceptions and CSP violations, as they happen."""
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.on(
        "console",
        lambda msg: (
            msg.type == "error"
            and "Content Security Policy" in msg.text
            and errors.append(msg.text)
        ),
    )
    return errors


class ConsoleErrors(list):
    """Errors the page reported (console.error, uncaught exceptions, CSP violations)."""

    def of(self, origin: str) -> list[str]:
        """Errors from pages or resources of `origin` (graphsim's own pages are not ours; the
        favicon Chromium asks for on its own is not a page's resource)."""
        return [
            f"{text} [{url}]"
            for url, text in self
            if (url.startswith(origin) or not url) and not url.endswith("/favicon.ico")
        ]


def browser_login(page, live_server, upn: str) -> None:
    """Sign in through our sign-in page and graphsim's: pick the person there (no login_hint)."""
    page.goto(f"{live_server.url}/auth/login")
    page.get_by_role("link", name="Sign in with Microsoft").click()
    page.wait_for_url(re.compile(r"/oauth2/v2\.0/authorize"))
    page.locator(f'button[name="login_hint"][value="{upn}"]').click()
    page.wait_for_url(re.compile(re.escape(live_server.url) + r"/(?!auth/)"))


def signed_in_context(browser, base_url: str, user, *, timeout_ms=15_000, **context_options):
    """A fresh browser context holding `user`'s session (a force-login's cookie: the sign-in flow
    has its own browser tests), `timeout_ms` for any wait."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    context = browser.new_context(base_url=base_url, **context_options)
    context.set_default_timeout(timeout_ms)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": base_url}])
    return context
