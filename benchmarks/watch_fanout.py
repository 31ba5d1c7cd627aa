"""How fast one write reaches 100 concurrent watchers, beside the write's own round trip.

Target (issue): p99 at most 50 ms from the write to each watcher's receipt of its event.
100 watches on ConfigMaps in one namespace start at the list's resourceVersion, each on its
own connection; then writes go out one at a time every 20 ms on the 16-connection session.
A delivery's delay runs from just before the POST is sent to the moment a watcher's client
reads the event line. Baseline, same loop: the POST round trip itself.

Every watcher's line is timestamped on arrival and only parsed after the run, so the client
adds as little as it can; with 100 streams in one client process its share is printed too.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time

import aiohttp
import orjson

from .client import CpuMeter, RequestFailed, ensure_namespace, open_session, percentile, post_json
from .context import Context
from .objects import config_map
from .results import Row

__all__ = ["run"]

NAMESPACE = "bench-watch"
TARGET_P99_MS = 50.0
_PATH = f"/api/v1/namespaces/{NAMESPACE}/configmaps"

Arrivals = list[tuple[float, bytes]]


async def _watch(session: aiohttp.ClientSession, rv: str, arrivals: Arrivals) -> None:
    params = {"watch": "true", "resourceVersion": rv}
    async with session.get(_PATH, params=params) as resp:
        if resp.status != 200:
            raise RequestFailed(f"watch: {resp.status} {await resp.text()}")
        async for line in resp.content:
            arrivals.append((time.perf_counter(), line))


async def _wait_for(watchers: list[Arrivals], count: int, *, timeout: float) -> None:
    """Poll until every watcher has ``count`` lines, or the deadline passes."""
    deadline = time.monotonic() + timeout
    while any(len(a) < count for a in watchers) and time.monotonic() < deadline:
        await asyncio.sleep(0.01)


async def _write(ctx: Context, name: str, index: int) -> tuple[float, float]:
    """POST one ConfigMap; return (sent, acknowledged) timestamps."""
    body = orjson.dumps(config_map(name, index=index))
    sent = time.perf_counter()
    await post_json(ctx.session, _PATH, body)
    return sent, time.perf_counter()


def _delays(watchers: list[Arrivals], sent: dict[str, float]) -> tuple[list[float], int]:
    """Delay in ms of every (write × watcher) delivery, and how many never arrived."""
    delays: list[float] = []
    missing = 0
    for arrivals in watchers:
        seen = {orjson.loads(line)["object"]["metadata"]["name"]: t for t, line in arrivals}
        for name, t_sent in sent.items():
            if name in seen:
                delays.append((seen[name] - t_sent) * 1000)
            else:
                missing += 1
    return delays, missing


async def _write_every_interval(
    ctx: Context, watchers: list[Arrivals]
) -> tuple[dict[str, float], list[float], CpuMeter]:
    """The timed loop: sequential writes on a fixed cadence, then wait for the last events."""
    sent: dict[str, float] = {}
    rtts: list[float] = []
    with CpuMeter(ctx.server) as cpu:
        for i in range(ctx.sizes.watch_writes):
            slot = time.perf_counter() + ctx.sizes.write_interval
            name = f"w-{i:05d}"
            sent[name], acked = await _write(ctx, name, i)
            rtts.append((acked - sent[name]) * 1000)
            await asyncio.sleep(max(0.0, slot - time.perf_counter()))
        await _wait_for(watchers, 1 + ctx.sizes.watch_writes, timeout=10)
    return sent, rtts, cpu


async def run(ctx: Context) -> list[Row]:
    await ensure_namespace(ctx.session, NAMESPACE)
    async with ctx.session.get(_PATH) as resp:
        rv = orjson.loads(await resp.read())["metadata"]["resourceVersion"]
    watchers: list[Arrivals] = [[] for _ in range(ctx.sizes.watchers)]
    async with open_session(ctx.server, connections=0) as watch_session:
        tasks = [asyncio.create_task(_watch(watch_session, rv, a)) for a in watchers]
        try:
            await _write(ctx, "sync", 0)  # every watch is live once all saw this one
            await _wait_for(watchers, 1, timeout=60)
            if any(not a for a in watchers):
                raise RequestFailed("not every watch received the first event within 60 s")
            sent, rtts, cpu = await _write_every_interval(ctx, watchers)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
    return _report(ctx, watchers, sent, rtts, cpu)


def _report(
    ctx: Context,
    watchers: list[Arrivals],
    sent: dict[str, float],
    rtts: list[float],
    cpu: CpuMeter,
) -> list[Row]:
    delays, missing = _delays(watchers, sent)
    p50, p99 = statistics.median(delays), percentile(delays, 99)
    rtt50, rtt99 = statistics.median(rtts), percentile(rtts, 99)
    print(
        f"watch fan-out: {len(sent)} writes every {ctx.sizes.write_interval * 1000:.0f} ms to "
        f"{len(watchers)} watchers → {len(delays):,} deliveries ({missing} missing): "
        f"p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {max(delays):.1f} ms "
        f"(target p99 ≤ {TARGET_P99_MS:.0f} ms: {'met' if p99 <= TARGET_P99_MS else 'missed'})"
    )
    print(f"  {cpu.describe()}")
    print(
        f"  baseline, the POST round trip in the same loop: p50 {rtt50:.1f} ms, "
        f"p99 {rtt99:.1f} ms; ratios p50 {p50 / rtt50:.1f}×, p99 {p99 / rtt99:.1f}×"
    )
    return [
        Row(
            benchmark=f"Write → {len(watchers)} watchers",
            figure=f"p50 {p50:.1f} ms · p99 {p99:.1f} ms",
            target=f"p99 ≤ {TARGET_P99_MS:.0f} ms",
            met=p99 <= TARGET_P99_MS and missing == 0,
            baseline=f"POST round trip p50 {rtt50:.1f} ms · p99 {rtt99:.1f} ms",
            ratio=f"{p50 / rtt50:.1f}× · {p99 / rtt99:.1f}×",
        )
    ]
