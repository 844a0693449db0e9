"""A person signs in with Chromium through graphsim's page, sees their name, signs out."""

from __future__ import annotations

import re

import pytest

from tests.support.browser import browser_login

pytestmark = pytest.mark.e2e


def test_sign_in_through_the_authority_page_and_sign_out(page, live_server):
    browser_login(page, live_server, "admin@contoso.test")
    navbar = page.locator("nav.navbar")
    assert "Adele Admin" in navbar.inner_text()
    assert navbar.get_by_role("link", name="Audit").is_visible()

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(re.escape(live_server.url) + r"/auth/login\?signed_out=1"))
    assert "You signed out" in page.content()
    page.goto(f"{live_server.url}/admin-tools/audit")
    assert page.url.startswith(f"{live_server.url}/auth/login")
    assert page.console_errors.of(live_server.url) == []


def test_cancelling_on_the_authority_page_offers_to_try_again(page, live_server):
    page.goto(f"{live_server.url}/auth/login")
    page.get_by_role("link", name="Sign in with Microsoft").click()
    page.get_by_role("button", name="Cancel").click()
    page.wait_for_url(re.compile(re.escape(live_server.url) + r"/auth/callback"))
    assert page.get_by_role("link", name="Try again").is_visible()
    assert "cancelled" in page.locator("main").inner_text()


def test_an_admin_connects_the_sync_account_and_reads_the_audit_log(page, live_server):
    browser_login(page, live_server, "admin@contoso.test")
    page.goto(f"{live_server.url}/admin-tools/sync-account")
    page.get_by_role("button", name="Connect the sync account").click()
    page.wait_for_url(re.compile(r"/oauth2/v2\.0/authorize"))
    page.locator('button[name="login_hint"][value="manager@contoso.test"]').click()
    page.wait_for_url(f"{live_server.url}/admin-tools/sync-account")
    assert "manager@contoso.test" in page.locator("#sync-account").inner_text()
    assert "Connected" in page.locator("#sync-account").inner_text()

    page.goto(f"{live_server.url}/admin-tools/audit?action=sync_account")
    assert "sync_account.connect" in page.locator("#audit-events").inner_text()
    assert page.console_errors.of(live_server.url) == []
