"""Listing 10,000 pods as JSON and as a Table, beside SQLite selecting the same JSON.

Target (issue): a list of 10,000 pods in at most 300 ms (judged on the median; p95 shown).
Each figure is the full round trip including reading the whole body. The first list after
the pods were written is timed apart ("first"): the server renders a Table row's cells once
per stored state and keeps them, so that first Table list pays for every row. Baseline, same run:
``SELECT value FROM objects`` over the same 10,000 pods (as the JSON list returned them)
in a fresh SQLite database, joined into a list body.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Mapping
from dataclasses import dataclass

import aiohttp
import orjson

from .client import JSON, CpuMeter, RequestFailed, ensure_namespace, percentile, run_workers
from .context import Context
from .direct_sqlite import fill, select_list_body
from .objects import pod, pod_status
from .results import Row

__all__ = ["NAMESPACE", "fill_pods", "run"]

NAMESPACE = "bench-pods"
TARGET_MS = 300.0
TABLE = {"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"}
MERGE_PATCH = {"Content-Type": "application/merge-patch+json"}


async def fill_pods(ctx: Context, count: int) -> float:
    """Create ``count`` pods and give each a Running status; return the seconds it took."""
    await ensure_namespace(ctx.session, NAMESPACE)
    base = f"/api/v1/namespaces/{NAMESPACE}/pods"

    async def create(index: int) -> None:
        name = f"web-{index:06d}"
        async with ctx.session.post(
            base, data=orjson.dumps(pod(name, index=index)), headers=JSON
        ) as resp:
            if resp.status != 201:
                raise RequestFailed(f"create pod {name}: {resp.status} {await resp.text()}")
        status = orjson.dumps(pod_status(index=index))
        async with ctx.session.patch(
            f"{base}/{name}/status", data=status, headers=MERGE_PATCH
        ) as resp:
            if resp.status != 200:
                raise RequestFailed(f"status of pod {name}: {resp.status} {await resp.text()}")

    start = time.perf_counter()
    await run_workers(range(count), create)
    return time.perf_counter() - start


async def _timed_get(
    session: aiohttp.ClientSession, path: str, headers: Mapping[str, str]
) -> tuple[float, bytes]:
    start = time.perf_counter()
    async with session.get(path, headers=headers) as resp:
        body = await resp.read()
        if resp.status != 200:
            raise RequestFailed(f"GET {path}: {resp.status} {body[:300]!r}")
    return (time.perf_counter() - start) * 1000, body


@dataclass
class Timed:
    """The runs of one list: the first after the writes apart, then ``list_runs`` more."""

    first: float
    times: list[float]
    body: bytes
    cpu: str


async def _time_list(ctx: Context, headers: Mapping[str, str]) -> Timed:
    first, body = await _timed_get(ctx.session, "/api/v1/pods", headers)
    with CpuMeter(ctx.server) as cpu:
        times = [
            (await _timed_get(ctx.session, "/api/v1/pods", headers))[0]
            for _ in range(ctx.sizes.list_runs)
        ]
    return Timed(first, times, body, cpu.describe())


def _time_baseline(ctx: Context, items: list[bytes], names: list[str]) -> list[float]:
    path = ctx.scratch / "lists.db"
    fill(path, [(f"/pods/{NAMESPACE}/{name}", raw) for name, raw in zip(names, items, strict=True)])
    times = []
    for _ in range(ctx.sizes.list_runs):
        start = time.perf_counter()
        select_list_body(path, kind="Pod")
        times.append((time.perf_counter() - start) * 1000)
    return times


def _row(label: str, timed: Timed, base: list[float]) -> Row:
    median, p95 = statistics.median(timed.times), percentile(timed.times, 95)
    base_median = statistics.median(base)
    return Row(
        benchmark=label,
        figure=f"median {median:,.0f} ms · p95 {p95:,.0f} ms · first {timed.first:,.0f} ms",
        target=f"≤ {TARGET_MS:,.0f} ms",
        met=median <= TARGET_MS,
        baseline=f"SQLite select+join median {base_median:,.1f} ms",
        ratio=f"{median / base_median:,.1f}× · first {timed.first / base_median:,.1f}×",
    )


async def run(ctx: Context) -> list[Row]:
    n = ctx.sizes.pods
    rss = [ctx.server.rss_bytes()]
    fill_seconds = await fill_pods(ctx, n)
    print(f"lists: stored {n:,} pods (create + status patch each) in {fill_seconds:.1f} s")
    rss.append(ctx.server.rss_bytes())
    ctx.rss_marks["after pod fill, before any list"] = rss[-1]
    json = await _time_list(ctx, {"Accept": "application/json"})
    rss.append(ctx.server.rss_bytes())
    table = await _time_list(ctx, TABLE)
    rss.append(ctx.server.rss_bytes())
    listed = orjson.loads(json.body)["items"]
    rows = orjson.loads(table.body)["rows"]
    if len(listed) < n or len(rows) < n:
        raise RequestFailed(f"listed {len(listed)} pods and {len(rows)} table rows, stored {n}")
    items = [orjson.dumps(item) for item in listed]
    names = [item["metadata"]["name"] for item in listed]
    base = _time_baseline(ctx, items, names)

    size = sum(len(raw) for raw in items) / len(items)
    print(
        f"  {len(items):,} pods, ~{size:,.0f} B JSON each; bodies: JSON "
        f"{len(json.body) / 1e6:.1f} MB, Table {len(table.body) / 1e6:.1f} MB"
    )
    base_median = statistics.median(base)
    for label, timed in (("JSON", json), ("Table", table)):
        print(
            f"  GET /api/v1/pods as {label}: median {statistics.median(timed.times):,.0f} ms, "
            f"p95 {percentile(timed.times, 95):,.0f} ms over {len(timed.times)} runs "
            f"(target ≤ {TARGET_MS:,.0f} ms), first after the writes {timed.first:,.0f} ms; "
            f"{timed.cpu}"
        )
    print(
        f"  SQLite directly (SELECT value + join): median {base_median:,.1f} ms, "
        f"p95 {percentile(base, 95):,.1f} ms; ratios JSON "
        f"{statistics.median(json.times) / base_median:,.1f}×, Table "
        f"{statistics.median(table.times) / base_median:,.1f}×"
    )
    print(
        "  server RSS before fill / after fill / after JSON lists / after Table lists: "
        + " / ".join(f"{r / 2**20:.0f}" for r in rss)
        + " MB"
    )
    return [
        _row(f"List {n:,} pods (JSON)", json, base),
        _row(f"List {n:,} pods (Table)", table, base),
    ]
