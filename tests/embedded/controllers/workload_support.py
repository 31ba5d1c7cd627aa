"""Test helpers for the StatefulSet and DaemonSet controllers' tests.

- ``PodWatch``: records the order in which pods of a namespace appear and disappear, from a
  real watch, so tests can assert ordering without sampling.
- ``eventually``: poll a condition with a deadline (never a fixed sleep).
"""

from __future__ import annotations

import json
import threading
from typing import Any, TypeVar

from tests.conftest import ClusterProcess
from tests.embedded.controllers.kubelet_stand_in import session
from tests.waiting import eventually

__all__ = ["PodWatch", "eventually", "get_json"]

T = TypeVar("T")


def get_json(cluster: ClusterProcess, *args: str) -> Any:
    """``kubectl get ... -o json``, decoded."""
    return json.loads(cluster.kubectl("get", *args, "-o", "json"))


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
