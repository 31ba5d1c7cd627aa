"""A test-only stand-in for the kubelet: marks pods Running and Ready (never in the product).

Controllers' tests need pods that become Ready without anything running them. The
stand-in writes what a kubelet would write to ``pods/status``: phase Running, a pod IP,
the four pod conditions and a ready status per container. ``KubeletStandIn`` keeps doing
that for new pods of a namespace (those a label selector picks) in a background thread
until the ``with`` block ends; asked to, it also does the other half of a kubelet's job
that workload tests need: a pod being deleted gracefully is removed at once, as a kubelet
does when its containers have stopped.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import requests
from tests.conftest import ClusterProcess

__all__ = ["KubeletStandIn", "finish_terminating", "mark_ready", "session"]


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def session(cluster: ClusterProcess) -> requests.Session:
    """A session trusting the cluster's CA (and not ``REQUESTS_CA_BUNDLE``, which beats it)."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {cluster.token}"
    session.verify = str(cluster.ca)
    session.trust_env = False  # requests would prefer REQUESTS_CA_BUNDLE over .verify
    return session


def _ready_status(pod: dict[str, Any], index: int) -> dict[str, Any]:
    now = _now()
    containers = (pod.get("spec") or {}).get("containers") or []
    return {
        **(pod.get("status") or {}),
        "phase": "Running",
        "podIP": f"10.244.0.{index % 250 + 2}",
        "podIPs": [{"ip": f"10.244.0.{index % 250 + 2}"}],
        "hostIP": "127.0.0.1",
        "startTime": now,
        "conditions": [
            {"type": t, "status": "True", "lastProbeTime": None, "lastTransitionTime": now}
            for t in ("Initialized", "Ready", "ContainersReady", "PodScheduled")
        ],
        "containerStatuses": [
            {
                "name": c["name"],
                "image": c.get("image", ""),
                "imageID": "",
                "ready": True,
                "started": True,
                "restartCount": 0,
                "state": {"running": {"startedAt": now}},
            }
            for c in containers
        ],
    }


def mark_ready(
    cluster: ClusterProcess,
    namespace: str,
    *,
    label_selector: str = "",
    http: requests.Session | None = None,
) -> int:
    """Mark every not-yet-ready pod of ``namespace`` Running and Ready; return how many."""
    http = http or session(cluster)
    base = f"{cluster.url}/api/v1/namespaces/{namespace}/pods"
    listed = http.get(base, params={"labelSelector": label_selector}, timeout=30).json()
    marked = 0
    for index, pod in enumerate(listed.get("items", [])):
        status = pod.get("status") or {}
        if status.get("phase") == "Running" or pod["metadata"].get("deletionTimestamp"):
            continue
        pod["status"] = _ready_status(pod, index)
        response = http.put(f"{base}/{pod['metadata']['name']}/status", json=pod, timeout=30)
        if response.status_code == 200:
            marked += 1
    return marked


def finish_terminating(cluster: ClusterProcess, namespace: str, http: requests.Session) -> None:
    """Remove pods of ``namespace`` that are being deleted, as a kubelet would."""
    base = f"{cluster.url}/api/v1/namespaces/{namespace}/pods"
    for pod in http.get(base, timeout=30).json().get("items", []):
        meta = pod["metadata"]
        if meta.get("deletionTimestamp"):
            body = {"gracePeriodSeconds": 0, "preconditions": {"uid": meta["uid"]}}
            http.delete(f"{base}/{meta['name']}", json=body, timeout=30)


class KubeletStandIn:
    """``with KubeletStandIn(cluster, ns): ...`` keeps new pods of ``ns`` Ready.

    ``label_selector`` limits it to some pods; ``terminate`` also removes pods being deleted.
    """

    def __init__(
        self,
        cluster: ClusterProcess,
        namespace: str,
        *,
        label_selector: str = "",
        terminate: bool = False,
        period: float = 0.05,
    ) -> None:
        self._cluster = cluster
        self._namespace = namespace
        self._selector = label_selector
        self._terminate = terminate
        self._period = period
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> KubeletStandIn:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        http = session(self._cluster)
        while not self._stop.is_set():
            mark_ready(self._cluster, self._namespace, label_selector=self._selector, http=http)
            if self._terminate:
                finish_terminating(self._cluster, self._namespace, http)
            self._stop.wait(self._period)  # a poll interval, not a synchronisation point
