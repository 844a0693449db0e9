"""Chromium through Playwright, against the live server and graphsim's real sign-in page.

One browser per session (start-up is the slow part); a fresh context per test, so no cookie
leaks between tests. Playwright cannot download browsers here: we drive the system Chromium.
"""

from __future__ import annotations

import os
import re

import pytest

from tests.conftest import need

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


@pytest.fixture(scope="session")
def browser():
    need(os.path.exists(CHROMIUM), f"Chromium is not installed at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def media_browser(browser):
    """A second Chromium from the session's Playwright, with fake microphone and camera (as
    Microsoft's calling UI library tests in Chromium)."""
    chromium = browser.browser_type.launch(
        executable_path=CHROMIUM,
        args=CHROMIUM_ARGS
        + ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"],
    )
    yield chromium
    chromium.close()


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


@pytest.fixture
def page(browser, live_server, graph_settings, transactional_db):
    # graphsim's certificate comes from its own CA: the browser need not trust it.
    context = browser.new_context(ignore_https_errors=True, base_url=live_server.url)
    context.set_default_timeout(15_000)
    tab = context.new_page()
    tab.console_errors = ConsoleErrors()
    tab.on(
        "console",
        lambda msg: (
            msg.type == "error"
            and tab.console_errors.append((msg.location.get("url", ""), msg.text))
        ),
    )
    tab.on("pageerror", lambda exc: tab.console_errors.append((tab.url, str(exc))))
    yield tab
    context.close()


def browser_login(page, live_server, upn: str) -> None:
    """Sign in through our sign-in page and graphsim's: pick the person there (no login_hint)."""
    page.goto(f"{live_server.url}/auth/login")
    page.get_by_role("link", name="Sign in with Microsoft").click()
    page.wait_for_url(re.compile(r"/oauth2/v2\.0/authorize"))
    page.locator(f'button[name="login_hint"][value="{upn}"]').click()
    page.wait_for_url(re.compile(re.escape(live_server.url) + r"/(?!auth/)"))
