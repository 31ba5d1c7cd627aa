"""How long ``exec echo`` takes end to end, as the Python client and the console run it.

Target (issue 5): exec round trip (``echo``) p50 at most 50 ms.

The server is one of its own, ``--kubelet on`` and every controller; one pod sleeps (a host
process, in its own network namespace when root). Each round trip opens a WebSocket
(``v4.channel.k8s.io``) to ``pods/<pod>/exec?command=echo&command=hi&stdout=true`` on the
API server (which relays it to the kubelet, which starts ``echo`` beside the container, in
its namespaces), reads ``hi`` on the stdout channel and the exit status on the error
channel, until the server closes: the time from connect to close. ``WARM`` round trips
first are not counted.

Baseline, same run: ``echo hi`` started with ``asyncio.create_subprocess_exec`` and read to
its end — what starting the process costs at all.
"""

from __future__ import annotations

import asyncio
import statistics
import time

import aiohttp
import orjson

from .client import RequestFailed, percentile, post_json
from .context import Context
from .host_pods import delete_all, kubelet_cluster, processes_gone, sleeper
from .results import Row

__all__ = ["run"]

NAMESPACE = "bench-exec"
POD = "sleeper"
TARGET_P50_MS = 50.0
WARM = 5
_TIMEOUT = 60.0
STDOUT, ERROR = 1, 3


async def _exec_once(session: aiohttp.ClientSession) -> float:
    path = f"/api/v1/namespaces/{NAMESPACE}/pods/{POD}/exec"
    query = [("command", "echo"), ("command", "hi"), ("stdout", "true")]
    started = time.perf_counter()
    output, status = b"", b""
    async with session.ws_connect(path, params=query, protocols=("v4.channel.k8s.io",)) as ws:
        async for message in ws:
            if message.type != aiohttp.WSMsgType.BINARY or not message.data:
                continue
            if message.data[0] == STDOUT:
                output += message.data[1:]
            elif message.data[0] == ERROR:
                status += message.data[1:]
    elapsed = (time.perf_counter() - started) * 1000
    if output != b"hi\n" or b"Success" not in status:
        raise RequestFailed(f"exec echo: stdout {output!r}, status {status!r}")
    return elapsed


async def _spawn_once() -> float:
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        "echo", "hi", stdout=asyncio.subprocess.PIPE, stdin=asyncio.subprocess.DEVNULL
    )
    await process.communicate()
    return (time.perf_counter() - started) * 1000


async def run(ctx: Context) -> list[Row]:
    n = max(20, ctx.sizes.log_lines // 2)
    async with kubelet_cluster(ctx.scratch / "exec-cluster", NAMESPACE) as cluster:
        path = f"/api/v1/namespaces/{NAMESPACE}/pods"
        await post_json(cluster.session, path, orjson.dumps(sleeper(POD)))
        await cluster.pods.ready(POD, timeout=_TIMEOUT)
        times = [await _exec_once(cluster.streams) for _ in range(WARM + n)][WARM:]
        baseline = [await _spawn_once() for _ in range(WARM + n)][WARM:]
        await delete_all(cluster.session, NAMESPACE, cluster.pods, timeout=_TIMEOUT)
        await processes_gone(cluster.server, timeout=30.0)
    return [_report(n, times, baseline)]


def _report(n: int, times: list[float], baseline: list[float]) -> Row:
    p50, p99 = statistics.median(times), percentile(times, 99)
    b50 = statistics.median(baseline)
    met = p50 <= TARGET_P50_MS
    print(
        f"exec round trip: {n} × exec echo over WebSocket through the API server: p50 "
        f"{p50:.1f} ms, p99 {p99:.1f} ms (target p50 ≤ {TARGET_P50_MS:.0f} ms: "
        f"{'met' if met else 'missed'})"
    )
    print(
        f"  baseline, same run: echo started directly: p50 {b50:.1f} ms; ratio p50 {p50 / b50:.1f}×"
    )
    return Row(
        "exec round trip (echo, WebSocket)",
        f"p50 {p50:.1f} ms, p99 {p99:.1f} ms",
        f"p50 ≤ {TARGET_P50_MS:.0f} ms",
        met,
        f"echo spawned directly p50 {b50:.1f} ms",
        f"{p50 / b50:.1f}",
    )
