"""Pods the real kubelet runs as host processes: the sleeper pod, a watch of each pod's
milestones, and the cleanup every kubelet benchmark ends with.

The kubelet benchmarks run a server of their own with ``--kubelet on`` and every controller
(the scheduler's binding is part of a pod's start). Their pods ask for the ``busybox``
image, which cannot be pulled here: the kubelet's first pull attempt fails within a few
milliseconds, the registry is then skipped for 60 s, and the command runs on the host
(``sleep`` from the host's PATH). ``terminationGracePeriodSeconds: 0`` makes a delete
immediate, so cleanup is one deletecollection.

``kubelet_cluster`` gives a benchmark that server, warmed up, its Node Ready and the
benchmark's namespace watched. ``PodWatch`` is that one watch (``watching.watch_events``),
opened before the first create; for each pod it keeps the ``perf_counter()`` of the first
event showing it bound (``spec.nodeName``), Running, and Running with Ready=True, and how
many versions of it were seen. A benchmark awaits a pod's readiness on a future that the
watch resolves, never by polling the API. ``processes_gone`` checks that no container
outlives its pod: a container's main process is a child of the server.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from .client import JSON, RequestFailed, ensure_namespace, open_session, warm_up
from .server import ServerProcess, serving
from .watching import RELISTED, Object, follow, watch_events

__all__ = [
    "KubeletCluster",
    "Milestones",
    "PodWatch",
    "child_processes",
    "delete_all",
    "host_pod",
    "is_ready",
    "kubelet_cluster",
    "processes_gone",
    "ready_node",
    "sleeper",
    "watching_pods",
]

IMAGE = "busybox"  # not pullable here: the command runs on the host
_NODE_TIMEOUT = 60.0


def host_pod(name: str, command: Sequence[str]) -> dict[str, Any]:
    """A one-container pod running ``command`` on the host, deleted without a grace period."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "bench-host"}},
        "spec": {
            "terminationGracePeriodSeconds": 0,
            "containers": [{"name": "main", "image": IMAGE, "command": list(command)}],
        },
    }


def sleeper(name: str) -> dict[str, Any]:
    return host_pod(name, ["sleep", "3600"])


def is_ready(pod: Object) -> bool:
    status = pod.get("status") or {}
    conditions = status.get("conditions") or ()
    return status.get("phase") == "Running" and any(
        c.get("type") == "Ready" and c.get("status") == "True" for c in conditions
    )


@dataclass
class Milestones:
    """``perf_counter()`` of the first event showing each stage of one pod's start."""

    bound: float | None = None
    running: float | None = None
    ready: float | None = None
    last: Object | None = None  # the newest state seen, to show if it never gets Ready
    writes: int = 0  # versions of the pod seen (its create, binding, status writes)
    writes_until_ready: int = 0
    done: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class PodWatch:
    """Every pod of one namespace and its start milestones, kept current by a watch."""

    def __init__(self) -> None:
        self.pods: dict[str, Milestones] = {}
        self.present: set[str] = set()
        self._changed = asyncio.Event()

    def of(self, name: str) -> Milestones:
        return self.pods.setdefault(name, Milestones())

    def apply(self, kind: str, obj: Object) -> None:
        """The single step: take one event into the milestones."""
        now = time.perf_counter()
        self._changed.set()
        if kind == RELISTED:
            self.present.clear()
            return
        name = obj["metadata"]["name"]
        if kind == "DELETED":
            self.present.discard(name)
            return
        self.present.add(name)
        stages = self.of(name)
        stages.last = obj
        stages.writes += 1
        if stages.bound is None and (obj.get("spec") or {}).get("nodeName"):
            stages.bound = now
        if stages.running is None and (obj.get("status") or {}).get("phase") == "Running":
            stages.running = now
        if stages.ready is None and is_ready(obj):
            stages.ready = now
            stages.writes_until_ready = stages.writes
            stages.done.set_result(None)

    async def ready(self, name: str, *, timeout: float) -> Milestones:
        """Until the watch has shown ``name`` Running and Ready."""
        stages = self.of(name)
        try:
            await asyncio.wait_for(asyncio.shield(stages.done), timeout)
        except TimeoutError:
            status = (stages.last or {}).get("status")
            raise RequestFailed(
                f"pod {name} not Ready after {timeout:.0f} s; its last status seen: {status}"
            ) from None
        return stages

    async def empty(self, *, timeout: float) -> None:
        """Until the watch shows no pod left in the namespace."""
        deadline = time.monotonic() + timeout
        while self.present:
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                raise RequestFailed(
                    f"{len(self.present)} pods still there after {timeout:.0f} s"
                ) from None


