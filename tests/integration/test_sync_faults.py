"""The sync when Graph misbehaves: throttling, 5xx, dropped connections, 401, 403/404 for one
person, injected faults at random, no token, Graph down. Real HTTPS against graphsim."""

from __future__ import annotations

import pytest

from delegation.models import Delegation, DirectoryUser, SyncRun
from portal.graph.errors import ReconnectNeeded
from tests.support.sync import assert_cache_mirrors, sync_with_managers

pytestmark = pytest.mark.django_db

DELEGATES = "communications/callSettings/delegates"


def delegates_path(person_id: str) -> str:
    return f"users/{person_id}/{DELEGATES}"


def test_a_throttled_item_is_retried_after_its_own_retry_after(tenant):
    boss = tenant.id_of("boss")
    tenant.faults(
        fail_next=[{"status": 429, "retry_after": "0.3", "path_contains": delegates_path(boss)}]
    )

    run = sync_with_managers()

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert run.throttled == 1 and run.retries == 1
    assert_cache_mirrors(tenant.truth())
    items = tenant.sim.get("stats")["batch_items"]
    assert items == run.people + 1  # only the throttled item went again


def test_a_throttled_item_without_retry_after_backs_off_and_is_retried(tenant):
    manager = tenant.id_of("manager")
    tenant.faults(fail_next=[{"status": 429, "path_contains": delegates_path(manager)}] * 2)

    run = sync_with_managers()

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert run.throttled == 2 and run.retries == 2
    assert_cache_mirrors(tenant.truth())


def test_5xx_answers_and_dropped_connections_are_retried(tenant):
    boss = tenant.id_of("boss")
    tenant.faults(
        fail_next=[
            {"status": 503, "path_contains": "$batch"},
            {"status": "drop", "path_contains": "$batch"},
            {"status": 504, "path_contains": "users"},  # the people listing
            {"status": 503, "retry_after": "0.1", "path_contains": delegates_path(boss)},
        ]
    )

    run = sync_with_managers()

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert run.retries == 4
    assert_cache_mirrors(tenant.truth())


def test_a_401_on_an_item_refreshes_the_token_once_and_carries_on(tenant):
    boss = tenant.id_of("boss")
    tokens_before = tenant.sim.get("stats")["tokens_issued"].get("app", 0)
    tenant.faults(fail_next=[{"status": 401, "path_contains": delegates_path(boss)}])

    run = sync_with_managers()

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert tenant.sim.get("stats")["tokens_issued"]["app"] == tokens_before + 1
    assert_cache_mirrors(tenant.truth())


def test_a_401_twice_for_one_person_fails_only_that_person(tenant):
    boss = tenant.id_of("boss")
    tenant.faults(fail_next=[{"status": 401, "path_contains": delegates_path(boss)}] * 2)

    run = sync_with_managers()

    assert run.status == SyncRun.Status.PARTIAL
    assert run.failed_user_ids == [boss] and run.failures == {"unauthorized": 1}


def test_403_and_404_for_one_person_keep_their_rows_and_are_recorded(tenant):
    sync_with_managers()
    boss, manager = tenant.id_of("boss"), tenant.id_of("manager")
    kept = set(Delegation.objects.filter(delegator__object_id__in=[boss, manager]).values_list())
    tenant.change(
        delegations={
            "remove": [
                {"delegator": "boss@contoso.test", "delegate": "assistant@contoso.test"},
                {"delegator": "manager@contoso.test", "delegate": "helpdesk@contoso.test"},
            ],
            "set": [{"delegator": "nobody@contoso.test", "delegate": "deputy@contoso.test"}],
        }
    )
    tenant.faults(
        fail_next=[
            {"status": 403, "path_contains": delegates_path(boss)},
            {"status": 404, "path_contains": delegates_path(manager)},
        ]
    )

    run = sync_with_managers()

    assert run.status == SyncRun.Status.PARTIAL
    assert sorted(run.failed_user_ids) == sorted([boss, manager])
    assert run.failures == {"forbidden": 1, "not_found": 1}
    assert "2 people" in run.error
    assert (
        set(Delegation.objects.filter(delegator__object_id__in=[boss, manager]).values_list())
        == kept
    )
    assert run.delegations_added == 1 and run.delegations_removed == 0


def test_a_full_listing_whose_delta_link_is_refused_fails_and_changes_nothing(tenant):
    # Taken on the listing's thread, before the first page: its failure is the run's.
    tenant.faults(fail_next=[{"status": 403, "path_contains": "users/delta"}])

    run = sync_with_managers()

    assert (run.status, run.users_mode) == (SyncRun.Status.FAILED, "full")
    assert run.error.startswith("Graph unavailable")
    assert not DirectoryUser.objects.exists() and not Delegation.objects.exists()


def test_random_faults_at_a_fifth_of_requests_still_give_an_exact_cache(tenant):
    tenant.faults(fault_rate=0.2, slow_ms=50)

    run = sync_with_managers()

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert run.retries > 0
    tenant.faults(fault_rate=0)
    assert_cache_mirrors(tenant.truth())


def test_a_sync_without_a_token_fails_saying_reconnect_needed_and_changes_nothing(tenant):
    def no_token(force_refresh=False):
        raise ReconnectNeeded("invalid_grant (AADSTS 70000)")

    run = sync_with_managers(token_provider=no_token)

    assert run.status == SyncRun.Status.FAILED
    assert run.error.startswith("Reconnect needed")
    assert not DirectoryUser.objects.exists() and not Delegation.objects.exists()


def test_a_sync_account_never_connected_fails_the_run_and_changes_nothing(tenant, settings):
    settings.SYNC_USE_APP_ONLY = False  # graphsim is up; only the sync account is missing

    run = sync_with_managers()

    assert run.status == SyncRun.Status.FAILED
    assert "Reconnect needed" in run.error and "no sync account" in run.error
    assert not DirectoryUser.objects.exists()


def test_graph_down_fails_the_run_and_changes_nothing(tenant, settings):
    sync_with_managers()
    before = (DirectoryUser.objects.count(), Delegation.objects.count())
    tenant.faults(fail_next=[{"status": 503, "path_contains": "$batch"}] * 100)
    settings.GRAPH_MAX_RETRIES = 0  # each item still gets 4 tries, with backoff

    run = sync_with_managers()

    assert run.status == SyncRun.Status.FAILED
    assert run.error.startswith("Graph unavailable: no person's delegates could be read")
    assert (DirectoryUser.objects.count(), Delegation.objects.count()) == before


def test_graph_unreachable_fails_the_run_and_changes_nothing(tenant, settings):
    settings.GRAPH_BASE_URL = "https://127.0.0.1:9"
    settings.GRAPH_MAX_RETRIES = 0

    run = sync_with_managers()

    assert run.status == SyncRun.Status.FAILED
    assert "Graph unavailable" in run.error
    assert run.failures == {"unreachable": 1}
    assert not DirectoryUser.objects.exists()
