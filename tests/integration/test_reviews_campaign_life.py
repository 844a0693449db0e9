"""A review campaign's whole life against graphsim over real HTTPS: start, decide one, decide
many with one note, remind by email, close (the unreviewed revoked as the campaign says), the
removals applied through Graph and verified, and a sync that finds Teams as the report says."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse

from delegation.changes import states
from delegation.changes.models import ChangeRequest
from delegation.changes.services.apply import apply_change
from delegation.models import Delegation, DirectoryUser, GrantReview
from delegation.sync.service import sync_now
from portal.models import AuditEvent
from reviews import rules
from reviews.models import Campaign, CampaignItem
from reviews.services import close, decide, remind
from reviews.services.close import close_campaign
from tests.support.changes import Teams, connect_sync_account, person_user
from tests.support.processes import need
from tests.support.reviews import campaign as a_campaign

pytestmark = pytest.mark.django_db


@pytest.fixture
def teams(graph_settings, graphsim, sim, signed_in_client, settings):
    """graphsim with the sync account connected (delegated writes) and the cache synced."""
    need("delegation_writes" in sim.get("config"), "this graphsim takes no delegate writes yet")
    settings.SYNC_USE_APP_ONLY = False
    settings.DELEGATION_CHANGE_RETRY_SECONDS = 0
    settings.DELEGATION_APPROVAL_POLICY = "none"
    connect_sync_account(signed_in_client("admin@contoso.test"), graphsim)
    run = sync_now()
    assert run.status == "succeeded", run.error
    yield Teams(sim)
    sim.post("reset", {"config": True})


def directory(upn_prefix: str) -> DirectoryUser:
    return DirectoryUser.objects.get(upn=f"{upn_prefix}@contoso.test")


def item_of(campaign, delegator: str, delegate: str) -> CampaignItem:
    return CampaignItem.objects.get(
        campaign=campaign, delegator=directory(delegator), delegate=directory(delegate)
    )


def executive_office_campaign(mona, name: str, due_in_days: int):
    """The Executive Office's grants, all for Mona to review; what nobody reviews is revoked."""
    return a_campaign(
        mona,
        named=[directory("manager")],
        due_in_days=due_in_days,
        name=name,
        scope="department",
        scope_value="Executive Office",
        when_unreviewed="revoke",
    )


def test_a_campaign_from_start_to_verified_removals(
    teams, make_user, client, change_tasks, tasks_inline, django_capture_on_commit_callbacks
):
    mona = person_user(make_user, directory("manager"), role="manager")
    hugo = person_user(make_user, directory("helpdesk"), role="helpdesk")
    in_scope = Delegation.objects.filter(delegator__department="Executive Office").count()

    campaign = executive_office_campaign(mona, "Executive Office, Q4", due_in_days=2)
    items = CampaignItem.objects.filter(campaign=campaign)
    assert campaign.items_total == items.count() == in_scope >= 4
    assert set(items.values_list("reviewer__upn", flat=True)) == {"manager@contoso.test"}
    assistant = item_of(campaign, "boss", "assistant")
    assert assistant.snapshot["make_calls"] is True and assistant.snapshot["is_active"] is True

    # Decide one, then many with one note (through the page, as htmx posts it).
    client.force_login(mona)
    resp = client.post(
        reverse("reviews:decide"), {"single": f"{assistant.pk}:keep"}, HTTP_HX_REQUEST="true"
    )
    assert resp.status_code == 200 and f'id="item-{assistant.pk}"' in resp.content.decode()
    deputy, former = item_of(campaign, "boss", "deputy"), item_of(campaign, "boss", "former")
    resp = client.post(
        reverse("reviews:decide"),
        {"item": [deputy.pk, former.pk], "decision": "revoke", "note": "Left the office"},
    )
    assert resp.status_code == 302
    deputy.refresh_from_db()
    assert (deputy.decision, deputy.note, deputy.decided_by) == ("revoke", "Left the office", mona)
    assert GrantReview.objects.filter(reviewer=mona).count() == 3

    # Someone else may not decide on Mona's items, whatever they post.
    client.force_login(hugo)
    resp = client.post(reverse("reviews:decide"), {"single": f"{assistant.pk}:revoke"})
    assert resp.status_code == 302
    assistant.refresh_from_db()
    assert assistant.decision == "keep"
    assert AuditEvent.objects.filter(action="review_campaign.decide", outcome="denied").exists()

    # Remind: one email to Mona for what she has left, once a day.
    assert remind.send_reminders() == 1
    [email] = mail.outbox
    assert email.to == [directory("manager").mail] and str(in_scope - 3) in email.subject
    assert reverse("reviews:queue") in email.body
    assert remind.send_reminders() == 0

    # Close: the unreviewed are revoked; each revoke becomes a removal request (a task, run
    # here at commit as a worker would).
    with django_capture_on_commit_callbacks(execute=True):
        close_campaign(actor=mona, campaign_id=campaign.pk)
    orphan = items.get(delegate__in_directory=False)
    automatic = items.filter(automatic=True)
    assert automatic.count() == in_scope - 3
    assert set(automatic.values_list("decision", flat=True)) == {"revoke"}
    revoked = items.filter(decision="revoke")
    made = ChangeRequest.objects.filter(pk__in=revoked.values("change_request"))
    assert made.count() + items.exclude(refusal="").count() == revoked.count()
    assert set(made.values_list("kind", flat=True)) == {"remove"}

    # The removals go through Graph; each is verified by re-reading Teams.
    for change in made:
        assert apply_change(change.pk).status == states.VERIFIED, change.failure
    run = sync_now()
    assert run.status == "succeeded"
    in_teams = {(r["delegator"], r["delegate"]) for r in teams.sim.get("truth")["delegations"]}
    for item in revoked.select_related("change_request", "delegator", "delegate"):
        pair = (item.delegator.object_id, item.delegate.object_id)
        if item.change_request is not None:
            assert item.outcome == "Removal: Verified in Teams"
            assert pair not in in_teams
            assert not Delegation.objects.filter(
                delegator=item.delegator, delegate=item.delegate
            ).exists()
        else:
            assert item.outcome.startswith("No removal requested: ")
    assert teams.grant("boss", "assistant") is not None  # kept
    assert item_of(campaign, "boss", "assistant").outcome == "Kept"
    assert orphan.pk in set(revoked.values_list("pk", flat=True))

    # The report: who decided what, when, why and what Teams holds now.
    client.force_login(mona)
    csv = b"".join(client.get(reverse("reviews:report_csv", args=[campaign.pk])).streaming_content)
    text = csv.decode("utf-8-sig")
    assert "Left the office" in text and "Verified in Teams" in text
    assert "Nobody: the campaign's rule at closing" in text
    page = client.get(reverse("reviews:report", args=[campaign.pk])).content.decode()
    assert "Left the office" in page and "no grant" in page
    assert Campaign.objects.get(pk=campaign.pk).status == "closed"


