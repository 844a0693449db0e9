"""The dashboards in Chromium: search as you type, charts drawn, export downloaded, and the
progress bar of a real sync (graphsim + a real Celery worker) moving as the run goes."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.support.browser import signed_in_context
from tests.support.factories import grant, person
from tests.support.pagecheck import VisitLog, problems_of_visited
from tests.support.processes import graphsim_env

pytestmark = pytest.mark.e2e

COUNT_PAINTED_PIXELS = """(id) => {
  const canvas = document.getElementById(id);
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < pixels.length; i += 4) { if (pixels[i]) { painted++; } }
  return painted;
}"""


@pytest.fixture
def open_as(browser, live_server, transactional_db, make_user):
    """A fresh browser context signed in as a person with `role` (the session cookie of a
    force-login: the sign-in flow itself has its own browser tests). Every page a tab loads is
    checked when the test ends: axe-core and 390 px (tests/support/pagecheck.py)."""
    contexts = []

    def open_page(role: str):
        user = make_user(role)
        context = signed_in_context(browser, live_server.url, user, accept_downloads=True)
        tab = context.new_page()
        tab.errors = []
        # The browser asks for /favicon.ico on its own; the portal has none.
        tab.on(
            "console",
            lambda msg: (
                msg.type == "error"
                and "favicon" not in msg.location.get("url", "")
                and tab.errors.append(msg.text)
            ),
        )
        tab.on("pageerror", lambda exc: tab.errors.append(str(exc)))
        visits = VisitLog((live_server.url,))
        visits.watch(tab)
        contexts.append((context, visits))
        return tab

    yield open_page
    problems = []
    for context, visits in contexts:
        try:
            problems += problems_of_visited(context, visits)
        finally:
            context.close()
    assert problems == [], "\n".join(problems)


def test_people_search_shows_ranked_results_as_you_type(open_as):
    person("Zed Maria-Lopez")
    person("Mariana Silva")
    person("Maria", upn="m.one@contoso.test")
    person("Bob Stone")
    page = open_as("helpdesk")
    page.goto("/people/")
    page.locator("#people-q").press_sequentially("maria", delay=40)
    rows = page.locator("#people-results tbody tr")
    rows.filter(has_text="Zed Maria-Lopez").wait_for()
    names = [row.split("\n")[0] for row in rows.all_inner_texts()]
    assert names[0].startswith("Maria") and names[-1].startswith("Zed Maria-Lopez")
    assert "Bob Stone" not in page.locator("#people-results").inner_text()
    # No page load happened: people.js only put the search in the address bar.
    assert page.url.endswith("/people/?q=maria")
    assert page.errors == []


def charts_of_sales_and_legal(open_as):
    """The organisation page with its charts drawn: three grants in Sales, one in Legal."""
    for i in range(3):
        grant(person(f"Boss {i}", department="Sales"), person(f"Helper {i}"), make_calls=True)
    grant(person("Legal Boss", department="Legal"), person("Legal Helper"), receive_calls=True)
    page = open_as("manager")
    page.goto("/organisation/")
    page.wait_for_function("window.portalCharts && window.portalCharts.byDepartment")
    return page


def test_organisation_charts_are_drawn(open_as):
    page = charts_of_sales_and_legal(open_as)
    by_action = page.evaluate("window.portalCharts.byAction.data.datasets[0].data")
    assert by_action[:2] == [3, 1]  # make calls, receive calls
    for canvas in ("chart-by-action", "chart-by-department", "chart-over-time"):
        assert page.evaluate(COUNT_PAINTED_PIXELS, canvas) > 200, canvas
    assert page.errors == []  # the strict CSP let Chart.js draw without inline code


def filter_by_department(page, name: str) -> None:
    page.goto("/organisation/")
    page.get_by_role("combobox", name="Department").fill(name)
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(f"**department={name}**")


def test_export_downloads_exactly_the_filtered_rows(open_as):
    grant(person("Sales Boss", department="Sales"), person("Sales Helper"), make_calls=True)
    grant(person("Legal Boss", department="Legal"), person("=cmd|' /C calc'!A0"), make_calls=True)
    page = open_as("manager")
    filter_by_department(page, "Legal")
    with page.expect_download() as download:
        page.locator("#export-link").click()
    body = Path(download.value.path()).read_bytes()
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][0] == "Delegator"
    assert [(r[0], r[4]) for r in rows[1:]] == [("Legal Boss", "'=cmd|' /C calc'!A0")]


def test_a_chart_bar_opens_the_table_filtered_to_it(open_as):
    page = charts_of_sales_and_legal(open_as)
    # The middle of the "Legal" bar (the second department), as Chart.js laid it out.
    x, y = page.evaluate(
        """() => { const bar = window.portalCharts.byDepartment.getDatasetMeta(0).data[1];
        const box = document.getElementById("chart-by-department").getBoundingClientRect();
        return [box.left + (bar.x + bar.base) / 2, box.top + bar.y]; }"""
    )
    page.mouse.click(x, y)
    page.wait_for_url("**/organisation/?department=Legal#all-delegations")
    expect(page.locator("#delegations-table tbody tr")).to_have_count(1)
    # The page opened at the table, not at its top.
    expect(page.locator("#table-h")).to_be_in_viewport()  # Bootstrap scrolls there smoothly
    assert page.errors == []


def test_filtering_keeps_the_place_and_clear_filters_shows_everything(open_as):
    grant(person("Sales Boss", department="Sales"), person("Sales Helper"), make_calls=True)
    page = open_as("manager")
    filter_by_department(page, "Nowhere")
    assert page.url.endswith("#all-delegations")
    expect(page.locator("#table-h")).to_be_in_viewport()
    expect(page.locator("#export-link")).to_be_disabled()
    page.get_by_role("link", name="Clear filters").click()
    page.wait_for_url("**/organisation/#all-delegations")
    expect(page.locator("#delegations-table tbody tr")).to_have_count(1)
    expect(page.locator("#export-link")).to_contain_text("Export these 1 rows")


@pytest.fixture
def slow_tenant(graph_settings, sim, graphsim, monkeypatch):
    """graphsim slowed down, app-only delegation read on; the worker reads the environment."""
    sim.post("faults", {"app_delegation_read": True, "latency_ms": 400})
    graph_settings.SYNC_USE_APP_ONLY = True
    env = {
        **graphsim_env(graphsim),
        "SYNC_USE_APP_ONLY": "true",
        "SYNC_BATCHES_IN_FLIGHT": "1",  # one batch at a time: a run of several seconds
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    yield
    sim.post("reset", {"config": True})


# Called by page.wait_for_function until it returns true: it notes each value the bar shows
# while the run goes on. htmx swaps the fragment in place during the run, so the notes last
# until the run ends and the server has the page reloaded.
SAW_THE_BAR_MOVE = """() => {
  const bar = document.getElementById("sync-progress-bar");
  const box = document.getElementById("sync-progress");
  if (!bar || !box || box.dataset.finished !== "false" || !bar.value) { return false; }
  window.barValuesSeen = window.barValuesSeen || new Set();
  window.barValuesSeen.add(bar.value);
  return window.barValuesSeen.size >= 2;
}"""


@pytest.mark.celery_worker
def test_progress_bar_moves_during_a_real_sync(open_as, slow_tenant, celery_worker_process):
    from delegation.models import SyncRun

    page = open_as("admin")
    page.goto("/sync/")
    page.get_by_role("button", name="Sync now").click()
    page.wait_for_url("**/sync/*/")
    page.wait_for_function(SAW_THE_BAR_MOVE, polling=100, timeout=90_000)
    # The run ends: the poll's answer has htmx reload the page once (HX-Refresh), and the
    # whole page, not only the bar, shows the final state.
    progress = page.locator("#sync-progress")
    expect(progress).to_have_attribute("data-finished", "true", timeout=90_000)
    run = SyncRun.objects.get()
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    expect(progress).to_contain_text("Run ended")
    bar = page.locator("#sync-progress-bar")
    expect(bar).to_have_attribute("max", str(run.progress_total))
    expect(bar).to_have_attribute("value", str(run.progress_total))  # it ended full
    expect(page.locator("#run-details")).not_to_contain_text(
        "not yet"
    )  # started, finished: reloaded
    assert page.errors == []
