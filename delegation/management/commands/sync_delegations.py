"""`manage.py sync_delegations`: the same sync as the scheduled one, run here and now."""

import time

from django.core.management.base import BaseCommand, CommandError

from delegation.models import SyncRun
from delegation.sync.lock import SyncAlreadyRunning, expire_stale_runs
from delegation.sync.service import sync_now

POLL_SECONDS = 2.0


class Command(BaseCommand):
    help = "Sync people and call delegations from Microsoft Graph now, in this process."

    def add_arguments(self, parser):
        parser.add_argument(
            "--full-sweep",
            action="store_true",
            help="read everyone's delegates, not only those of people with Teams Phone and of "
            "current delegators",
        )
        parser.add_argument(
            "--shards",
            action="store_true",
            help="past SYNC_SHARD_THRESHOLD people, leave shards to the Celery workers (they "
            "must be running) and wait for them",
        )

    def handle(self, *args, **options):
        try:
            run = sync_now(
                trigger=SyncRun.Trigger.COMMAND,
                full_sweep=options["full_sweep"],
                allow_shards=options["shards"],
            )
        except SyncAlreadyRunning as exc:
            raise CommandError(f"Sync #{exc.run.pk} is already {exc.run.status}.") from None
        run = self._wait(run)
        self.stdout.write(
            f"sync #{run.pk} {run.status} mode={run.users_mode or '-'} people={run.people} "
            f"people_added={run.people_added} people_changed={run.people_changed} "
            f"people_removed={run.people_removed} baseline_grants={run.baseline_grants} "
            f"delegations_added={run.delegations_added} "
            f"delegations_changed={run.delegations_changed} "
            f"delegations_removed={run.delegations_removed} requests={run.graph_requests} "
            f"throttled={run.throttled} retries={run.retries} failures={run.failures} "
            f"sweep={run.sweep or '-'} unlicensed_delegators={run.unlicensed_delegators}"
        )
        if run.error:
            self.stdout.write(run.error)
        if run.status == SyncRun.Status.FAILED:
            raise CommandError("The sync failed; nothing was changed.")

    def _wait(self, run: SyncRun) -> SyncRun:
        """A run left to shards: wait for the workers (a dead one expires with the lock)."""
        shown = None
        while run.status in SyncRun.ACTIVE_STATUSES:
            figures = (run.progress_done, run.progress_total)
            if figures != shown:
                self.stdout.write(f"waiting for the shards: {figures[0]} of {figures[1]} read")
                shown = figures
            time.sleep(POLL_SECONDS)
            expire_stale_runs()
            run.refresh_from_db()
        return run
