"""Pod start latency with the real kubelet: create → Running and Ready, host-process runtime.

Targets (issue): p50 at most 300 ms and p99 at most 1 s (the Kubernetes SLO is 5 s).

The server is one of its own, ``--kubelet on`` and every controller (the scheduler's binding
is part of a pod's start). ``pod_starts`` pods, each ``sleep 3600`` (``host_pods.sleeper``),
are created by ``IN_FLIGHT`` workers, each creating a pod and waiting until it is Ready
before creating its next, so a few pods start at once, as a small Deployment's would. A
pod's latency runs from just before its POST is sent until the namespace's one watch
(opened before the first create) shows it Running with Ready=True; the same watch shows
when it was bound (``spec.nodeName``) and first Running (the kubelet writes phase Running
before it spawns the container, Ready once it has started it), and a watch of the
namespace's Events when each Event about it was first written (the scheduler's ``Scheduled``, the
kubelet's ``ImagePullFallback``, ``Created`` once the process is spawned, ``Started``):
where the time goes. ``WARM_PODS`` pods started first, untimed, pay the first-use costs (the
one failed pull of ``busybox`` whose registry is then skipped for 60 s, the first
containers).

The node takes 110 pods (the kubelet's default ``--max-pods``; the scheduler reports
``Too many pods`` beyond it), so the pods start in rounds of at most ``ROUND``; between two
rounds, untimed, every pod is deleted and waited for until its process is gone.

Baseline, same run, same concurrency: the container's own start, done directly —
``asyncio.create_subprocess_exec`` of the command the kubelet runs (``setpriv --pdeathsig
KILL -- sleep 3600``, its own session, stdin from /dev/null, output piped), timed until the
spawn returns and until the process has exec'd ``sleep`` (``/proc/<pid>/exe``, looked at
every 0.5 ms), and the same without ``setpriv``; on uvloop, as the server runs. Printed
beside: the pod's versions until Ready and its Events (the writes a start costs), and the
server's CPU per start. The pods are then deleted in one request and waited for until the
watch shows none and no container process is left.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import statistics
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

import orjson

from .client import CpuMeter, RequestFailed, percentile, post_json, run_workers
from .context import Context
from .host_pods import KubeletCluster, delete_all, kubelet_cluster, processes_gone, sleeper
from .results import Row
from .watching import Object, watch_events

__all__ = ["run"]

NAMESPACE = "bench-pod-start"
TARGET_P50_MS = 300.0
TARGET_P99_MS = 1000.0
IN_FLIGHT = 4
WARM_PODS = 4
ROUND = 100  # pods running at once at most: the node's capacity is 110
_TIMEOUT = 120.0  # a crash, not a figure, beyond this
_EXEC_POLL = 0.0005
_EVENTS_LAG = 0.5
_SLEEP = shutil.which("sleep") or "/bin/sleep"
_SETPRIV = shutil.which("setpriv")


class EventTimes:
    """``perf_counter()`` when each Event reason about each pod was first seen."""

    def __init__(self) -> None:
        self.seen: dict[str, dict[str, float]] = {}

    def apply(self, kind: str, obj: Object) -> None:
        """The single step: take one event of the Events watch."""
        if kind not in ("ADDED", "MODIFIED"):
            return
        pod = (obj.get("involvedObject") or {}).get("name", "")
        self.seen.setdefault(pod, {}).setdefault(obj.get("reason") or "", time.perf_counter())


@asynccontextmanager
async def _watching_events(cluster: KubeletCluster) -> AsyncIterator[EventTimes]:
    times = EventTimes()
    path = f"/api/v1/namespaces/{cluster.namespace}/events"

    async def feed() -> None:
        async for kind, obj in watch_events(cluster.streams, path):
            times.apply(kind, obj)

    async with asyncio.TaskGroup() as tg:
        task = tg.create_task(feed())
        try:
            yield times
        finally:
            task.cancel()


@dataclass(frozen=True)
class Start:
    """One pod's start, in ms from just before its POST."""

    created: float  # the POST answered
    bound: float
    running: float
    ready: float
    writes: int  # versions of the pod until Ready: create, binding, status writes
    name: str
    sent: float  # perf_counter()


