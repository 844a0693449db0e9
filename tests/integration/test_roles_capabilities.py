"""Capabilities read from the roles table give the answer Django's permission rows give."""

from __future__ import annotations

import pytest

from portal.roles import CAPABILITIES, ROLES, user_has_capability

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", [None, *ROLES])
def test_each_capability_agrees_with_the_permission_rows(make_user, role):
    user = make_user(role)
    for capability in CAPABILITIES:
        fresh = type(user).objects.get(pk=user.pk)  # no permission cache of either kind
        assert user_has_capability(user, capability) is fresh.has_perm(f"portal.{capability}")


def test_capabilities_cost_one_query_per_request(make_user, django_assert_num_queries):
    user = make_user("manager")
    with django_assert_num_queries(1):
        assert [c for c in CAPABILITIES if user_has_capability(user, c)] == [
            "view_people",
            "view_organisation",
            "review_grants",
            "run_review_campaigns",
            "approve_delegation_changes",
            "view_alerts",
        ]
