"""Helpers for the crash tests of the controllers (test-only).

- ``CrashableCluster``: a private embedded cluster on its own data directory that a test
  may ``kill()`` with SIGKILL and ``restart()`` on the same directory, as often as it likes.
  A restart listens on a new port (port 0), so clients are rebuilt from ``current``.
- ``deployment``: a Deployment body whose pods carry ``app=<name>``.
- ``rollout_problems``: what still keeps a Deployment from counting as rolled out, by the
  rule ``kubectl rollout status`` applies; empty once it has.
- ``controller_uid``: the uid a controller reference names.
- ``PodsSeen``: a ``Watcher`` observer keeping the name of every Pod a watch showed, by
  controller: a Pod made in excess and removed again leaves its name behind.
"""

from __future__ import annotations

import signal
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tests.conftest import ClusterProcess, start_cluster

__all__ = [
    "CrashableCluster",
    "PodsSeen",
    "controller_uid",
    "deployment",
    "revision",
    "rollout_problems",
]

REVISION = "deployment.kubernetes.io/revision"
_SERVE_ARGS = ("--kubelet", "off")


class CrashableCluster:
    """Every process started on one data directory; the last one is ``current``."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.processes: list[ClusterProcess] = [start_cluster(data_dir, *_SERVE_ARGS)]

    @property
    def current(self) -> ClusterProcess:
        return self.processes[-1]

    @property
    def log(self) -> Path:
        """Where ``start_cluster`` appends every process's stderr."""
        return self.data_dir.parent / f"{self.data_dir.name}.log"

    def kill(self) -> None:
        """``kill -9`` the serving process: no shutdown, no flush, no lease released."""
        process = self.current.process
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=30) == -signal.SIGKILL

    def restart(self) -> ClusterProcess:
        assert self.current.process.poll() is not None, "restart follows a kill"
        self.processes.append(start_cluster(self.data_dir, *_SERVE_ARGS))
        return self.current

    def stop(self) -> None:
        for proc in self.processes:
            if proc.process.poll() is None:
                proc.stop()


def deployment(name: str, replicas: int, *, image: str = "nginx:1", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": image}]},
            },
            **spec,
        },
    }


def revision(obj: dict[str, Any]) -> str | None:
    value: str | None = (obj["metadata"].get("annotations") or {}).get(REVISION)
    return value


def controller_uid(obj: dict[str, Any]) -> str | None:
    for ref in obj["metadata"].get("ownerReferences") or []:
        if ref.get("controller"):
            uid: str = ref["uid"]
            return uid
    return None


def rollout_problems(deploy: dict[str, Any]) -> list[str]:
    """Why ``kubectl rollout status`` would still wait for ``deploy`` (empty: rolled out)."""
    meta, status = deploy["metadata"], deploy.get("status") or {}
    wanted = deploy["spec"].get("replicas", 1)
    problems = []
    if status.get("observedGeneration", 0) < meta["generation"]:
        problems.append(f"generation {meta['generation']} not observed")
    for field in ("updatedReplicas", "replicas", "availableReplicas"):
        if status.get(field, 0) != wanted:
            problems.append(f"{field} {status.get(field, 0)} != {wanted}")
    return problems


class PodsSeen:
    """``Watcher`` observer: names of all Pods seen, by the uid of their controller."""

    def __init__(self) -> None:
        self.by_owner: dict[str | None, set[str]] = {}

    def __call__(self, _: str, pod: dict[str, Any], __: dict[str, dict[str, Any]]) -> None:
        self.include([pod])

    def include(self, pods: Iterable[dict[str, Any]]) -> None:
        for pod in pods:
            self.by_owner.setdefault(controller_uid(pod), set()).add(pod["metadata"]["name"])

    def of(self, owner_uid: str) -> set[str]:
        return self.by_owner.get(owner_uid, set())
