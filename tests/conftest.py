"""Fixtures shared by every suite: a real embedded cluster served over HTTP."""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
KUBECTL = ROOT / ".tools/kubernetes-client/usr/bin/kubectl"


@dataclass
class ClusterProcess:
    data_dir: Path
    process: subprocess.Popen[bytes]
    url: str
    token: str

    @property
    def kubeconfig(self) -> Path:
        return self.data_dir / "kubeconfig"

    @property
    def ca(self) -> Path:
        return self.data_dir / "pki" / "ca.crt"

    def kubectl(self, *args: str, input: str | None = None, check: bool = True) -> str:
        """Run Debian's kubectl 1.20 against this cluster; return stdout."""
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

    def stop(self, sig: int = signal.SIGTERM) -> int:
        self.process.send_signal(sig)
        return self.process.wait(timeout=30)


def unique_service_cidr() -> str:
    """A /20 of 127.112.0.0–127.254.255.255 (the default range, 127.96.0.0/12, stays free)."""
    chooser = random.SystemRandom()
    return f"127.{chooser.randint(112, 254)}.{chooser.randint(0, 15) * 16}.0/20"


def unique_pod_network(data_dir: Path) -> tuple[str, str]:
    """A bridge name and a /24 of 10.128.0.0/9 for one test cluster's pods, derived from its
    data directory: a restarted cluster (after ``kill -9`` too) finds its own bridge and
    namespaces again, and clears what its earlier run left."""
    digest = hashlib.sha256(str(data_dir.resolve()).encode()).digest()
    return f"at{digest[:5].hex()}", f"10.{128 + digest[5] % 127}.{digest[6]}.0/24"


def start_cluster(
    data_dir: Path, *extra: str, settings: Mapping[str, str] | None = None
) -> ClusterProcess:
    """Start ``atoll cluster serve`` and wait (with a deadline) until its kubeconfig is new.

    The kubelet is off unless ``extra`` says ``--kubelet on``: most suites check the API and
    the controllers, with a test-only stand-in marking pods Ready. ``settings`` reach the
    server as ``ATOLL_CLUSTER__<NAME>`` variables (``{"MAX_PODS": "2"}``)."""
    if "--kubelet" not in extra:
        extra = (*extra, "--kubelet", "off")
    # Clusters of parallel workers share this machine's loopback: each takes its own
    # ClusterIP range, so their service proxies never bind the same address.
    settings = {"SERVICE_CIDR": unique_service_cidr(), **(settings or {})}
    if (
        extra[extra.index("--kubelet") + 1] == "on"
    ):  # the kubelet: its own bridge, pod range and ingress ports, likewise
        bridge, pod_cidr = unique_pod_network(data_dir)
        settings = {
            "BRIDGE": bridge,
            "POD_CIDR": pod_cidr,
            "INGRESS_HTTP_PORT": "0",
            "INGRESS_HTTPS_PORT": "0",
            **settings,
        }
    kubeconfig = data_dir / "kubeconfig"
    before = kubeconfig.stat().st_mtime_ns if kubeconfig.exists() else None
    with open(data_dir.parent / f"{data_dir.name}.log", "ab") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "atoll",
                "cluster",
                "serve",
                "--data-dir",
                str(data_dir),
                "--port",
                "0",
                "--log-level",
                "warning",
                *extra,
            ],
            stdout=subprocess.DEVNULL,
            stderr=log,
            env={
                **os.environ,
                "PYTHONUNBUFFERED": "1",
                **{f"ATOLL_CLUSTER__{k}": v for k, v in settings.items()},
            },
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"atoll cluster serve exited with {process.returncode}")
        if kubeconfig.exists() and kubeconfig.stat().st_mtime_ns != before:
            config = yaml.safe_load(kubeconfig.read_text())
            return ClusterProcess(
                data_dir,
                process,
                config["clusters"][0]["cluster"]["server"],
                config["users"][0]["user"]["token"],
            )
        time.sleep(0.02)
    process.kill()
    raise TimeoutError("the embedded cluster did not become ready within 60 s")


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterProcess]:
    """One embedded cluster per test worker; tests isolate themselves by namespace."""
    data_dir = tmp_path_factory.mktemp("cluster") / "data"
    data_dir.mkdir()
    proc = start_cluster(data_dir)
    yield proc
    if proc.process.poll() is None:
        proc.stop()


@pytest.fixture
def namespace(cluster: ClusterProcess) -> str:
    name = f"t-{uuid.uuid4().hex[:10]}"
    cluster.kubectl("create", "namespace", name)
    return name
