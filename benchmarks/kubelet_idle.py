"""The kubelet's CPU with idle pods: the server at rest with ``idle_pods`` pods running.

Target (issue): 200 idle pods cost the kubelet under 2 % of one core.

The server is one of its own, ``--kubelet on`` and every controller. It settles
(``idle_cpu.settle``) and its CPU is read over ``idle_seconds`` with no pod: the baseline.
Then ``idle_pods`` ``sleep 3600`` pods are created over 16 connections and waited for until
a watch shows every one Ready; the server settles again and its CPU is read over a window
of the same length. The node's capacity is raised past ``idle_pods``
(``ATOLL_CLUSTER__MAX_PODS``; the default is the kubelet's 110), and the pods go through
the scheduler like any others. The whole process is read (``/proc/<pid>/stat``: API
server, controllers, kubelet), so the kubelet's share of the pods is the difference.

Where it goes: the same window is read per thread (``/proc/<pid>/task``), so the event
loop's CPU (the API, watches, controllers, the kubelet's own loop work) shows apart from the
other threads' (``asyncio.to_thread`` workers — the kubelet's usage collector reads
``/proc`` in one every 10 s — and the SQLite writer). Thread names do not tell them apart:
Python does not name its threads for the kernel.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from pathlib import Path

import orjson

from .client import CpuMeter, post_json, run_workers
from .context import Context
from .host_pods import KubeletCluster, delete_all, kubelet_cluster, processes_gone, sleeper
from .idle_cpu import Settling, settle
from .results import Row
from .server import ServerProcess

__all__ = ["run"]

NAMESPACE = "bench-kubelet-idle"
TARGET_SHARE = 0.02
_TIMEOUT = 300.0  # a crash, not a figure, beyond this
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _thread_ticks(server: ServerProcess) -> Counter[str]:
    """CPU ticks so far of the server's main thread (its event loop) and of the others."""
    ticks: Counter[str] = Counter()
    for task in Path(f"/proc/{server.pid}/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended while we looked
        kind = "event loop" if int(task.name) == server.pid else "other threads"
        ticks[kind] += int(fields[11]) + int(fields[12])
    return ticks


async def _window(server: ServerProcess, seconds: float) -> tuple[float, dict[str, float]]:
    """The server's CPU over ``seconds`` as a share of one core, and per thread family."""
    before, threads = server.cpu_seconds(), _thread_ticks(server)
    start = time.perf_counter()
    await asyncio.sleep(seconds)
    wall = time.perf_counter() - start
    share = (server.cpu_seconds() - before) / wall
    after = _thread_ticks(server)
    per_thread = {
        name: (after[name] - threads.get(name, 0)) / _CLOCK_TICKS / wall for name in after
    }
    return share, per_thread


async def _fill(cluster: KubeletCluster, count: int) -> CpuMeter:
    """Create ``count`` sleepers over 16 connections; until every one is Ready."""
    path = f"/api/v1/namespaces/{NAMESPACE}/pods"
    names = [f"idle-{i:04d}" for i in range(count)]
    pods = [sleeper(name) for name in names]
    bodies = [orjson.dumps(pod) for pod in pods]
    with CpuMeter(cluster.server) as cpu:
        await run_workers(bodies, lambda body: post_json(cluster.session, path, body))
        for name in names:
            await cluster.pods.ready(name, timeout=_TIMEOUT)
    return cpu


async def run(ctx: Context) -> list[Row]:
    n, seconds = ctx.sizes.idle_pods, ctx.sizes.idle_seconds
    cluster_dir = ctx.scratch / "kubelet-idle-cluster"
    async with kubelet_cluster(cluster_dir, NAMESPACE, max_pods=n + 10) as cluster:
        empty_settling = await settle(cluster.server)
        empty, empty_threads = await _window(cluster.server, seconds)
        fill = await _fill(cluster, n)
        settling = await settle(cluster.server)
        loaded, threads = await _window(cluster.server, seconds)
        deleted = await delete_all(cluster.session, NAMESPACE, cluster.pods, timeout=_TIMEOUT)
        left = await processes_gone(cluster.server, timeout=30.0)
    row = _report(ctx, empty, loaded, settling, empty_settling, threads, empty_threads)
    print(
        f"  the {n} pods: Ready {fill.wall:.1f} s after the first create ({n / fill.wall:.0f}/s;"
        f" {fill.describe()}); deleted in one request, none left after {deleted:.2f} s; "
        f"container processes left: {left}"
    )
    return [row]


def _threads(shares: dict[str, float]) -> str:
    return ", ".join(f"{name} {share:.2%}" for name, share in sorted(shares.items()))


def _report(
    ctx: Context,
    empty: float,
    loaded: float,
    settling: Settling,
    empty_settling: Settling,
    threads: dict[str, float],
    empty_threads: dict[str, float],
) -> Row:
    n, seconds = ctx.sizes.idle_pods, ctx.sizes.idle_seconds
    share = max(0.0, loaded - empty)  # either reading is good to a tick (10 ms) per window
    met = share < TARGET_SHARE
    ratio = f"{loaded / empty:.1f}×" if empty > 0 else "n/a (baseline 0)"
    print(
        f"kubelet at rest: the server with {n} idle pods used {loaded:.2%} of one core over "
        f"{seconds:.0f} s, {share:.2%} more than with none (target < {TARGET_SHARE:.0%} for the "
        f"kubelet: {'met' if met else 'missed'}); it {settling.describe()}"
    )
    print(f"  by thread: {_threads(threads)}")
    print(
        f"  baseline, same server before the pods: {empty:.2%} (by thread: "
        f"{_threads(empty_threads)}); it {empty_settling.describe()}; ratio {ratio}"
    )
    return Row(
        benchmark=f"Server CPU at rest, {n} idle pods",
        figure=f"{loaded:.2%} of a core (pods' share {share:.2%})",
        target=f"< {TARGET_SHARE:.0%} for the kubelet",
        met=met,
        baseline=f"no pods {empty:.2%}",
        ratio=ratio,
    )
