"""JSON batching: up to 20 items with unique ids and relative URLs, `dependsOn` (424 when a
prerequisite failed), each item through the whole pipeline (its own throttling and faults), the
answers in any order."""

from __future__ import annotations

import asyncio
import json

from graphsim.answers import Ctx, Resp, bad_request, graph_error, new_id

MAX_ITEMS = 20
JSON_HEADERS = {"Content-Type": "application/json"}


async def run_batch(sim, ctx: Ctx, body: bytes) -> Resp:
    sim.stats.batch_requests += 1
    try:
        doc = json.loads(body or b"null")
    except ValueError:
        return bad_request(ctx, "Unable to read JSON request payload.")
    items = doc.get("requests") if isinstance(doc, dict) else None
    refused = _check_items(ctx, items)
    if refused is not None:
        return refused
    loop = asyncio.get_running_loop()
    answers: dict[str, asyncio.Future] = {str(item["id"]): loop.create_future() for item in items}

    async def run(item):
        iid = str(item["id"])
        try:
            answer = await _item(sim, ctx, item, answers)
        except Exception as e:  # noqa: BLE001 - never lose an item
            error = graph_error(ctx, 500, "generalException", str(e))
            answer = {"id": iid, "status": 500, "headers": dict(JSON_HEADERS), "body": error.body}
        answers[iid].set_result(answer)
        return answer

    results = list(await asyncio.gather(*(run(item) for item in items)))
    if sim.cfg.batch_shuffle:
        sim.graph.rng.shuffle(results)
    return Resp(200, {"responses": results})


def _check_items(ctx: Ctx, items) -> Resp | None:
    if not isinstance(items, list) or not items:
        return bad_request(
            ctx, "Invalid batch payload format: 'requests' must be a non-empty list."
        )
    if len(items) > MAX_ITEMS:
        return bad_request(ctx, "The number of requests in the batch exceeds 20.")
    ids = []
    for item in items:
        if (
            not isinstance(item, dict)
            or not item.get("id")
            or not item.get("method")
            or not isinstance(item.get("url"), str)
        ):
            return bad_request(ctx, "Each batch request needs 'id', 'method' and 'url'.")
        iid = str(item["id"])
        if iid in ids:
            return bad_request(ctx, f"Batch request ids must be unique: '{iid}' is duplicated.")
        ids.append(iid)
    for item in items:
        needs = item.get("dependsOn") or []
        if not isinstance(needs, list) or any(
            str(need) not in ids or str(need) == str(item["id"]) for need in needs
        ):
            return bad_request(ctx, f"Invalid dependsOn in batch request '{item['id']}'.")
    return None


async def _item(sim, outer: Ctx, item: dict, answers: dict) -> dict:
    iid = str(item["id"])
    ctx = Ctx(new_id(), outer.crid, outer.claims, outer.base, outer.version, batch=True)
    for need in [str(need) for need in (item.get("dependsOn") or [])]:
        if (await answers[need])["status"] >= 400:
            sim.stats.batch_items += 1
            sim.stats.batch_routes["dependsOn"][424] += 1
            failed = graph_error(
                ctx,
                424,
                "FailedDependency",
                f"The request depends on request '{need}', which failed.",
            )
            return {"id": iid, "status": 424, "headers": dict(JSON_HEADERS), "body": failed.body}
    method = str(item["method"]).upper()
    headers = {str(k).lower(): str(v) for k, v in (item.get("headers") or {}).items()}
    sim.stats.batch_items += 1
    path, _, query = item["url"].partition("?")
    refused = _item_refusal(ctx, item, headers)
    if refused is not None:
        route, answer = "invalid", refused
    else:
        route, answer = await sim.graph.dispatch(ctx, method, path, query, _body_bytes(item))
    sim.stats.batch_routes[route][answer.status] += 1
    out_headers = dict(JSON_HEADERS)
    out_headers.update(answer.headers)
    out_headers.pop("WWW-Authenticate", None)
    out = {"id": iid, "status": answer.status, "headers": out_headers}
    if answer.body is not None:
        out["body"] = answer.body
    return out


def _item_refusal(ctx: Ctx, item: dict, headers: dict) -> Resp | None:
    url = item["url"]
    if url.lower().startswith(("http:", "https:")) or url.lstrip("/").startswith(
        ("v1.0/", "beta/")
    ):
        return bad_request(ctx, "Batch request URLs must be relative to the version.")
    if item.get("body") is not None and "content-type" not in headers:
        return bad_request(ctx, "Content-Type header must be specified with a body.")
    if url.partition("?")[0].lstrip("/").startswith("$batch"):
        return bad_request(ctx, "Nested batch requests are not supported.")
    return None


def _body_bytes(item: dict):
    body = item.get("body")
    if isinstance(body, (dict, list)):
        return json.dumps(body).encode()
    if isinstance(body, str):
        return body.encode()
    return body
