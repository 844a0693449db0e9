"""The admin's first page guides setup (the sync account, the first sync, who has which role)
until the first two are done; then home sends the admin on like everyone else."""

from __future__ import annotations

import pytest
from django.urls import reverse

from delegation.models import SyncRun
from tests.support.factories import sync_account

pytestmark = pytest.mark.django_db


def home(client):
    return client.get(reverse("portal:home"))


def test_a_new_admin_is_asked_to_connect_the_sync_account_first(client, make_user):
    client.force_login(make_user("admin", upn="adele@contoso.test"))
    make_user("helpdesk", upn="hugo@contoso.test")
    resp = home(client)
    html = resp.content.decode()
    assert resp.status_code == 200 and "Set up the portal" in html
    assert 'href="/admin-tools/sync-account">Connect the sync account</a>' in html
    assert "admin@contoso.test will do" in html
    roles = html[html.index('id="people-by-role"') :]
    assert "hugo@contoso.test" in roles and "adele@contoso.test" in roles
    assert "nobody has signed in with this role yet" in roles  # no manager yet


def test_with_the_account_connected_the_guide_leads_to_the_first_sync(client, make_user):
    client.force_login(make_user("admin"))
    sync_account()
    html = home(client).content.decode()
    assert "Connected as robot@contoso.test" in html
    assert 'href="/sync/">Go to Sync</a>' in html


def test_a_sync_account_needing_reconnection_is_a_step_to_do(client, make_user):
    client.force_login(make_user("admin"))
    sync_account(status="reconnect_needed")
    SyncRun.objects.create(trigger="manual", status="succeeded")
    assert "Reconnect it" in home(client).content.decode()


def test_once_set_up_the_admin_lands_on_their_delegations(client, make_user):
    client.force_login(make_user("admin"))
    sync_account()
    SyncRun.objects.create(trigger="manual", status="failed")  # a failed run is not a first sync
    assert home(client).status_code == 200
    SyncRun.objects.create(trigger="manual", status="partial")
    assert home(client)["Location"] == reverse("delegation:mine")


def test_with_app_only_tokens_no_sync_account_is_needed(client, make_user, settings):
    settings.SYNC_USE_APP_ONLY = True
    client.force_login(make_user("admin"))
    SyncRun.objects.create(trigger="manual", status="succeeded")
    assert home(client)["Location"] == reverse("delegation:mine")


def test_people_without_the_admin_capability_never_see_the_guide(client, make_user):
    for role in ("helpdesk", "manager"):
        client.force_login(make_user(role))
        assert home(client)["Location"] == reverse("delegation:mine")
