"""Large runs: the people to read are split into shards that workers read at once, each sent as
soon as it is full (while the listing goes on), each staging what it reads. The last to finish,
the coordinator or a shard, has the whole run applied in one transaction, as a run in one
process would be (service.apply_staged). No chord: shards are sent before their number is known.
"""

from __future__ import annotations

from collections import Counter

from django.db import transaction

from delegation.models import SyncRun, SyncShard
from delegation.sync import staging
from delegation.sync.outcome import describe_failure
from delegation.sync.progress import Progress
from portal import audit
from portal.graph import tokens
from portal.graph.client import GraphClient
from portal.queue import enqueue

APPLY_TASK = "delegation.tasks.apply_staged"


def dispatch(run_id: int, number: int, object_ids: list[str]) -> None:
    """Record shard `number` and queue it (at once outside a transaction)."""
    SyncShard.objects.create(run_id=run_id, number=number, people=len(object_ids))
    enqueue("delegation.tasks.fetch_shard", run_id, number, object_ids)


def read_delegates(run_id: int, client: GraphClient, object_ids, progress: Progress) -> int:
    """Read these people's delegates and stage what differs (a shard's work); returns how many
    were read in full."""
    sink = staging.StagingSink(run_id)
    fetcher = sink.fetcher(client, progress)
    fetcher.fetch(object_ids)
    sink.flush()
    progress(fetcher.done, force=True)
    return sink.read_count


def fetch_shard(run_id: int, number: int, object_ids: list[str], *, token_provider=None) -> dict:
    """One shard. Never raises: a failure is recorded on the shard, and the run fails with it
    when everything has come in."""
    client = None
    error, read = "", 0
    try:
        client = GraphClient(token_provider or tokens.sync_token_provider())
        client.token()
        read = read_delegates(run_id, client, object_ids, Progress(run_id))
    except Exception as exc:  # noqa: BLE001 - recorded on the shard, reported by the apply
        error = describe_failure(exc)
    finally:
        graph = client.stats.snapshot() if client is not None else {}
        if client is not None:
            client.close()
    shard_finished(run_id, number, graph=graph, error=error, read=read)
    return {"people": len(object_ids), "read": read, "error": error}


def _pending(run_id: int) -> bool:
    return SyncShard.objects.filter(run_id=run_id, finished=False).exists()


def shard_finished(run_id: int, number: int, **figures) -> None:
    """Record the shard (graph, error, read); when it is the last and the coordinator is done,
    queue the apply."""
    with transaction.atomic():
        run = SyncRun.objects.select_for_update().get(pk=run_id)
        SyncShard.objects.filter(run_id=run_id, number=number).update(finished=True, **figures)
        coordinator_done = staging.read_stage(run_id) is not None
        if run.status == SyncRun.Status.RUNNING and coordinator_done and not _pending(run_id):
            enqueue(APPLY_TASK, run_id)


def coordinator_finished(run_id: int, meta: dict) -> bool:
    """The coordinator has read all it reads itself: stage its figures; True when no shard is
    still reading (the coordinator applies the run now), else the last shard will."""
    with transaction.atomic():
        SyncRun.objects.select_for_update().get(pk=run_id)
        staging.write_stage(run_id, meta)
        done = not _pending(run_id)
    if meta["shards"]:
        audit.record(
            "sync.fan_out",
            "success",
            target=f"sync run #{run_id}",
            who="delegation sync",
            shards=meta["shards"],
            people=meta["people"],
        )
    return done


def merge_graph_stats(parts: list[dict]) -> dict:
    out = {"requests": 0, "throttled": 0, "retries": 0}
    failures: Counter = Counter()
    for part in parts:
        for name in out:
            out[name] += int(part.get(name) or 0)
        failures.update(part.get("failures") or {})
    out["failures"] = dict(failures)
    return out


def shard_outcome(run_id: int, coordinator_graph: dict) -> tuple[dict, str, int]:
    """Everyone's Graph figures together, the first shard's error ("" when none), and how many
    people the shards read in full."""
    shards = list(SyncShard.objects.filter(run_id=run_id).order_by("number"))
    graph = merge_graph_stats([coordinator_graph, *(shard.graph for shard in shards)])
    errors = [shard.error for shard in shards if shard.error]
    return graph, errors[0] if errors else "", sum(shard.read for shard in shards)
