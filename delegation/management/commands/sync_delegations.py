"""`manage.py sync_delegations`: the same sync as the scheduled one, run here and now."""

from django.core.management.base import BaseCommand, CommandError

from delegation.models import SyncRun
from delegation.sync.lock import SyncAlreadyRunning
from delegation.sync.service import sync_now


class Command(BaseCommand):
    help = "Sync people and call delegations from Microsoft Graph now, in this process."

    def handle(self, *args, **options):
        try:
            run = sync_now(trigger=SyncRun.Trigger.COMMAND)
        except SyncAlreadyRunning as exc:
            raise CommandError(f"Sync #{exc.run.pk} is already {exc.run.status}.") from None
        self.stdout.write(
            f"sync #{run.pk} {run.status} mode={run.users_mode or '-'} people={run.people} "
            f"people_added={run.people_added} people_changed={run.people_changed} "
            f"people_removed={run.people_removed} delegations_added={run.delegations_added} "
            f"delegations_changed={run.delegations_changed} "
            f"delegations_removed={run.delegations_removed} requests={run.graph_requests} "
            f"throttled={run.throttled} retries={run.retries} failures={run.failures}"
        )
        if run.error:
            self.stdout.write(run.error)
        if run.status == SyncRun.Status.FAILED:
            raise CommandError("The sync failed; nothing was changed.")