def test_nobody_decides_on_a_grant_they_hold_or_gave_even_if_assigned(teams, make_user):
    mona_dir = directory("manager")
    mona = person_user(make_user, mona_dir, role="manager")
    campaign = a_campaign(mona, named=[mona_dir], due_in_days=0, name="Everything")
    hers = CampaignItem.objects.get(
        campaign=campaign, delegator=mona_dir, delegate=directory("helpdesk")
    )
    assert hers.reviewer is None  # nobody else was named: unassigned, shown as such
    CampaignItem.objects.filter(pk=hers.pk).update(reviewer=mona_dir)  # forced, for the check
    done = decide.decide(user=mona, item_ids=[hers.pk], decision="keep")
    assert done.items == [] and done.refused == {hers.pk: rules.OWN_GRANT}


def test_a_campaign_past_its_due_date_closes_by_itself_as_its_starter(
    teams, make_user, client, change_tasks, tasks_inline, django_capture_on_commit_callbacks
):
    mona = person_user(make_user, directory("manager"), role="manager")
    campaign = executive_office_campaign(mona, "Executive Office, today", due_in_days=0)
    items = CampaignItem.objects.filter(campaign=campaign)
    today = campaign.due_on

    # On the due date it stays open: reviewers have the whole day.
    assert close.close_overdue(today=today) == 0
    assert Campaign.objects.get(pk=campaign.pk).status == "open"

    # The day after, beat's task closes it: the unreviewed revoked, the removals asked for as
    # Mona (who started it, and whose role they are checked against), nobody named as closer.
    with django_capture_on_commit_callbacks(execute=True):
        assert close.close_overdue(today=today + timedelta(days=1)) == 1
    campaign.refresh_from_db()
    assert (campaign.status, campaign.closed_automatically, campaign.closed_by) == (
        "closed",
        True,
        None,
    )
    assert not items.filter(decision="").exists()
    assert items.filter(automatic=True).count() == items.count() >= 4
    made = ChangeRequest.objects.filter(pk__in=items.values("change_request"))
    assert made.count() + items.exclude(refusal="").count() == items.count()
    assert set(made.values_list("requested_by", flat=True)) == {mona.pk}
    event = AuditEvent.objects.get(action="review_campaign.close")
    assert event.actor is None and event.detail["at_due_date"] is True
    assert event.actor_label == "review campaign due date"

    # Once: a second look finds nothing to close; the page says how it closed.
    assert close.close_overdue(today=today + timedelta(days=2)) == 0
    client.force_login(mona)
    page = client.get(reverse("reviews:campaign", args=[campaign.pk])).content.decode()
    assert "by itself at the due date" in page
