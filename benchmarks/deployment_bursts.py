"""1,000 Deployments created in a burst until fully reconciled, then the controllers at rest.

Targets (issue): the burst is fully reconciled in at most 60 s; with the 1,000 Deployments
in place, the controllers use under 2 % of one core at rest.

Burst. The server is one of its own, kubelet and scheduler off, with the kubelet stand-in
readying the namespace's pods. Each Deployment has one replica (the issue names no count;
one makes the burst 3,000 objects: Deployment, ReplicaSet, Pod). They are created over 16
connections as fast as the API accepts them; the clock runs from just before the first
create until a watch on the Deployments shows every one reconciled: observedGeneration =
generation and replicas = updated = ready = available = 1. Lists then check (untimed) that
each controls one ReplicaSet whose one pod exists and is Ready. Baseline, same run: 3,000
ConfigMap creates (one per object) over 16 connections on a second server that runs no
controllers (``--controllers ''``), the raw create rate of as many objects. Printed beside
them: the server's CPU per object and, as Atoll's resourceVersion counts writes, the writes
each Deployment cost (creates, status writes, Events) and the CPU per write.

At rest. The stand-in stops, the server settles (``idle_cpu.settle``), then both servers'
CPU is read over the same window: the figure is the controller server's whole process (an
upper bound of the controllers' share), the baseline the API-only server holding as many
objects (its ConfigMaps).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass

import aiohttp
import orjson

from .client import (
    CONNECTIONS,
    CpuMeter,
    ensure_namespace,
    open_session,
    percentile,
    post_json,
    run_workers,
    warm_up,
)
from .context import Context
from .idle_cpu import Settling, cpu_shares, settle
from .kubelet_stand_in import CONTROLLERS, kubelet_stand_in
from .objects import config_map, deployment
from .results import Row
from .server import ServerProcess, serving
from .watching import Object, follow, get_json

__all__ = ["run"]

NAMESPACE = "bench-burst"
TARGET_SECONDS = 60.0
TARGET_IDLE_SHARE = 0.02
OBJECTS_PER_DEPLOYMENT = 3
_DEPLOYMENTS = f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments"
_TIMEOUT = 900.0  # a crash, not a figure, beyond this


def reconciled(obj: Object) -> bool:
    """Status up to date and its one replica updated, ready and available."""
    meta, status = obj["metadata"], obj.get("status") or {}
    return status.get("observedGeneration", 0) == meta.get("generation") and all(
        status.get(field, 0) == 1
        for field in ("replicas", "updatedReplicas", "readyReplicas", "availableReplicas")
    )


@dataclass(frozen=True)
class Timed:
    """A timed phase: wall seconds from its start, the server's CPU seconds meanwhile."""

    seconds: float
    server_cpu: float
    cpu: str  # ``CpuMeter.describe()``
    writes: int | None  # how far the resourceVersion moved, where it is a number


async def _resource_version(session: aiohttp.ClientSession) -> int | None:
    """The store's resourceVersion now; Atoll's is a counter of writes (kube's is opaque)."""
    version = (await get_json(session, "/api/v1/namespaces"))["metadata"]["resourceVersion"]
    return int(version) if str(version).isdigit() else None


def _writes(before: int | None, after: int | None) -> int | None:
    return None if before is None or after is None else after - before


async def _raw_creates(server: ServerProcess, count: int) -> Timed:
    """Create ``count`` ConfigMaps over 16 connections."""
    path = f"/api/v1/namespaces/{NAMESPACE}/configmaps"
    bodies = [orjson.dumps(config_map(f"cm-{i:05d}", index=i)) for i in range(count)]
    async with open_session(server) as session:
        await warm_up(session, "bench-warm")
        await ensure_namespace(session, NAMESPACE)
        before = await _resource_version(session)
        with CpuMeter(server) as cpu:
            await run_workers(bodies, lambda body: post_json(session, path, body))
        after = await _resource_version(session)
    return Timed(cpu.wall, cpu.server_cpu, cpu.describe(), _writes(before, after))


@dataclass(frozen=True)
class Burst:
    """The timed burst: seconds from just before the first create."""

    created: float  # until the API had accepted every Deployment
    latencies: list[float]  # until each one was first seen reconciled
    reconciled: Timed  # until the watch showed every one reconciled
    readied: int  # pods the kubelet stand-in readied


async def _burst(server: ServerProcess, count: int) -> Burst:
    bodies = [orjson.dumps(deployment(f"web-{i:05d}", replicas=1, index=i)) for i in range(count)]
    async with (
        open_session(server) as session,
        open_session(server, connections=0) as watches,
        kubelet_stand_in(server, namespace=NAMESPACE) as kubelet,
    ):
        await warm_up(session, "bench-warm")
        await ensure_namespace(session, NAMESPACE)
        before = await _resource_version(session)
        async with follow(watches, _DEPLOYMENTS, reconciled) as follower:
            with CpuMeter(server) as cpu:
                start = time.perf_counter()
                await run_workers(bodies, lambda body: post_json(session, _DEPLOYMENTS, body))
                created = time.perf_counter() - start
                await follower.wait(count, timeout=_TIMEOUT, what="Deployments reconciled")
        after = await _resource_version(session)
        readied = kubelet.readied
    latencies = [t - start for t in follower.first_met.values()]
    timed = Timed(cpu.wall, cpu.server_cpu, cpu.describe(), _writes(before, after))
    return Burst(created, latencies, timed, readied)


