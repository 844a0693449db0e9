"""The portal renders in a real browser: vendored CSS and JS load, CSP is not violated."""

from __future__ import annotations

import pytest

from tests.support.browser import browser_login

pytestmark = pytest.mark.e2e


def test_home_renders_with_bootstrap_and_htmx_and_no_console_errors(page, live_server):
    browser_login(page, live_server, "helpdesk@contoso.test")
    page.goto(f"{live_server.url}/")
    assert page.evaluate("typeof window.htmx") == "object"
    assert page.evaluate("typeof window.bootstrap") == "object"
    # Bootstrap's .bg-primary paints the navbar; unstyled it would be transparent.
    background = page.evaluate(
        "getComputedStyle(document.querySelector('nav.navbar')).backgroundColor"
    )
    assert background not in ("rgba(0, 0, 0, 0)", "transparent")
    assert page.locator("nav.navbar").get_by_text("Hugo Helpdesk").is_visible()
    assert page.console_errors.of(live_server.url) == []


def test_the_sign_in_page_renders_for_anonymous_visitors(page, live_server):
    page.goto(f"{live_server.url}/no-access")
    assert page.url.startswith(f"{live_server.url}/auth/login")
    assert page.get_by_role("link", name="Sign in with Microsoft").is_visible()
    assert page.console_errors.of(live_server.url) == []
