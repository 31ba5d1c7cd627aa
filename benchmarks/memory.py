"""The server's resident memory against the JSON size of what it stores.

Target (issue): RSS at most twice the JSON size of the stored objects plus 100 MB. Runs
after the list benchmark on the same server, so the store holds its pods (filled here if
that benchmark was skipped) plus everything the other benchmarks wrote. The JSON size is
the sum of every item's length over a full list of every listable resource. Baseline, same
run: the RSS of the same server when idle, before the first benchmark wrote anything.
"""

from __future__ import annotations

from typing import Any

import aiohttp
import orjson

from .client import RequestFailed
from .context import Context
from .lists import NAMESPACE, fill_pods
from .results import Row

__all__ = ["run"]

MB = 1024 * 1024
HEADROOM = 100 * MB


async def _get(session: aiohttp.ClientSession, path: str) -> Any:
    async with session.get(path) as resp:
        body = await resp.read()
        if resp.status != 200:
            raise RequestFailed(f"GET {path}: {resp.status} {body[:300]!r}")
    return orjson.loads(body)


async def _list_paths(session: aiohttp.ClientSession) -> list[str]:
    """Every listable resource once, by plural (``events`` is served by two groups)."""
    versions = ["/api/v1"]
    for group in (await _get(session, "/apis"))["groups"]:
        versions.append(f"/apis/{group['preferredVersion']['groupVersion']}")
    paths: dict[str, str] = {}
    for base in versions:
        for resource in (await _get(session, base))["resources"]:
            name = resource["name"]
            if "/" not in name and "list" in resource.get("verbs", ()):
                paths.setdefault(name, f"{base}/{name}")
    return list(paths.values())


async def stored_json_size(session: aiohttp.ClientSession) -> tuple[int, int]:
    """(bytes, objects): the JSON length of every stored object, summed over full lists."""
    total = count = 0
    for path in await _list_paths(session):
        for item in (await _get(session, path))["items"]:
            total += len(orjson.dumps(item))
            count += 1
    return total, count


async def _pod_count(session: aiohttp.ClientSession) -> int:
    return len((await _get(session, f"/api/v1/namespaces/{NAMESPACE}/pods"))["items"])


async def run(ctx: Context) -> list[Row]:
    if (have := await _pod_count(ctx.session)) < ctx.sizes.pods:
        await fill_pods(ctx, ctx.sizes.pods - have)  # the list benchmark did not run
    json_bytes, objects = await stored_json_size(ctx.session)
    rss, peak, idle = ctx.server.rss_bytes(), ctx.server.peak_rss_bytes(), ctx.idle_rss_bytes
    budget = 2 * json_bytes + HEADROOM
    per_byte = (rss - idle) / json_bytes
    print(
        f"memory: {objects:,} stored objects, {json_bytes / MB:.1f} MB of JSON; server RSS "
        f"{rss / MB:.0f} MB (peak {peak / MB:.0f} MB), target ≤ 2×JSON + 100 MB = "
        f"{budget / MB:.0f} MB: ratio {rss / budget:.2f} ({'met' if rss <= budget else 'missed'})"
    )
    print(
        f"  baseline, the idle server before any benchmark: RSS {idle / MB:.0f} MB; growth "
        f"{(rss - idle) / MB:.0f} MB = {per_byte:.1f} B of RSS per stored JSON byte"
    )
    print(
        "  the in-process controllers (informer caches) count in this RSS; "
        "`--controllers ''` measures the API server alone"
    )
    for mark, value in ctx.rss_marks.items():
        print(
            f"  server RSS {mark}: {value / MB:.0f} MB (ratio {value / budget:.2f} to the target)"
        )
    return [
        Row(
            benchmark=f"Server RSS ({objects:,} objects, {json_bytes / MB:.0f} MB JSON)",
            figure=f"{rss / MB:.0f} MB (peak {peak / MB:.0f} MB)",
            target=f"≤ 2×JSON + 100 MB = {budget / MB:.0f} MB",
            met=rss <= budget,
            baseline=f"idle server {idle / MB:.0f} MB",
            ratio=f"RSS/target {rss / budget:.2f} · RSS/idle {rss / idle:.1f}×",
        )
    ]
