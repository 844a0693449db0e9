"""Large tenants: the people are split into shards whose delegates many workers read at once
(a Celery chord), and a final task applies the whole diff in one transaction, as a run in one
process would. The people listing waits in a SyncStage row, not in a broker message.
"""

from __future__ import annotations

import json
import zlib
from collections import Counter
from sys import intern

from celery import chord
from django.conf import settings
from django.db import transaction

from delegation.models import SyncRun, SyncStage
from delegation.sync import lock
from delegation.sync.apply import apply_run
from delegation.sync.fetch import Collected, PeopleSnapshot, Progress, fetch_delegates
from delegation.sync.outcome import (
    check_something_was_read,
    describe_failure,
    fail_run,
    fail_run_with_reason,
    record_run_finished,
)
from portal import audit
from portal.graph import tokens
from portal.graph.client import GraphClient
from portal.graph.delegations import FetchResult
from portal.graph.errors import GraphError, TokenError
from portal.queue import signature


def fan_out(run_id: int, collected: Collected, graph_stats: dict) -> int:
    """Stage the people listing and start the chord; returns the number of shards."""
    payload = {"snapshot": collected.snapshot.to_json(), "graph": graph_stats}
    SyncStage.objects.update_or_create(
        run_id=run_id, defaults={"payload": zlib.compress(json.dumps(payload).encode())}
    )
    ids = collected.to_fetch
    size = max(1, settings.SYNC_SHARD_SIZE)
    shards = [ids[i : i + size] for i in range(0, len(ids), size)]
    lock.beat(run_id, progress_total=len(ids), progress_done=0)
    header = [signature("delegation.tasks.fetch_shard", run_id, shard) for shard in shards]
    audit.record(
        "sync.fan_out",
        "success",
        target=f"sync run #{run_id}",
        who="delegation sync",
        shards=len(shards),
        people=len(ids),
    )
    final = signature("delegation.tasks.apply_shards", run_id)
    transaction.on_commit(lambda: chord(header)(final))
    return len(shards)


def fetch_shard(run_id: int, object_ids: list[str], *, token_provider=None) -> dict:
    """One shard's delegates, as JSON-friendly data for the final task. Never raises: a failed
    shard reports its error, so the final task still runs and fails the run cleanly."""
    client = None
    try:
        client = GraphClient(token_provider or tokens.sync_token_provider())
        client.token()
        progress = Progress(run_id, shared=True)
        result = fetch_delegates(client, object_ids, progress)
        progress(len(result.fetched) + len(result.failed), force=True)
        return {
            "grants": result.grants,
            "fetched": sorted(result.fetched),
            "failed": result.failed,
            "graph": client.stats.snapshot(),
            "error": "",
        }
    except Exception as exc:  # noqa: BLE001 - reported to the final task
        return {
            "grants": [],
            "fetched": [],
            "failed": {},
            "graph": client.stats.snapshot() if client else {},
            "error": describe_failure(exc),
            "token_error": isinstance(exc, TokenError),
        }
    finally:
        if client is not None:
            client.close()


def merge_graph_stats(parts: list[dict]) -> dict:
    out = {"requests": 0, "throttled": 0, "retries": 0}
    failures: Counter = Counter()
    for part in parts:
        for name in out:
            out[name] += int(part.get(name) or 0)
        failures.update(part.get("failures") or {})
    out["failures"] = dict(failures)
    return out


def apply_shards(run_id: int, results: list[dict]) -> SyncRun:
    """The chord's final task: merge the shards' answers and apply them like one run."""
    stage = SyncStage.objects.filter(run_id=run_id).first()
    graph: dict = {}
    try:
        if stage is None:
            raise lock.LockLost(f"sync #{run_id} has no staged people listing")
        data = json.loads(zlib.decompress(bytes(stage.payload)))
        graph = merge_graph_stats([data["graph"], *(r.get("graph") or {} for r in results)])
        errors = [r["error"] for r in results if r.get("error")]
        if errors:
            return fail_run_with_reason(run_id, errors[0], graph)
        fetch = FetchResult()
        for result in results:
            # Interned ids and one shard's list freed at a time: 300,000 grants stay small.
            fetch.grants.extend((intern(a), intern(b), packed) for a, b, packed in result["grants"])
            result["grants"] = None
            fetch.fetched.update(result["fetched"])
            fetch.failed.update(result["failed"])
        check_something_was_read(fetch)
        run = apply_run(run_id, PeopleSnapshot.from_json(data["snapshot"]), fetch, graph)
    except (GraphError, TokenError, lock.LockLost) as exc:
        fail_run(run_id, exc, graph)
        return SyncRun.objects.get(pk=run_id)
    except Exception as exc:
        fail_run(run_id, exc, graph)
        raise
    finally:
        SyncStage.objects.filter(run_id=run_id).delete()
    record_run_finished(run)
    return run
