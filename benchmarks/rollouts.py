"""A 100-replica Deployment rolling to a new template, beside the raw pod work it must do.

Target (issue): the rollout completes in at most 10 s. The server is one of its own,
kubelet and scheduler off (``--controllers '*,-scheduler'``), with the kubelet stand-in
readying the namespace's pods. The Deployment uses the default RollingUpdate strategy
(25 % surge, 25 % unavailable). Once all its pods are available, its template gets a new
annotation (as ``kubectl rollout restart`` does) and the clock runs from just before that
PATCH until a watch shows the Deployment rolled out by ``kubectl rollout status``'s rule:
observedGeneration ≥ generation, updatedReplicas ≥ spec.replicas, no old replicas left
(replicas ≤ updatedReplicas) and availableReplicas ≥ updatedReplicas. Repeated
``rollouts`` times; the median is the figure.

Baseline, same server, same run: the pod writes a rollout cannot do without, done directly
over 16 connections — create ``replicas`` pods from the same template, ready each (a status
patch) and delete each. The controllers' own writes (ReplicaSet and Deployment status,
Events) come on top of that in the rollout.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import aiohttp
import orjson

from .client import (
    CONNECTIONS,
    JSON,
    CpuMeter,
    RequestFailed,
    ensure_namespace,
    open_session,
    post_json,
    run_workers,
    warm_up,
)
from .context import Context
from .kubelet_stand_in import CONTROLLERS, MERGE_PATCH, kubelet_stand_in, ready_status
from .objects import deployment
from .results import Row
from .server import serving
from .watching import Object, follow

__all__ = ["rolled_out", "run"]

NAMESPACE = "bench-rollout"
RAW_NAMESPACE = "bench-rollout-raw"
TARGET_SECONDS = 10.0
NAME = "web"
_DEPLOYMENTS = f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments"
_TIMEOUT = 300.0  # a crash, not a figure, beyond this


def rolled_out(deployment: Object) -> bool:
    """``kubectl rollout status``'s rule (Kubernetes 1.20), the deadline check aside."""
    meta, spec, status = (deployment.get(k) or {} for k in ("metadata", "spec", "status"))
    replicas = spec.get("replicas", 1)
    updated = status.get("updatedReplicas", 0)
    return bool(
        status.get("observedGeneration", 0) >= meta.get("generation", 0)
        and updated >= replicas
        and status.get("replicas", 0) <= updated
        and status.get("availableReplicas", 0) >= updated
    )


async def _until_rolled_out(watches: aiohttp.ClientSession, generation: int) -> float:
    """``perf_counter()`` once the Deployment at ``generation`` (or later) is rolled out."""

    def done(obj: Object) -> bool:
        return bool(obj["metadata"].get("generation", 0) >= generation and rolled_out(obj))

    params = {"fieldSelector": f"metadata.name={NAME}"}
    async with follow(watches, _DEPLOYMENTS, done, params=params) as follower:
        return await follower.wait(1, timeout=_TIMEOUT, what=f"Deployment {NAME} rolled out")


async def _patch(session: aiohttp.ClientSession, path: str, patch: dict[str, Any]) -> Object:
    async with session.patch(path, data=orjson.dumps(patch), headers=MERGE_PATCH) as resp:
        body = await resp.read()
        if resp.status != 200:
            raise RequestFailed(f"PATCH {path}: {resp.status} {body[:300]!r}")
    result: Object = orjson.loads(body)
    return result


async def _roll(session: aiohttp.ClientSession, watches: aiohttp.ClientSession, run: int) -> float:
    """Change the template once; the seconds until the rollout is complete."""
    annotation = {"bench.atoll.dev/rollout": str(run)}
    patch = {"spec": {"template": {"metadata": {"annotations": annotation}}}}
    start = time.perf_counter()
    patched = await _patch(session, f"{_DEPLOYMENTS}/{NAME}", patch)
    return await _until_rolled_out(watches, patched["metadata"]["generation"]) - start


