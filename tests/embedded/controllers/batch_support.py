"""Test helpers for the batch, autoscaling, disruption and quota controllers' tests.

- ``Api``: a small ``requests`` client of a test cluster (get/post/put/delete JSON).
- ``finish_pod``: what a kubelet writes when a pod's container exits (phase Succeeded or
  Failed, a terminated container state with ``finishedAt``).
- ``eventually``: poll a function until it returns something truthy, with a deadline.
- ``in_process``: run chosen controllers in the test's event loop on a ``ManualClock``,
  against a cluster whose own copies of them are switched off, so time-based behaviour
  (schedules, deadlines, back-off, TTLs) is driven by ``clock.advance()``, never by waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import requests
from tests.conftest import ClusterProcess, start_cluster
from tests.waiting import eventually

from atoll.controllers.clocks import ManualClock
from atoll.controllers.runtime import Controller, ControllerManager
from atoll.kube.client import KubeClient
from atoll.kube.events import EventRecorder
from atoll.kube.informers import InformerFactory
from atoll.kube.kubeconfig import ClusterConfig

__all__ = [
    "Api",
    "eventually",
    "eventually_async",
    "finish_pod",
    "in_process",
    "mark_running",
    "start_cluster_without",
]

T = TypeVar("T")


class Api:
    """JSON over HTTP to a test cluster; ``path`` is an API path such as ``/api/v1/pods``."""

    def __init__(self, cluster: ClusterProcess) -> None:
        self.cluster = cluster
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {cluster.token}"
        # Given with every request: a REQUESTS_CA_BUNDLE in the environment beats session.verify.
        self.verify = str(cluster.ca)

    def request(self, method: str, path: str, body: Any = None, **params: str) -> Any:
        response = self.session.request(
            method,
            self.cluster.url + path,
            json=body,
            params=params,
            timeout=30,
            verify=self.verify,
        )
        answer = response.json() if response.content else None
        if response.status_code >= 400:
            raise AssertionError(f"{method} {path} -> {response.status_code}: {answer}")
        return answer

    def status_of(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """(HTTP status, decoded body) without raising."""
        response = self.session.request(
            method, self.cluster.url + path, json=body, timeout=30, verify=self.verify
        )
        return response.status_code, response.json() if response.content else None

    def get(self, path: str, **params: str) -> Any:
        return self.request("GET", path, **params)

    def get_or_none(self, path: str) -> Any:
        code, body = self.status_of("GET", path)
        return None if code == 404 else body

    def post(self, path: str, body: Any) -> Any:
        return self.request("POST", path, body)

    def put(self, path: str, body: Any) -> Any:
        return self.request("PUT", path, body)

    def patch(self, path: str, body: Any) -> Any:
        response = self.session.patch(
            self.cluster.url + path,
            json=body,
            headers={"Content-Type": "application/merge-patch+json"},
            timeout=30,
            verify=self.verify,
        )
        assert response.status_code < 400, response.text
        return response.json()

    def delete(self, path: str) -> Any:
        return self.request("DELETE", path, {"propagationPolicy": "Background"})

    def pods(self, namespace: str, selector: str = "") -> list[dict[str, Any]]:
        listed = self.get(f"/api/v1/namespaces/{namespace}/pods", labelSelector=selector)
        return list(listed["items"])

    def events(self, namespace: str, name: str) -> list[tuple[str, str, str]]:
        """(type, reason, message) of the Events about object ``name``."""
        listed = self.get(f"/api/v1/namespaces/{namespace}/events")
        return [
            (e.get("type", ""), e.get("reason", ""), e.get("message", ""))
            for e in listed["items"]
            if e["involvedObject"].get("name") == name
        ]


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def finish_pod(api: Api, pod: dict[str, Any], phase: str, *, when: str | None = None) -> None:
    """Write a terminal phase to ``pod``'s status, as the kubelet does when it exits.

    Reads the pod first and retries on a conflict: the scheduler may be binding it meanwhile.
    """
    meta = pod["metadata"]
    path = f"/api/v1/namespaces/{meta['namespace']}/pods/{meta['name']}"
    for _ in range(20):
        live = api.get(path)
        live["status"] = _terminated(live, phase, when or _now())
        code, body = api.status_of("PUT", f"{path}/status", live)
        if code == 200:
            return
        assert code == 409, body
    raise AssertionError(f"could not finish pod {meta['name']}: conflicts all along")


def mark_running(api: Api, namespace: str, name: str) -> None:
    """Phase Running and condition Ready, as a kubelet reports a started pod (retried on
    conflicts with the scheduler)."""
    path = f"/api/v1/namespaces/{namespace}/pods/{name}"
    for _ in range(20):
        live = api.get(path)
        live["status"] = {
            **(live.get("status") or {}),
            "phase": "Running",
            "startTime": _now(),
            "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": _now()}],
        }
        code, body = api.status_of("PUT", f"{path}/status", live)
        if code == 200:
            return
        assert code == 409, body
    raise AssertionError(f"could not mark pod {name} running: conflicts all along")


def _terminated(pod: dict[str, Any], phase: str, stamp: str) -> dict[str, Any]:
    code = 0 if phase == "Succeeded" else 1
    return {
        **(pod.get("status") or {}),
        "phase": phase,
        "conditions": [
            {"type": "Ready", "status": "False", "lastTransitionTime": stamp},
        ],
        "containerStatuses": [
            {
                "name": c["name"],
                "image": c.get("image", ""),
                "imageID": "",
                "ready": False,
                "restartCount": 0,
                "state": {"terminated": {"exitCode": code, "finishedAt": stamp}},
            }
            for c in pod["spec"]["containers"]
        ],
    }


async def eventually_async(
    probe: Callable[[], T | None], *, timeout: float = 20.0, nudge: ManualClock | None = None
) -> T:
    """``eventually`` for tests whose controllers run in the same event loop.

    With ``nudge``, each poll moves that clock on by 10 ms, so retries the controllers
    scheduled after a conflict (a back-off of a few ms on the manual clock) still happen.
    """
    give_up = time.monotonic() + timeout
    while True:
        value = await asyncio.to_thread(probe)
        if value:
            return value
        if time.monotonic() > give_up:
            raise AssertionError(f"not reached within {timeout}s; last value {value!r}")
        if nudge is not None:
            nudge.advance(0.01)
        await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def in_process(
    cluster: ClusterProcess,
    factories: Sequence[Callable[[ManualClock], Controller]],
    *,
    clock: ManualClock | None = None,
) -> AsyncIterator[ManualClock]:
    """Run controllers made by ``factories`` on a ManualClock that starts at the real now.

    Events keep real timestamps: their names derive from the time, and a clock that stands
    still would give two Events of one object the same name.
    """
    clock = clock or ManualClock(start=datetime.now(UTC))
    async with KubeClient(ClusterConfig.from_kubeconfig(cluster.kubeconfig)) as client:
        manager = ControllerManager(
            [factory(clock) for factory in factories],
            client=client,
            informers=InformerFactory(client),
            clock=clock,
            events=lambda name: EventRecorder(client, f"{name}-controller"),
            backoff_base=0.01,
            backoff_max=0.1,
        )
        running = asyncio.create_task(manager.run())
        try:
            yield clock
        finally:
            manager.stop()
            await asyncio.wait_for(running, 30)


def start_cluster_without(data_dir: Path, *names: str) -> ClusterProcess:
    """A cluster whose own controllers ``names`` are off (a test runs them in process)."""
    selection = ",".join(["*", *(f"-{name}" for name in names)])
    return start_cluster(data_dir, settings={"CONTROLLERS": selection})
