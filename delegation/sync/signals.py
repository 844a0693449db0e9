"""What the sync tells apps built on it, so it never imports them (alerts listen here).

`sync_applied` is sent once per run that read the tenant, after its changes are committed and the
change requests have been re-verified against them (the last step of a run: drift is known by
then). Keyword arguments: `run_id`, and `drifted`, the ids of the change requests this run found
drifted. Receivers must be quick (queue their work): they run in the sync's worker.
"""

from __future__ import annotations

from django.dispatch import Signal

sync_applied = Signal()