async def _verify(server: ServerProcess) -> tuple[int, Counter[str]]:
    """(Deployments with one ReplicaSet and one Ready pod, counts of what the others lack)."""
    async with open_session(server) as session:
        deployments = (await get_json(session, _DEPLOYMENTS))["items"]
        sets = await get_json(session, f"/apis/apps/v1/namespaces/{NAMESPACE}/replicasets")
        pods = (await get_json(session, f"/api/v1/namespaces/{NAMESPACE}/pods"))["items"]
    sets_of: dict[str, list[Object]] = {}
    for rs in sets["items"]:
        for ref in rs["metadata"].get("ownerReferences") or ():
            sets_of.setdefault(ref["uid"], []).append(rs)
    ready_pods_of = Counter(
        ref["uid"]
        for pod in pods
        if _is_ready(pod)
        for ref in pod["metadata"].get("ownerReferences") or ()
    )
    problems: Counter[str] = Counter()
    for obj in deployments:
        owned = sets_of.get(obj["metadata"]["uid"], [])
        if len(owned) != 1:
            problems[f"{len(owned)} ReplicaSets"] += 1
        elif ready_pods_of[owned[0]["metadata"]["uid"]] != 1:
            problems[f"{ready_pods_of[owned[0]['metadata']['uid']]} ready pods"] += 1
    return len(deployments) - sum(problems.values()), problems


def _is_ready(pod: Object) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or ()
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


async def run(ctx: Context) -> list[Row]:
    n = ctx.sizes.deployments
    with (
        serving(ctx.scratch / "api-only-cluster", controllers="", kubelet=False) as api_only,
        serving(ctx.scratch / "burst-cluster", controllers=CONTROLLERS, kubelet=False) as server,
    ):
        raw = await _raw_creates(api_only, OBJECTS_PER_DEPLOYMENT * n)
        burst = await _burst(server, n)
        verified, problems = await _verify(server)
        settling = await settle(server)
        idle, api_idle = await cpu_shares([server, api_only], ctx.sizes.idle_seconds)
    return [
        _report_burst(n, burst, raw, verified=verified, problems=problems),
        _report_idle(ctx, idle, api_idle, settling),
    ]


def _report_burst(
    n: int, burst: Burst, raw: Timed, *, verified: int, problems: Counter[str]
) -> Row:
    total = burst.reconciled.seconds
    met = total <= TARGET_SECONDS and not problems
    raw_count = OBJECTS_PER_DEPLOYMENT * n
    p50, p90 = percentile(burst.latencies, 50), percentile(burst.latencies, 90)
    print(
        f"deployment burst: {n:,} one-replica Deployments created over {CONNECTIONS} "
        f"connections in {burst.created:.1f} s ({n / burst.created:,.0f}/s), all reconciled "
        f"{total:.1f} s after the first create (target ≤ {TARGET_SECONDS:.0f} s: "
        f"{'met' if met else 'missed'})"
    )
    print(
        f"  each reconciled after: p50 {p50:.1f} s, p90 {p90:.1f} s, last {total:.1f} s; "
        f"server: --kubelet off --controllers '{CONTROLLERS}', the kubelet stand-in readied "
        f"{burst.readied:,} pods"
    )
    print(f"  {burst.reconciled.cpu}; {_per_write(burst.reconciled, n, 'Deployment')}")
    print(
        f"  checked by lists: {verified:,} of {n:,} Deployments control one ReplicaSet "
        f"whose one pod is Ready{f'; the others: {dict(problems)}' if problems else ''}"
    )
    print(
        f"  baseline, same run: {raw_count:,} ConfigMap creates over {CONNECTIONS} connections "
        f"on a server without controllers: {raw.seconds:.1f} s ({raw_count / raw.seconds:,.0f}/s)"
        f"; ratio {total / raw.seconds:.1f}×"
    )
    print(f"  {raw.cpu}; {_per_write(raw, raw_count, 'ConfigMap')}")
    return Row(
        benchmark=f"Burst of {n:,} Deployments reconciled",
        figure=f"{total:.1f} s (creates {burst.created:.1f} s)",
        target=f"≤ {TARGET_SECONDS:.0f} s",
        met=met,
        baseline=f"{raw_count:,} ConfigMap creates {raw.seconds:.1f} s",
        ratio=f"{total / raw.seconds:.1f}×",
    )


def _per_write(timed: Timed, objects: int, kind: str) -> str:
    """Server CPU per object and, where the writes could be counted, per write."""
    per_object = f"server CPU {timed.server_cpu / objects * 1000:.1f} ms per {kind}"
    if not timed.writes:
        return per_object
    return (
        f"{per_object}, {timed.writes:,} writes ({timed.writes / objects:.1f} per {kind}, "
        f"{timed.server_cpu / timed.writes * 1000:.2f} ms each)"
    )


def _report_idle(ctx: Context, idle: float, api_idle: float, settling: Settling) -> Row:
    n, seconds = ctx.sizes.deployments, ctx.sizes.idle_seconds
    met = idle < TARGET_IDLE_SHARE
    ratio = f"{idle / api_idle:.1f}×" if api_idle > 0 else "n/a (baseline 0)"
    print(
        f"controllers at rest: the server holding {n:,} Deployments used {idle:.2%} of one core "
        f"over {seconds:.0f} s (target < {TARGET_IDLE_SHARE:.0%}: {'met' if met else 'missed'}); "
        f"it {settling.describe()}"
    )
    print(
        f"  baseline, same window: the server without controllers holding "
        f"{OBJECTS_PER_DEPLOYMENT * n:,} ConfigMaps used {api_idle:.2%}; the controllers' share "
        f"is about {max(0.0, idle - api_idle):.2%}; ratio {ratio}"
    )
    return Row(
        benchmark=f"Server CPU at rest, {n:,} Deployments",
        figure=f"{idle:.2%} of a core",
        target=f"< {TARGET_IDLE_SHARE:.0%}",
        met=met,
        baseline=f"no controllers {api_idle:.2%}",
        ratio=ratio,
    )