async def _start(cluster: KubeletCluster, name: str) -> Start:
    path = f"/api/v1/namespaces/{cluster.namespace}/pods"
    body = orjson.dumps(sleeper(name))
    sent = time.perf_counter()
    await post_json(cluster.session, path, body)
    created = time.perf_counter()
    stages = await cluster.pods.ready(name, timeout=_TIMEOUT)
    assert stages.bound is not None and stages.running is not None and stages.ready is not None
    return Start(
        created=(created - sent) * 1000,
        bound=(stages.bound - sent) * 1000,
        running=(stages.running - sent) * 1000,
        ready=(stages.ready - sent) * 1000,
        writes=stages.writes_until_ready,
        name=name,
        sent=sent,
    )


@dataclass(frozen=True)
class Spawn:
    """One direct start, in ms: until the spawn returned, until ``sleep`` was exec'd."""

    returned: float
    execd: float


async def _spawn(argv: Sequence[str], started: list[asyncio.subprocess.Process]) -> Spawn:
    sent = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    returned = time.perf_counter()
    started.append(process)
    deadline = returned + 10.0
    while _exe(process.pid) != _SLEEP:
        if time.perf_counter() > deadline:
            raise RequestFailed(f"{argv} did not exec {_SLEEP} within 10 s")
        await asyncio.sleep(_EXEC_POLL)
    return Spawn((returned - sent) * 1000, (time.perf_counter() - sent) * 1000)


