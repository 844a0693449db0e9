"""The review-campaign endpoints, with a real app-only token from graphsim: a campaign's
progress per reviewer as the campaign page counts it, and how it closed (by hand, or by itself
the day after its due date)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from reviews.services import close, decide
from tests.support import api as api_support
from tests.support.api import bearer
from tests.support.changes import person_user
from tests.support.factories import grant, person
from tests.support.reviews import campaign as a_campaign

pytestmark = pytest.mark.django_db
api_token = api_support.api_token  # a fixture


def test_a_campaign_reads_as_its_page_counts_it_and_says_it_closed_by_itself(
    client, api_token, make_user, django_capture_on_commit_callbacks
):
    boss, rita = person("Bea Boss", department="Legal"), person("Rita Reviewer")
    for name in ("Ann", "Ben", "Cy"):
        grant(boss, person(name), receive_calls=True)
    reviewer = person_user(make_user, rita, role="manager")
    campaign = a_campaign(reviewer, named=[rita], due_in_days=0)
    first = campaign.items.order_by("pk").first()
    decide.decide(user=reviewer, item_ids=[first.pk], decision="revoke", note="Left")

    url = f"/api/review-campaigns/{campaign.pk}"
    body = client.get(url, **bearer(api_token)).json()
    assert (body["status"], body["closed_at"], body["closed_automatically"]) == (
        "open",
        None,
        False,
    )
    assert (body["items_total"], body["decided"]) == (3, 1)
    (progress,) = body["reviewers_progress"]
    assert progress["reviewer"]["object_id"] == rita.object_id
    assert (progress["assigned"], progress["kept"], progress["revoked"]) == (3, 0, 1)

    with django_capture_on_commit_callbacks():  # the removals' task is not this test's
        close.close_overdue(today=campaign.due_on + timedelta(days=1))

    body = client.get(url, **bearer(api_token)).json()
    assert (body["status"], body["closed_automatically"], body["decided"]) == ("closed", True, 3)
    listed = client.get("/api/review-campaigns", **bearer(api_token)).json()
    assert [c["closed_automatically"] for c in listed["items"]] == [True]
