"""The first sync of an empty cache is a baseline (issue 16): its grants were in Teams before the
portal looked, so history, the run pages and the charts do not show them as added."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse

from delegation.models import DelegationChange, SyncRun
from delegation.selectors.organisation import organisation_summary
from delegation.sync.service import sync_now
from tests.support.sync import changes_of

pytestmark = pytest.mark.django_db


def page(client, name, *args) -> str:
    return " ".join(client.get(reverse(name, args=args)).content.decode().split())


def test_the_first_sync_is_shown_as_a_baseline_and_the_next_records_additions(
    tenant, client, make_user
):
    client.force_login(make_user("admin"))
    grants = len(tenant.truth()["delegations"])

    first = sync_now()

    assert first.status == SyncRun.Status.SUCCEEDED, first.error
    assert (first.baseline_grants, first.delegations_added) == (grants, 0)
    assert not DelegationChange.objects.exists()
    shown = f"Baseline: {grants:,} grants recorded"
    assert shown in page(client, "delegation:sync_detail", first.pk)
    assert "added" not in page(client, "delegation:sync_detail", first.pk).split(shown)[1][:200]
    assert f"Baseline: {grants:,}" in page(client, "delegation:sync_list")
    cache.clear()
    assert organisation_summary().over_time["labels"] == []  # no spike of "added" on day one

    boss, nobody = tenant.id_of("boss"), tenant.id_of("nobody")
    tenant.change(
        delegations={"set": [{"delegator": "boss@contoso.test", "delegate": "nobody@contoso.test"}]}
    )
    second = sync_now()

    assert (second.baseline_grants, second.delegations_added) == (0, 1)
    assert changes_of(second) == {("added", boss, nobody)}
    assert "1 added, 0 changed, 0 removed" in page(client, "delegation:sync_detail", second.pk)
    cache.clear()
    assert sum(organisation_summary().over_time["series"]["Added"]) == 1


def test_a_run_after_an_applied_one_records_additions_even_into_an_empty_cache(tenant):
    # An earlier run saw the tenant without grants: what appears since was added.
    SyncRun.objects.create(trigger="schedule", status=SyncRun.Status.SUCCEEDED)

    run = sync_now()

    assert run.baseline_grants == 0
    assert run.delegations_added == len(tenant.truth()["delegations"])
    assert DelegationChange.objects.filter(run=run, kind="added").count() == run.delegations_added
