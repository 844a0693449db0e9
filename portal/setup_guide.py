"""The admin's setup guide: what is left before the portal is useful, read from the portal's
tables and the apps' setup facts (portal.extensions), never from an app directly."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.urls import reverse

from portal import extensions
from portal.models import SyncAccount, User
from portal.roles import ROLES

PEOPLE_SHOWN_PER_ROLE = 10


@dataclass(frozen=True)
class Step:
    title: str
    done: bool
    detail: str
    link: str = ""
    link_text: str = ""


@dataclass
class Guide:
    steps: list[Step]
    people_by_role: dict[str, list[str]] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        return all(step.done for step in self.steps)


def setup_guide() -> Guide:
    """The sync account, the first sync, and who has which role (3 queries)."""
    facts = extensions.setup_facts()
    return Guide(
        steps=[_account_step(), _first_sync_step(facts)],
        people_by_role=people_by_role(),
    )


def _account_step() -> Step:
    if settings.SYNC_USE_APP_ONLY:
        return Step("Sync account", True, "Not needed: the sync uses app-only tokens.")
    account = SyncAccount.objects.only("status", "upn").first()
    link = reverse("portal:sync_account")
    if account is None:
        detail = (
            "Graph lets only a signed-in account read call delegation: connect one (in the demo "
            "tenant, admin@contoso.test will do)."
        )
        return Step("Connect the sync account", False, detail, link, "Connect the sync account")
    if account.status == SyncAccount.Status.RECONNECT_NEEDED:
        detail = f"{account.upn} must sign in again: its sign-in is no longer valid."
        return Step("Reconnect the sync account", False, detail, link, "Reconnect it")
    return Step("Connect the sync account", True, f"Connected as {account.upn}.")


def _first_sync_step(facts: dict) -> Step:
    if facts.get("first_sync_done"):
        return Step("Run the first sync", True, "The portal has read the tenant.")
    detail = "Read everyone's call delegations once; later syncs run on a schedule."
    return Step("Run the first sync", False, detail, facts.get("first_sync_url", ""), "Go to Sync")


def people_by_role() -> dict[str, list[str]]:
    """The first people who signed in with each role (roles come from Entra ID at sign-in)."""
    found: dict[str, list[str]] = {role: [] for role in ROLES}
    users = (
        User.objects.filter(groups__name__in=ROLES)
        .values_list("groups__name", "display_name", "upn")
        .order_by("groups__name", "display_name", "upn")
    )
    for role, name, upn in users:
        if role in found and len(found[role]) < PEOPLE_SHOWN_PER_ROLE:
            found[role].append(f"{name} ({upn})" if name else upn)
    return found
