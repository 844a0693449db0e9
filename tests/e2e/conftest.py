"""Chromium through Playwright, against the live server and graphsim's real sign-in page.

One browser per session (start-up is the slow part); a fresh context per test, so no cookie
leaks between tests. Playwright cannot download browsers here: we drive the system Chromium.
"""

from __future__ import annotations

import os

import pytest

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, FAKE_MEDIA, ConsoleErrors
from tests.support.pagecheck import VisitLog, close_checked
from tests.support.processes import need


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
        executable_path=CHROMIUM, args=CHROMIUM_ARGS + FAKE_MEDIA
    )
    yield chromium
    chromium.close()


@pytest.fixture
def page(browser, live_server, graphsim, graph_settings, transactional_db):
    """A tab in a fresh context. Every page of the portal and of graphsim's sign-in it loads is
    checked again when the test ends: axe-core and 390 px (tests/support/pagecheck.py)."""
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
    visits = VisitLog((live_server.url, graphsim["graph"]))
    visits.watch(tab)
    yield tab
    close_checked(context, visits)
