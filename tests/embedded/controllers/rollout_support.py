"""Helpers for the Deployment and ReplicaSet controllers' tests (test-only).

- ``Api``: plain HTTP calls to the test cluster (JSON in, JSON out).
- ``eventually``: poll with a deadline, never a fixed sleep.
- ``Watcher``: a real watch of one collection in a background thread; it keeps the current
  objects and calls an observer after every event, so a test can check an invariant at
  every step of a rollout instead of sampling it.
- ``mark_pod_ready``: what a kubelet would write for one Pod, with a chosen Ready time.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from tests.conftest import ClusterProcess
from tests.embedded.controllers.kubelet_stand_in import session
from tests.waiting import eventually

__all__ = ["Api", "Watcher", "eventually", "mark_pod_ready"]

T = TypeVar("T")
Observer = Callable[[str, dict[str, Any], dict[str, dict[str, Any]]], None]


class Api:
    """JSON over HTTP to the test cluster; non-2xx answers raise with the Status text."""

    def __init__(self, cluster: ClusterProcess) -> None:
        self.cluster = cluster
        self.http = session(cluster)

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, self.cluster.url + path, timeout=30, **kwargs)
        if response.status_code >= 300:
            raise AssertionError(f"{method} {path}: {response.status_code} {response.text}")
        return response.json()

    def get(self, path: str, **params: str) -> Any:
        return self._call("GET", path, params=params)

    def create(self, path: str, body: dict[str, Any]) -> Any:
        return self._call("POST", path, json=body)

    def replace(self, path: str, body: dict[str, Any]) -> Any:
        return self._call("PUT", path, json=body)

    def merge_patch(self, path: str, body: dict[str, Any]) -> Any:
        headers = {"Content-Type": "application/merge-patch+json"}
        return self._call("PATCH", path, data=json.dumps(body), headers=headers)

    def delete(self, path: str) -> Any:
        return self._call("DELETE", path)

    def items(self, path: str, **params: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self.get(path, **params)["items"]
        return items


def mark_pod_ready(api: Api, pod: dict[str, Any], *, ready_since: datetime) -> None:
    """Write Running and Ready (since ``ready_since``) to one Pod's status."""
    stamp = ready_since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    meta = pod["metadata"]
    status = {
        "phase": "Running",
        "conditions": [
            {"type": t, "status": "True", "lastProbeTime": None, "lastTransitionTime": stamp}
            for t in ("Initialized", "Ready", "ContainersReady", "PodScheduled")
        ],
    }
    path = f"/api/v1/namespaces/{meta['namespace']}/pods/{meta['name']}/status"
    api.replace(path, {**api.get(path), "status": status})


class Watcher:
    """``with Watcher(api, path, observer):`` watches ``path`` until the block ends."""

    def __init__(self, api: Api, path: str, observer: Observer | None = None) -> None:
        self._api = api
        self._path = path
        self._observer = observer
        self.objects: dict[str, dict[str, Any]] = {}
        self.events: list[tuple[str, dict[str, Any]]] = []
        self._started = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Watcher:
        listed = self._api.get(self._path)
        for item in listed["items"]:
            self.objects[item["metadata"]["name"]] = item
        self._rv = listed["metadata"]["resourceVersion"]
        self._thread.start()
        if not self._started.wait(10):
            raise AssertionError(f"the watch of {self._path} did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        """Watch in one-second stretches, resuming from the last resourceVersion seen, so
        the thread notices ``__exit__`` without closing a socket under a blocked read."""
        url = self._api.cluster.url + self._path
        while not self._stop.is_set():
            params = {"watch": "1", "resourceVersion": self._rv, "timeoutSeconds": "1"}
            with self._api.http.get(url, params=params, stream=True, timeout=30) as response:
                self._started.set()
                for line in response.iter_lines():
                    if line:
                        self._apply(json.loads(line))

    def _apply(self, event: dict[str, Any]) -> None:
        kind, obj = event["type"], event["object"]
        name = obj["metadata"]["name"]
        if kind == "DELETED":
            self.objects.pop(name, None)
        else:
            self.objects[name] = obj
        self.events.append((kind, obj))
        self._rv = obj["metadata"]["resourceVersion"]
        if self._observer is not None:
            self._observer(kind, obj, self.objects)