async def _raw_pod_work(session: aiohttp.ClientSession, template: Object, run: int) -> float:
    """Create, ready and delete ``replicas`` pods directly; the seconds it took."""
    base = f"/api/v1/namespaces/{RAW_NAMESPACE}/pods"
    count = template["spec"]["replicas"]
    pod = {"apiVersion": "v1", "kind": "Pod", **template["spec"]["template"]}
    pod["metadata"] = {**pod["metadata"], "labels": {"app": "raw"}}
    names = [f"raw-{run}-{i:04d}" for i in range(count)]
    bodies = [orjson.dumps({**pod, "metadata": {**pod["metadata"], "name": n}}) for n in names]
    statuses = [orjson.dumps({"status": ready_status(pod, index=i)}) for i in range(count)]

    async def work(i: int) -> None:
        await post_json(session, base, bodies[i])
        path = f"{base}/{names[i]}"
        async with session.patch(f"{path}/status", data=statuses[i], headers=MERGE_PATCH) as r:
            if r.status != 200:
                raise RequestFailed(f"status of {path}: {r.status} {await r.text()}")
        async with session.delete(path, headers=JSON) as r:
            if r.status != 200:
                raise RequestFailed(f"DELETE {path}: {r.status} {await r.text()}")

    start = time.perf_counter()
    await run_workers(range(count), work)
    return time.perf_counter() - start


async def run(ctx: Context) -> list[Row]:
    replicas = ctx.sizes.rollout_replicas
    template = deployment(NAME, replicas=replicas, index=0)
    data_dir = ctx.scratch / "rollout-cluster"
    with serving(data_dir, controllers=CONTROLLERS, kubelet=False) as server:
        async with (
            open_session(server) as session,
            open_session(server, connections=0) as watches,
            kubelet_stand_in(server, namespace=NAMESPACE) as kubelet,
        ):
            await warm_up(session, "bench-warm")
            for name in (NAMESPACE, RAW_NAMESPACE):
                await ensure_namespace(session, name)
            start = time.perf_counter()
            await post_json(session, _DEPLOYMENTS, orjson.dumps(template))
            first = await _until_rolled_out(watches, 1) - start
            times: list[float] = []
            with CpuMeter(server) as cpu:
                for i in range(ctx.sizes.rollouts):
                    times.append(await _roll(session, watches, i))
            base = [await _raw_pod_work(session, template, i) for i in range(ctx.sizes.rollouts)]
            readied, removed = kubelet.readied, kubelet.removed
    return _report(ctx, times, base, first=first, cpu=cpu, readied=readied, removed=removed)


def _report(
    ctx: Context,
    times: list[float],
    base: list[float],
    *,
    first: float,
    cpu: CpuMeter,
    readied: int,
    removed: int,
) -> list[Row]:
    replicas = ctx.sizes.rollout_replicas
    median, base_median = statistics.median(times), statistics.median(base)
    runs = ", ".join(f"{t:.2f}" for t in times)
    print(
        f"rollout: a {replicas}-replica Deployment (RollingUpdate 25 %/25 %) rolled to a new "
        f"template in median {median:.2f} s (runs: {runs} s) (target ≤ {TARGET_SECONDS:.0f} s: "
        f"{'met' if median <= TARGET_SECONDS else 'missed'})"
    )
    print(f"  {cpu.describe()}")
    print(
        f"  first roll-out from nothing to {replicas} available: {first:.2f} s; server: "
        f"--kubelet off --controllers '{CONTROLLERS}', the kubelet stand-in readied {readied} "
        f"pods and removed {removed}"
    )
    print(
        f"  baseline, same server: create + ready + delete {replicas} pods directly over "
        f"{CONNECTIONS} connections: median {base_median:.2f} s; ratio {median / base_median:.1f}×"
    )
    return [
        Row(
            benchmark=f"Rollout of a {replicas}-replica Deployment",
            figure=f"median {median:.2f} s",
            target=f"≤ {TARGET_SECONDS:.0f} s",
            met=median <= TARGET_SECONDS,
            baseline=f"create+ready+delete {replicas} pods {base_median:.2f} s",
            ratio=f"{median / base_median:.1f}×",
        )
    ]
