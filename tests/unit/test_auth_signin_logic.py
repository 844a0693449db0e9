"""Pure sign-in logic: roles from claims, which `next` is safe, pending flows keyed by state."""

from __future__ import annotations

import time

import pytest
from django.test import RequestFactory

from portal import signin
from portal.roles import CAPABILITIES, ROLES, capabilities_of

GROUP_A, GROUP_B = "11111111-aaaa", "22222222-bbbb"


def test_app_roles_in_the_id_token_become_portal_roles(settings):
    settings.MS_GROUP_ROLES = {}
    assert signin.roles_from_claims({"roles": ["helpdesk", "Manager"]}) == {"helpdesk", "manager"}


def test_unknown_app_roles_are_ignored(settings):
    settings.MS_GROUP_ROLES = {}
    assert signin.roles_from_claims({"roles": ["superuser", "Calls.Initiate.All"]}) == set()


def test_group_ids_map_to_roles_through_settings(settings):
    settings.MS_GROUP_ROLES = {GROUP_A: "admin", GROUP_B: "not-a-role"}
    claims = {"roles": ["helpdesk"], "groups": [GROUP_A, GROUP_B, "33333333"]}
    assert signin.roles_from_claims(claims) == {"helpdesk", "admin"}


def test_no_roles_and_no_groups_means_no_role(settings):
    settings.MS_GROUP_ROLES = {GROUP_A: "admin"}
    assert signin.roles_from_claims({}) == set()


@pytest.mark.parametrize(
    ("candidate", "expected"),
    [
        ("/admin-tools/audit?page=2", "/admin-tools/audit?page=2"),
        ("https://evil.example/", ""),
        ("//evil.example/path", ""),
        ("/\\evil.example", ""),
        ("javascript:alert(1)", ""),
        ("", ""),
        (None, ""),
    ],
)
def test_next_is_kept_only_for_this_sites_paths(candidate, expected):
    request = RequestFactory().get("/auth/login")
    assert signin.safe_next(request, candidate) == expected


def test_each_tab_keeps_its_own_pending_flow():
    session = {}
    signin.remember_flow(session, {"state": "tab-1"}, purpose="signin", next_url="/a")
    signin.remember_flow(session, {"state": "tab-2"}, purpose="signin", next_url="/b")
    assert signin.take_flow(session, "tab-1")["next"] == "/a"
    assert signin.take_flow(session, "tab-2")["next"] == "/b"


def test_a_flow_can_be_taken_once():
    session = {}
    signin.remember_flow(session, {"state": "s"}, purpose="signin")
    assert signin.take_flow(session, "s") is not None
    assert signin.take_flow(session, "s") is None


def test_an_expired_flow_is_refused(monkeypatch):
    session = {}
    signin.remember_flow(session, {"state": "s"}, purpose="signin")
    later = time.time() + signin.FLOW_TTL_SECONDS + 1
    monkeypatch.setattr(signin.time, "time", lambda: later)
    assert signin.take_flow(session, "s") is None


def test_pending_flows_are_bounded():
    session = {}
    for n in range(signin.MAX_PENDING_FLOWS + 3):
        signin.remember_flow(session, {"state": f"s{n}"}, purpose="signin")
    assert len(session[signin.FLOWS_SESSION_KEY]) == signin.MAX_PENDING_FLOWS
    assert signin.take_flow(session, "s0") is None
    assert signin.take_flow(session, f"s{signin.MAX_PENDING_FLOWS + 2}") is not None


@pytest.mark.parametrize("state", [None, "", "unknown"])
def test_no_or_unknown_state_finds_nothing(state):
    assert signin.take_flow({}, state) is None


def test_the_roles_table_gives_admins_every_capability():
    assert capabilities_of("admin") == set(CAPABILITIES)


def test_only_admins_manage_the_sync_account_and_read_the_audit_log():
    for role in ROLES:
        has = {"manage_sync_account", "view_audit"} <= capabilities_of(role)
        assert has == (role == "admin")
