"""My reviews in Chromium: a manager keeps 50 grants in one bulk action and revokes 3 with a
note; a decision swaps its row in place, so the page does not jump and focus stays put."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from delegation.models import Delegation
from reviews.models import CampaignItem
from tests.support.browser import signed_in_context
from tests.support.changes import person_user
from tests.support.factories import person
from tests.support.pagecheck import VisitLog, close_checked
from tests.support.reviews import campaign as a_campaign

pytestmark = pytest.mark.e2e


@pytest.fixture
def reviewer_tab(browser, live_server, transactional_db, make_user):
    """A manager who is a directory person, asked to review 53 grants; her signed-in tab.
    Every page it loads is checked when the test ends: axe-core and 390 px."""
    directory = person("Rita Reviewer", department="Audit")
    user = person_user(make_user, directory, role="manager")
    boss, later = person("Bea Boss", department="Finance"), person("Lee Later", department="IT")
    now = timezone.now()
    Delegation.objects.bulk_create(
        Delegation(
            delegator=boss if i < 25 else later,
            delegate=person(f"Helper {i:02d}", department="Sales"),
            make_calls=True,
            manage_settings=i % 9 == 0,
            first_seen=now,
            last_changed=now,
        )
        for i in range(53)
    )
    a_campaign(user, named=[directory], due_in_days=5)
    context = signed_in_context(browser, live_server.url, user)
    tab = context.new_page()
    tab.errors = []
    tab.on("pageerror", lambda exc: tab.errors.append(str(exc)))
    visits = VisitLog((live_server.url,))
    visits.watch(tab)
    yield tab
    close_checked(context, visits)


def test_a_manager_keeps_50_grants_at_once_and_revokes_3_with_a_note(reviewer_tab):
    page = reviewer_tab
    page.goto("/reviews/mine")
    expect(page.get_by_role("heading", name="My reviews")).to_be_visible()
    rows = page.locator("#queue-form tbody tr")
    expect(rows).to_have_count(50)

    # Keyboard: tick "select all", then press "Keep selected".
    page.get_by_label("Select every grant on this page").focus()
    page.keyboard.press("Space")
    expect(page.locator("#queue-form .item-check:checked")).to_have_count(50)
    page.get_by_role("button", name="Keep selected").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#queue-status")).to_have_text("Kept: 50 grants.")
    expect(page.locator("#queue-form tbody tr.table-success")).to_have_count(50)
    assert page.evaluate("document.activeElement.id") == "bulk-keep"  # focus stayed
    assert CampaignItem.objects.filter(decision="keep").count() == 50

    # What is left: three grants, revoked together with one note.
    page.goto("/reviews/mine")
    expect(rows).to_have_count(3)
    page.get_by_label("Select every grant on this page").check()
    page.get_by_label("Note (one for every decision you make here)").fill("Left the company")
    page.get_by_role("button", name="Revoke selected").click()
    expect(page.locator("#queue-status")).to_have_text(
        "Revoked (removed when the campaign closes): 3 grants."
    )
    revoked = CampaignItem.objects.filter(decision="revoke")
    assert revoked.count() == 3
    assert set(revoked.values_list("note", flat=True)) == {"Left the company"}
    assert page.errors == []


def test_a_decision_on_one_row_keeps_the_page_where_it_was(reviewer_tab):
    page = reviewer_tab
    page.set_viewport_size({"width": 1280, "height": 600})
    page.goto("/reviews/mine")
    last = page.locator("#queue-form tbody tr").last
    button = last.get_by_role("button", name="Keep")
    button.scroll_into_view_if_needed()
    assert page.evaluate("window.scrollY") > 0
    before = last.bounding_box()["y"]  # where the row sits in the window
    button.focus()
    page.keyboard.press("Enter")
    expect(last).to_have_class("table-success")
    # The row stays where the eye is (the browser anchors the scroll when the status message
    # above grows); a reload would have gone back to the top.
    assert abs(last.bounding_box()["y"] - before) < 10
    focused = page.evaluate("document.activeElement.id")
    assert focused.startswith("keep-") and focused == button.get_attribute("id")


def test_a_refused_decision_says_why_in_the_page(reviewer_tab):
    page = reviewer_tab
    page.goto("/reviews/mine")
    first = page.locator("#queue-form tbody tr").first
    item_id = int(first.get_attribute("id").removeprefix("item-"))
    CampaignItem.objects.filter(pk=item_id).update(reviewer=None)  # reassigned meanwhile
    first.get_by_role("button", name="Keep").click()
    expect(page.locator("#queue-status")).to_contain_text("not in your reviews")
    assert CampaignItem.objects.get(pk=item_id).decision == ""