def _exe(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return None  # not yet readable, or gone


async def _spawns(argv: Sequence[str], count: int) -> list[Spawn]:
    """``count`` direct starts of ``argv``, ``IN_FLIGHT`` at a time; all killed afterwards."""
    started: list[asyncio.subprocess.Process] = []
    try:
        return await run_workers(range(count), lambda _: _spawn(argv, started), workers=IN_FLIGHT)
    finally:
        for process in started:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        for process in started:
            await process.wait()


@dataclass(frozen=True)
class Cleared:
    pods: int
    seconds: float  # until the watch showed none
    processes_left: int


async def _clear(cluster: KubeletCluster) -> Cleared:
    """Delete every pod in one request; wait until none is left, nor its process."""
    pods = len(cluster.pods.present)
    seconds = await delete_all(cluster.session, NAMESPACE, cluster.pods, timeout=_TIMEOUT)
    return Cleared(pods, seconds, await processes_gone(cluster.server, timeout=30.0))


async def _rounds(cluster: KubeletCluster, n: int) -> tuple[list[Start], CpuMeter]:
    """``n`` timed starts in rounds of ``ROUND``, the node cleared between rounds (untimed);
    the CPU of the rounds together."""
    starts: list[Start] = []
    total = CpuMeter(cluster.server)
    for first in range(0, n, ROUND):
        if first:
            await _clear(cluster)
        names = [f"start-{i:04d}" for i in range(first, min(n, first + ROUND))]
        with CpuMeter(cluster.server) as cpu:
            starts += await run_workers(
                names, lambda name: _start(cluster, name), workers=IN_FLIGHT
            )
        total.wall += cpu.wall
        total.client_cpu += cpu.client_cpu
        total.server_cpu += cpu.server_cpu
    return starts, total


async def run(ctx: Context) -> list[Row]:
    n = ctx.sizes.pod_starts
    async with (
        kubelet_cluster(ctx.scratch / "pod-start-cluster", NAMESPACE) as cluster,
        _watching_events(cluster) as events,
    ):
        await run_workers(
            range(WARM_PODS), lambda i: _start(cluster, f"warm-{i}"), workers=IN_FLIGHT
        )
        starts, cpu = await _rounds(cluster, n)
        await asyncio.sleep(_EVENTS_LAG)  # the last Events may trail the last Ready
        timeline = _event_timeline(starts, events)
        setpriv = (
            await _spawns([_SETPRIV, "--pdeathsig", "KILL", "--", _SLEEP, "3600"], n)
            if _SETPRIV
            else []
        )
        plain = await _spawns([_SLEEP, "3600"], n)
        cleared = await _clear(cluster)
    return _report(n, starts, setpriv, plain, timeline=timeline, cpu=cpu, cleared=cleared)


def _event_timeline(starts: list[Start], events: EventTimes) -> dict[str, list[float]]:
    """For each Event reason, ms from each pod's POST until that Event was first seen."""
    timeline: dict[str, list[float]] = {}
    for start in starts:
        for reason, seen in events.seen.get(start.name, {}).items():
            timeline.setdefault(reason, []).append((seen - start.sent) * 1000)
    return timeline


def _report_events(timeline: dict[str, list[float]]) -> str:
    order = sorted(timeline, key=lambda reason: statistics.median(timeline[reason]))
    shown = ", ".join(
        f"{reason} {statistics.median(timeline[reason]):.0f} / "
        f"{percentile(timeline[reason], 99):.0f} ms ({len(timeline[reason])} pods)"
        for reason in order
    )
    return f"  Events first seen, p50 / p99 after the create: {shown or 'none'}"


def _report_breakdown(starts: list[Start], timeline: dict[str, list[float]], cpu: CpuMeter) -> None:
    n = len(starts)
    print(f"  {cpu.describe()} (rounds only); {n / cpu.wall:.1f} pods started/s")
    print(f"  the POST answered: {_stats([s.created for s in starts])}")
    print(f"  bound (spec.nodeName): {_stats([s.bound for s in starts])}")
    print(f"  Running (first shown): {_stats([s.running for s in starts])}")
    steps = [
        ("create → bound", [s.bound for s in starts]),
        ("bound → Running", [s.running - s.bound for s in starts]),
        ("Running → Ready", [s.ready - s.running for s in starts]),
    ]
    shown = "; ".join(
        f"{what} {statistics.median(v):.0f} / {percentile(v, 99):.0f} ms" for what, v in steps
    )
    print(f"  per step, p50 / p99: {shown}")
    print(_report_events(timeline))
    events = sum(len(v) for v in timeline.values()) / n
    print(
        f"  writes per pod until Ready: p50 {statistics.median([s.writes for s in starts]):.0f} "
        f"versions of the pod (create, binding, status) and {events:.1f} Events; server CPU "
        f"{cpu.server_cpu / n * 1000:.0f} ms per pod start"
    )


def _report_baselines(setpriv: list[Spawn], plain: list[Spawn]) -> None:
    for label, spawns in (("setpriv --pdeathsig KILL -- sleep", setpriv), ("sleep", plain)):
        if not spawns:
            continue
        execd = [s.execd for s in spawns]
        print(
            f"  baseline, same run: create_subprocess_exec({label} 3600), {IN_FLIGHT} at a "
            f"time: spawn returned p50 {statistics.median([s.returned for s in spawns]):.1f} ms,"
            f" sleep exec'd p50 {statistics.median(execd):.1f} ms, "
            f"p99 {percentile(execd, 99):.1f} ms"
        )


def _stats(values: Sequence[float]) -> str:
    return (
        f"p50 {statistics.median(values):.0f}, p90 {percentile(values, 90):.0f}, "
        f"p99 {percentile(values, 99):.0f}, max {max(values):.0f} ms"
    )


def _report(
    n: int,
    starts: list[Start],
    setpriv: list[Spawn],
    plain: list[Spawn],
    *,
    timeline: dict[str, list[float]],
    cpu: CpuMeter,
    cleared: Cleared,
) -> list[Row]:
    ready = [s.ready for s in starts]
    p50, p99 = statistics.median(ready), percentile(ready, 99)
    met = p50 <= TARGET_P50_MS and p99 <= TARGET_P99_MS
    print(
        f"pod start: {n} `sleep 3600` pods (host processes), {IN_FLIGHT} starting at a time "
        f"in rounds of ≤ {ROUND}, create → Running and Ready: {_stats(ready)} (target p50 ≤ "
        f"{TARGET_P50_MS:.0f} ms, p99 ≤ {TARGET_P99_MS:.0f} ms: {'met' if met else 'missed'})"
    )
    _report_breakdown(starts, timeline, cpu)
    execd = [s.execd for s in setpriv or plain]
    b50, b99 = statistics.median(execd), percentile(execd, 99)
    _report_baselines(setpriv, plain)
    print(f"  ratio to the setpriv start: p50 {p50 / b50:.0f}×, p99 {p99 / b99:.0f}×")
    print(
        f"  deletecollection of the last {cleared.pods} pods: none left after "
        f"{cleared.seconds:.2f} s; container processes left: {cleared.processes_left}"
    )
    return [
        Row(
            benchmark=f"Pod start → Ready, {n} pods ({IN_FLIGHT} at a time)",
            figure=f"p50 {p50:.0f} ms · p99 {p99:.0f} ms",
            target=f"p50 ≤ {TARGET_P50_MS:.0f} ms, p99 ≤ {TARGET_P99_MS / 1000:.0f} s",
            met=met,
            baseline=f"spawn setpriv+sleep p50 {b50:.1f} ms · p99 {b99:.1f} ms",
            ratio=f"{p50 / b50:.0f}× · {p99 / b99:.0f}×",
        )
    ]
