"""Test helpers for the StatefulSet and DaemonSet controllers' tests.

- ``Kubelet``: the kubelet stand-in plus the other half of a kubelet's job that these tests
  need: a pod being deleted gracefully (one the scheduler bound) is removed at once, as a
  kubelet does when its containers have stopped. Test-only, never in the product.
- ``PodWatch``: records the order in which pods of a namespace appear and disappear, from a
  real watch, so tests can assert ordering without sampling.
- ``eventually``: poll a condition with a deadline (never a fixed sleep).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import requests
from tests.conftest import ClusterProcess
from tests.embedded.controllers.kubelet_stand_in import mark_ready

__all__ = ["Kubelet", "PodWatch", "eventually", "get_json", "session"]

T = TypeVar("T")


def session(cluster: ClusterProcess) -> requests.Session:
    """A session trusting the cluster's CA (and not ``REQUESTS_CA_BUNDLE``, which beats it)."""
    http = requests.Session()
    http.trust_env = False
    http.headers["Authorization"] = f"Bearer {cluster.token}"
    http.verify = str(cluster.ca)
    return http


def get_json(cluster: ClusterProcess, *args: str) -> Any:
    """``kubectl get ... -o json``, decoded."""
    return json.loads(cluster.kubectl("get", *args, "-o", "json"))


def eventually(probe: Callable[[], T | None], *, timeout: float = 30.0, what: str = "") -> T:
    """Call ``probe`` until it returns something truthy; fail after ``timeout`` seconds."""
    give_up = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < give_up:
        last = probe()
        if last:
            return last
        time.sleep(0.05)  # a poll interval, not a synchronisation point
    raise AssertionError(f"not reached within {timeout}s: {what or probe!r} (last: {last!r})")


def finish_terminating(cluster: ClusterProcess, namespace: str, http: requests.Session) -> None:
    """Remove pods of ``namespace`` that are being deleted, as a kubelet would."""
    base = f"{cluster.url}/api/v1/namespaces/{namespace}/pods"
    for pod in http.get(base, timeout=30).json().get("items", []):
        meta = pod["metadata"]
        if meta.get("deletionTimestamp"):
            body = {"gracePeriodSeconds": 0, "preconditions": {"uid": meta["uid"]}}
            http.delete(f"{base}/{meta['name']}", json=body, timeout=30)


class Kubelet:
    """``with Kubelet(cluster, ns):`` pods of ``ns`` become Ready and terminate at once."""

    def __init__(self, cluster: ClusterProcess, namespace: str, *, period: float = 0.05) -> None:
        self._cluster = cluster
        self._namespace = namespace
        self._period = period
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> Kubelet:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        http = session(self._cluster)
        while not self._stop.is_set():
            mark_ready(self._cluster, self._namespace, session=http)
            finish_terminating(self._cluster, self._namespace, http)
            self._stop.wait(self._period)


class PodWatch:
    """``with PodWatch(cluster, ns) as watch:`` ``watch.log`` holds (type, name, labels).

    Watches in one-second stretches, each resuming where the last ended, so that leaving the
    ``with`` block ends the thread within a second and no event is missed.
    """

    def __init__(self, cluster: ClusterProcess, namespace: str) -> None:
        self._url = f"{cluster.url}/api/v1/namespaces/{namespace}/pods"
        self._http = session(cluster)
        self.log: list[tuple[str, str, dict[str, str]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._rv = ""

    def __enter__(self) -> PodWatch:
        self._rv = self._http.get(self._url, timeout=30).json()["metadata"]["resourceVersion"]
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.is_set():
            params = {"watch": "1", "resourceVersion": self._rv, "timeoutSeconds": "1"}
            with self._http.get(self._url, params=params, stream=True, timeout=30) as response:
                for line in response.iter_lines():
                    if line:
                        self._record(json.loads(line))

    def _record(self, event: dict[str, Any]) -> None:
        meta = event["object"]["metadata"]
        self._rv = meta.get("resourceVersion") or self._rv
        if event["type"] in ("ADDED", "MODIFIED", "DELETED"):
            self.log.append((event["type"], meta["name"], meta.get("labels") or {}))

    def names(self, event_type: str) -> list[str]:
        """Pod names in the order their ``event_type`` events arrived (repeats collapsed)."""
        seen: list[str] = []
        for kind, name, _ in list(self.log):
            if kind == event_type and (not seen or seen[-1] != name):
                seen.append(name)
        return seen
