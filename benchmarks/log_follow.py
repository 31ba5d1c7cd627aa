"""How fast a container's log line reaches a ``follow`` reader through the API server.

Target (issue): a log line reaches a ``follow`` reader within 100 ms (read as p99).

The server is one of its own, ``--kubelet on`` and every controller. One pod runs, as a
host process, a Python program that prints ``ready``, then reads lines from a FIFO made on
this machine (the pod runs on the host, so the path is shared) and, for each, prints
``time.time_ns()``. Once the pod is Ready the benchmark follows
``pods/<name>/log?follow=true`` through the API server (which proxies it to the kubelet's
HTTPS API, which streams the CRI log file as the container's output is written to it),
waits for ``ready``, then writes one line to the FIFO at a time, reads the printed stamp
and takes ``time.time_ns()`` on receipt: the difference is the line's latency, both clocks
being this machine's. ``WARM_LINES`` lines first are not counted; after each line the
benchmark waits ``GAP`` seconds, so lines never queue behind each other.

Baseline, same run, same program and loop: started with ``asyncio.create_subprocess_exec``
and its stdout pipe read directly.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import orjson

from .client import RequestFailed, percentile, post_json
from .context import Context
from .host_pods import KubeletCluster, delete_all, host_pod, kubelet_cluster, processes_gone
from .results import Row

__all__ = ["run"]

NAMESPACE = "bench-log-follow"
TARGET_P99_MS = 100.0
WARM_LINES = 5
GAP = 0.020
POD = "logger"
PROGRAM = """\
import sys, time
print("ready", flush=True)
with open(sys.argv[1], "rb") as triggers:
    for _ in triggers:
        print(time.time_ns(), flush=True)
"""
# The interpreter the kubelet finds for ``python3`` (the host's default PATH), named
# absolutely so the pod and the baseline run the same one.
PYTHON = shutil.which("python3", path=f"{os.defpath}:/usr/local/bin") or sys.executable
_TIMEOUT = 60.0  # a crash, not a figure, beyond this
_LINE_TIMEOUT = 10.0

ReadLine = Callable[[], Awaitable[bytes]]


async def _next_line(readline: ReadLine, what: str) -> bytes:
    try:
        line = await asyncio.wait_for(readline(), _LINE_TIMEOUT)
    except TimeoutError:
        raise RequestFailed(f"{what}: no line within {_LINE_TIMEOUT:.0f} s") from None
    if not line:
        raise RequestFailed(f"{what}: the stream ended")
    return line


async def _latencies(readline: ReadLine, fifo: Path, count: int, *, what: str) -> list[float]:
    """Wait for ``ready``, then trigger ``count`` lines one at a time; each one's ms."""
    first = await _next_line(readline, what)
    if first.strip() != b"ready":
        raise RequestFailed(f"{what}: first line {first!r}, not 'ready'")
    trigger = os.open(fifo, os.O_RDWR)  # never blocks, whether or not the reader is there
    latencies: list[float] = []
    try:
        for i in range(WARM_LINES + count):
            os.write(trigger, b"x\n")
            line = await _next_line(readline, what)
            received = time.time_ns()
            if i >= WARM_LINES:
                latencies.append((received - int(line)) / 1e6)
            await asyncio.sleep(GAP)
    finally:
        os.close(trigger)  # the program reads to the end and exits
    return latencies


async def _through_api(cluster: KubeletCluster, fifo: Path, count: int) -> list[float]:
    path = f"/api/v1/namespaces/{NAMESPACE}/pods"
    pod = host_pod(POD, [PYTHON, "-u", "-c", PROGRAM, str(fifo)])
    pod["spec"]["restartPolicy"] = "Never"
    await post_json(cluster.session, path, orjson.dumps(pod))
    await cluster.pods.ready(POD, timeout=_TIMEOUT)
    async with cluster.streams.get(f"{path}/{POD}/log", params={"follow": "true"}) as resp:
        if resp.status != 200:
            raise RequestFailed(f"follow the log of {POD}: {resp.status} {await resp.text()}")
        return await _latencies(resp.content.readline, fifo, count, what="log follow")


async def _direct(fifo: Path, count: int) -> list[float]:
    process = await asyncio.create_subprocess_exec(
        PYTHON,
        "-u",
        "-c",
        PROGRAM,
        str(fifo),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    try:
        assert process.stdout is not None
        return await _latencies(process.stdout.readline, fifo, count, what="direct pipe")
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()


async def run(ctx: Context) -> list[Row]:
    n = ctx.sizes.log_lines
    pod_fifo, direct_fifo = ctx.scratch / "log-follow-pod.fifo", ctx.scratch / "log-follow.fifo"
    for fifo in (pod_fifo, direct_fifo):
        os.mkfifo(fifo)
    async with kubelet_cluster(ctx.scratch / "log-follow-cluster", NAMESPACE) as cluster:
        followed = await _through_api(cluster, pod_fifo, n)
        direct = await _direct(direct_fifo, n)
        await delete_all(cluster.session, NAMESPACE, cluster.pods, timeout=_TIMEOUT)
        left = await processes_gone(cluster.server, timeout=30.0)
    return [_report(n, followed, direct, left=left)]


def _report(n: int, followed: list[float], direct: list[float], *, left: int) -> Row:
    p50, p99 = statistics.median(followed), percentile(followed, 99)
    b50, b99 = statistics.median(direct), percentile(direct, 99)
    met = p99 <= TARGET_P99_MS
    print(
        f"log follow: {n} lines printed by a pod (host process) read through "
        f"pods/log?follow=true, print → receipt: p50 {p50:.1f} ms, p99 {p99:.1f} ms, max "
        f"{max(followed):.1f} ms (target p99 ≤ {TARGET_P99_MS:.0f} ms: "
        f"{'met' if met else 'missed'})"
    )
    print(
        f"  baseline, same run: the same program's stdout pipe read directly: p50 {b50:.2f} ms,"
        f" p99 {b99:.2f} ms, max {max(direct):.2f} ms; ratios p50 {p50 / b50:.0f}×, "
        f"p99 {p99 / b99:.0f}×"
    )
    print(f"  the pod deleted; container processes left: {left}")
    return Row(
        benchmark=f"Log line → follow reader, {n} lines",
        figure=f"p50 {p50:.1f} ms · p99 {p99:.1f} ms",
        target=f"p99 ≤ {TARGET_P99_MS:.0f} ms",
        met=met,
        baseline=f"stdout pipe p50 {b50:.2f} ms · p99 {b99:.2f} ms",
        ratio=f"{p50 / b50:.0f}× · {p99 / b99:.0f}×",
    )