@asynccontextmanager
async def watching_pods(session: aiohttp.ClientSession, namespace: str) -> AsyncIterator[PodWatch]:
    """A ``PodWatch`` of ``namespace`` for the block, its first list already taken."""
    watch = PodWatch()
    listed = asyncio.Event()

    async def feed() -> None:
        async for kind, obj in watch_events(session, f"/api/v1/namespaces/{namespace}/pods"):
            watch.apply(kind, obj)
            listed.set()

    async with asyncio.TaskGroup() as tg:
        task = tg.create_task(feed())
        try:
            await listed.wait()
            yield watch
        finally:
            task.cancel()


async def delete_all(
    session: aiohttp.ClientSession, namespace: str, watch: PodWatch, *, timeout: float
) -> float:
    """Delete the namespace's pods in one request; seconds until the watch shows none."""
    start = time.perf_counter()
    async with session.delete(f"/api/v1/namespaces/{namespace}/pods", headers=JSON) as resp:
        if resp.status != 200:
            raise RequestFailed(f"deletecollection in {namespace}: {resp.status}")
    await watch.empty(timeout=timeout)
    return time.perf_counter() - start


def child_processes(server: ServerProcess) -> list[int]:
    """The server's child processes: a host-process container's main process is one (its
    ``setpriv`` wrapper execs the command in place)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # exited while we looked
        if int(stat.rsplit(")", 1)[1].split()[1]) == server.pid:
            found.append(int(entry.name))
    return found


async def processes_gone(server: ServerProcess, *, timeout: float) -> int:
    """Wait (polling /proc, with a deadline) until the server has no child process; how many
    are left at the deadline."""
    deadline = time.monotonic() + timeout
    while (left := child_processes(server)) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    return len(left)


@dataclass(frozen=True)
class KubeletCluster:
    """A server with its kubelet on, its sessions, and the watch of the benchmark's pods."""

    server: ServerProcess
    session: aiohttp.ClientSession  # 16 connections, for requests
    streams: aiohttp.ClientSession  # one connection per stream: watches, log follows
    pods: PodWatch
    namespace: str
    node: str  # the kubelet's Node, Ready


def _node_ready(node: Object) -> bool:
    conditions = (node.get("status") or {}).get("conditions") or ()
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


async def ready_node(session: aiohttp.ClientSession, *, timeout: float) -> str:
    """The name of a Node a watch shows Ready (the kubelet registers its own at start)."""
    async with follow(session, "/api/v1/nodes", _node_ready) as nodes:
        await nodes.wait(1, timeout=timeout, what="Nodes Ready")
        return next(iter(nodes.met))


@asynccontextmanager
async def kubelet_cluster(
    data_dir: Path, namespace: str, *, max_pods: int | None = None
) -> AsyncIterator[KubeletCluster]:
    """A server of its own (``--kubelet on``, every controller), warmed up, with ``namespace``
    created and watched, its Node Ready; stopped when the block ends, which stops every
    container left."""
    # Its own bridge and pod range, and free ingress ports: it may run beside ``make run``.
    settings = {
        "BRIDGE": "atollbench0",
        "POD_CIDR": "10.243.0.0/16",
        "INGRESS_HTTP_PORT": "0",
        "INGRESS_HTTPS_PORT": "0",
        **({"MAX_PODS": str(max_pods)} if max_pods is not None else {}),
    }
    with serving(data_dir, kubelet=True, settings=settings) as server:
        async with open_session(server) as session, open_session(server, connections=0) as streams:
            await warm_up(session, "bench-warm")
            await ensure_namespace(session, namespace)
            node = await ready_node(streams, timeout=_NODE_TIMEOUT)
            async with watching_pods(streams, namespace) as pods:
                yield KubeletCluster(server, session, streams, pods, namespace, node)
