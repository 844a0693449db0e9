"""The review pages: starting a campaign from the form, My reviews (filters, paging, the rows
swapped after a decision, a fixed number of queries at any size), progress per reviewer."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from delegation.models import Delegation
from portal.models import AuditEvent
from reviews.models import Campaign, CampaignItem
from tests.support.changes import person_user
from tests.support.factories import grant, person
from tests.support.reviews import campaign as a_campaign

pytestmark = pytest.mark.django_db
HOSTILE = '<script>alert("x")</script>'


@pytest.fixture
def reviewer(make_user):
    directory = person("Rita Reviewer", department="Audit")
    return directory, person_user(make_user, directory, role="manager")


def campaign_over(n: int, reviewer_dir, actor, **kwargs) -> Campaign:
    boss = person("Boss", department="Finance")
    people = [person(f"Helper {i}", department="Sales") for i in range(n)]
    Delegation.objects.bulk_create(
        Delegation(
            delegator=boss,
            delegate=p,
            make_calls=True,
            manage_settings=i % 10 == 0,
            first_seen=timezone.now(),
            last_changed=timezone.now(),
        )
        for i, p in enumerate(people)
    )
    return a_campaign(actor, named=[reviewer_dir], name=kwargs.pop("name", f"Campaign of {n}"))


def queries_for_queue_page(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        resp = client.get(reverse("reviews:queue"))
    assert resp.status_code == 200 and len(resp.context["page"].rows) == 50
    return len(captured)


def test_the_queue_takes_the_same_number_of_queries_at_100_and_1000_items(client, reviewer):
    directory, user = reviewer
    client.force_login(user)
    campaign_over(100, directory, user)
    small = queries_for_queue_page(client)
    CampaignItem.objects.all().delete()
    Campaign.objects.all().delete()
    campaign_over(1000, directory, user)
    assert queries_for_queue_page(client) == small


def test_the_start_form_makes_a_campaign_and_shows_its_progress(client, reviewer):
    directory, user = reviewer
    boss = person("Bea Boss", department="Finance")
    grant(boss, person("Sam Sales", department="Sales"), manage_settings=True)
    grant(boss, person("Fred Finance", department="Finance"), make_calls=True)
    client.force_login(user)
    due = (timezone.localdate() + timedelta(days=3)).isoformat()
    resp = client.post(
        reverse("reviews:start"),
        {
            "name": HOSTILE,
            "scope": "risk",
            "risk": "manage_outside",
            "reviewers": "named",
            "named": directory.upn,
            "due_on": due,
            "when_unreviewed": "revoke",
        },
        follow=True,
    )
    campaign = Campaign.objects.get()
    assert campaign.items_total == 1 and campaign.scope_value == "manage_outside"
    html = resp.content.decode()
    assert HOSTILE not in html and "&lt;script&gt;" in html
    assert "Rita Reviewer" in html and "0%" in html
    item = CampaignItem.objects.get()
    assert item.risks == ",manage_outside," and item.reviewer == directory


def test_the_start_form_refuses_a_past_date_and_unknown_reviewers(client, reviewer):
    _, user = reviewer
    client.force_login(user)
    resp = client.post(
        reverse("reviews:start"),
        {
            "name": "x",
            "scope": "department",
            "reviewers": "named",
            "named": "nobody@nowhere.test",
            "due_on": "2000-01-01",
            "when_unreviewed": "keep",
        },
    )
    assert resp.status_code == 400 and not Campaign.objects.exists()
    errors = resp.context["form"].errors
    assert {"due_on", "named", "department"} <= set(errors)


def test_filters_find_the_risky_rows_and_a_person_and_decided_rows_swap_in_place(client, reviewer):
    directory, user = reviewer
    client.force_login(user)
    campaign_over(30, directory, user)
    page = client.get(reverse("reviews:queue"), {"risk": "manage_outside"}).context["page"]
    assert len(page.rows) == 3 and all(r.findings for r in page.rows)
    assert "delegate is in Sales, delegator in Finance" in page.rows[0].findings[0].words
    page = client.get(reverse("reviews:queue"), {"person": "Helper 7"}).context["page"]
    assert [r.item.delegate.display_name for r in page.rows] == ["Helper 7"]
    ids = list(CampaignItem.objects.order_by("pk").values_list("pk", flat=True)[:5])
    resp = client.post(
        reverse("reviews:decide"),
        {"item": ids, "decision": "keep", "note": "needed"},
        HTTP_HX_REQUEST="true",
    )
    html = resp.content.decode()
    assert resp.status_code == 200 and html.count('hx-swap-oob="true"') == 6  # 5 rows + status
    assert "Kept: 5 grants." in html
    left = client.get(reverse("reviews:queue")).context["page"]
    assert left.left == 25 and ids[0] not in [r.item.pk for r in left.rows]
    everything = client.get(reverse("reviews:queue"), {"status": "all"}).context["page"]
    assert len(everything.rows) == 30


def test_someone_else_sees_nothing_and_decides_nothing(client, reviewer, make_user):
    directory, user = reviewer
    campaign_over(3, directory, user)
    other = person_user(make_user, person("Olga Other"), role="manager")
    client.force_login(other)
    assert client.get(reverse("reviews:queue")).context["page"].rows == []
    ids = list(CampaignItem.objects.values_list("pk", flat=True))
    resp = client.post(
        reverse("reviews:decide"),
        {"item": ids, "decision": "revoke"},
        HTTP_HX_REQUEST="true",
    )
    assert resp.status_code == 403 and "not in your reviews" in resp.content.decode()
    assert not CampaignItem.objects.exclude(decision="").exists()


def test_a_closed_campaign_takes_no_more_decisions(client, reviewer):
    directory, user = reviewer
    campaign = campaign_over(2, directory, user)
    client.force_login(user)
    client.post(reverse("reviews:close", args=[campaign.pk]))
    assert Campaign.objects.get().status == "closed"
    assert set(CampaignItem.objects.values_list("decision", "automatic")) == {("keep", True)}
    item = CampaignItem.objects.first()
    resp = client.post(
        reverse("reviews:decide"), {"single": f"{item.pk}:revoke"}, HTTP_HX_REQUEST="true"
    )
    assert resp.status_code == 403
    again = client.post(reverse("reviews:close", args=[campaign.pk]), follow=True)
    assert "already closed" in again.content.decode()


def test_a_reviewer_without_a_role_lands_on_their_reviews_and_sees_the_link(client, make_user):
    directory = person("Nina Named", department="Audit")
    nina = person_user(make_user, directory)  # no role
    manager = make_user("manager")
    campaign_over(2, directory, manager)
    client.force_login(nina)
    resp = client.get(reverse("portal:home"))
    assert resp.status_code == 302 and resp["Location"] == reverse("reviews:queue")
    html = client.get(reverse("reviews:queue")).content.decode()
    assert 'href="/reviews/mine"' in html and "2 left to review" in html
    assert client.get(reverse("reviews:campaigns")).status_code == 403


def test_removals_a_closed_campaign_still_lacks_can_be_asked_again(
    client, reviewer, change_tasks, tasks_inline, django_capture_on_commit_callbacks
):
    directory, user = reviewer
    campaign = campaign_over(2, directory, user)
    item = CampaignItem.objects.order_by("pk").first()
    client.force_login(user)
    client.post(reverse("reviews:decide"), {"single": f"{item.pk}:revoke", "note": "gone"})
    client.post(reverse("reviews:close", args=[campaign.pk]))  # its task never ran (no commit)
    page = client.get(reverse("reviews:campaign", args=[campaign.pk])).content.decode()
    assert "1 revoked grant still waits for a removal request" in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("reviews:removals", args=[campaign.pk]))
    item.refresh_from_db()
    assert item.change_request.kind == "remove" and item.change_request.review_id == item.review_id
    assert "gone" in item.change_request.reason
    page = client.get(reverse("reviews:campaign", args=[campaign.pk])).content.decode()
    assert "still wait" not in page


def test_a_reviewers_undecided_grants_move_to_someone_else_but_not_their_own(
    client, reviewer, make_user
):
    directory, user = reviewer
    campaign = campaign_over(4, directory, user)
    decided = CampaignItem.objects.filter(campaign=campaign).order_by("pk").first()
    CampaignItem.objects.filter(pk=decided.pk).update(decision="keep")
    # The new reviewer is the delegate of one grant: that one stays with Rita.
    helper = CampaignItem.objects.filter(campaign=campaign, decision="").last().delegate
    helper.upn = "helper.three@contoso.test"
    helper.save()
    client.force_login(user)
    page = client.get(reverse("reviews:campaign", args=[campaign.pk])).content.decode()
    assert f'<option value="{directory.pk}">Rita Reviewer (3 left)</option>' in page

    resp = client.post(
        reverse("reviews:reassign", args=[campaign.pk]),
        {"source": str(directory.pk), "to": " Helper.Three@contoso.test "},
        follow=True,
    )

    text = resp.content.decode()
    name = helper.display_name
    assert f"2 grants moved to {name}. 1 stayed: {name} holds or gave them." in text
    items = CampaignItem.objects.filter(campaign=campaign)
    assert items.filter(reviewer=helper, decision="").count() == 2
    assert set(items.filter(reviewer=directory).values_list("decision", flat=True)) == {"keep", ""}
    assert items.get(reviewer=directory, decision="").delegate == helper
    event = AuditEvent.objects.get(action="review_campaign.reassign")
    assert (event.actor, event.detail["moved"], event.detail["kept_theirs"]) == (user, 2, 1)


def test_reassigning_refuses_an_unknown_person_a_stale_source_and_a_closed_campaign(
    client, reviewer
):
    directory, user = reviewer
    campaign = campaign_over(2, directory, user)
    client.force_login(user)
    url = reverse("reviews:reassign", args=[campaign.pk])
    before = list(CampaignItem.objects.values_list("pk", "reviewer"))

    unknown = client.post(url, {"source": str(directory.pk), "to": HOSTILE}, follow=True)
    assert "Not in the directory (or disabled)" in unknown.content.decode()
    assert HOSTILE not in unknown.content.decode()  # escaped
    stale = client.post(url, {"source": "nobody", "to": directory.upn}, follow=True)
    assert "Nobody has undecided grants under that name." in stale.content.decode()
    same = client.post(url, {"source": str(directory.pk), "to": directory.upn}, follow=True)
    assert "They are already this person" in same.content.decode()
    Campaign.objects.filter(pk=campaign.pk).update(status="closed")
    other = person("Olga Other")
    closed = client.post(url, {"source": str(directory.pk), "to": other.upn}, follow=True)
    assert "Nobody has undecided grants" not in closed.content.decode()
    assert "can no longer move" in closed.content.decode()

    assert list(CampaignItem.objects.values_list("pk", "reviewer")) == before
    assert not AuditEvent.objects.filter(action="review_campaign.reassign").exists()
