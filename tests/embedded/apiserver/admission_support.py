"""An embedded cluster in a thread of the test process, with the quota, limit-range and
disruption-budget admission steps registered on its registry.

``EmbeddedCluster`` registers its built-in admission steps in its constructor; this helper
builds one, adds ``ResourceQuotaAdmission``, ``LimitRangeAdmission`` and
``DisruptionBudgets`` when the constructor has not (so it keeps working once the cluster
wires them itself), and serves it from its own event loop in a thread, so tests talk to it
over HTTP and with kubectl exactly as to ``atoll cluster serve``.
"""

from __future__ import annotations

import asyncio
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from tests.conftest import KUBECTL

from atoll.embedded.apiserver.disruption import DisruptionBudgets
from atoll.embedded.apiserver.limitranges import LimitRangeAdmission
from atoll.embedded.apiserver.quota import ResourceQuotaAdmission
from atoll.embedded.apiserver.registry import Registry
from atoll.embedded.cluster import EmbeddedCluster
from atoll.settings import ClusterSettings

__all__ = ["ThreadCluster", "wire", "wired_cluster"]


@dataclass
class ThreadCluster:
    """What tests use of ``ClusterProcess``: url, token, CA, kubeconfig and kubectl."""

    data_dir: Path
    url: str
    token: str

    @property
    def kubeconfig(self) -> Path:
        return self.data_dir / "kubeconfig"

    @property
    def ca(self) -> Path:
        return self.data_dir / "pki" / "ca.crt"

    def kubectl(self, *args: str, input: str | None = None, check: bool = True) -> str:
        result = subprocess.run(
            [str(KUBECTL), f"--kubeconfig={self.kubeconfig}", *args],
            input=input,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {result.stderr}")
        return result.stdout if check else result.stdout + result.stderr


def wire(registry: Registry) -> None:
    """Register the three steps unless the registry has them already."""
    if not any(isinstance(step, ResourceQuotaAdmission) for step in registry.admission):
        ResourceQuotaAdmission(registry)
    if not any(isinstance(step, LimitRangeAdmission) for step in registry.admission):
        LimitRangeAdmission(registry)
    checks = [getattr(check, "__self__", None) for check in registry.eviction_checks]
    if not any(isinstance(owner, DisruptionBudgets) for owner in checks):
        DisruptionBudgets(registry)


@contextmanager
def wired_cluster(data_dir: Path) -> Iterator[ThreadCluster]:
    settings = ClusterSettings(data_dir=data_dir, port=0, node_name="127.0.0.1", kubelet=False)
    started = threading.Event()
    held: dict[str, Any] = {}

    async def serve() -> None:
        cluster = EmbeddedCluster(settings)
        wire(cluster.registry)
        held["cluster"], held["loop"] = cluster, asyncio.get_running_loop()
        running = asyncio.create_task(cluster.run())
        waiting = asyncio.create_task(cluster.ready.wait())
        await asyncio.wait({running, waiting}, return_when=asyncio.FIRST_COMPLETED)
        started.set()
        waiting.cancel()
        await running

    def run() -> None:
        try:
            asyncio.run(serve())
        finally:
            started.set()

    thread = threading.Thread(target=run, name="wired-cluster", daemon=True)
    thread.start()
    if not started.wait(60) or "cluster" not in held or not held["cluster"].ready.is_set():
        raise RuntimeError("the in-process cluster did not start")
    config = yaml.safe_load((data_dir / "kubeconfig").read_text())
    try:
        yield ThreadCluster(data_dir, held["cluster"].url, config["users"][0]["user"]["token"])
    finally:
        held["loop"].call_soon_threadsafe(held["cluster"].stop)
        thread.join(30)
