"""``atoll up``: the embedded cluster and Atoll's server in one process, started, probed and
stopped as a user would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from tests.conftest import unique_pod_network, unique_service_cidr
from tests.waiting import eventually


@dataclass
class Atoll:
    process: subprocess.Popen[str]
    url: str
    data_dir: Path


@pytest.fixture(scope="module")
def atoll(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Atoll]:
    data_dir = tmp_path_factory.mktemp("atoll-up") / "data"
    bridge, pod_cidr = unique_pod_network(data_dir)
    env = {
        "ATOLL_CLUSTER__SERVICE_CIDR": unique_service_cidr(),
        "ATOLL_CLUSTER__BRIDGE": bridge,
        "ATOLL_CLUSTER__POD_CIDR": pod_cidr,
        "ATOLL_CLUSTER__INGRESS_HTTP_PORT": "0",
        "ATOLL_CLUSTER__INGRESS_HTTPS_PORT": "0",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "atoll", "up", "--data-dir", str(data_dir), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, **env, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 60
    url = ""
    while time.monotonic() < deadline and not url:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            raise RuntimeError(f"atoll up exited with {process.returncode}")
        if line.startswith("http://"):
            url = line.strip()
    assert url, "atoll up printed no URL within 60 s"
    yield Atoll(process, url, data_dir)
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)


def test_health_readiness_and_metrics(atoll: Atoll) -> None:
    http = requests.Session()
    http.trust_env = False
    assert http.get(f"{atoll.url}/healthz", timeout=5).text == "ok"
    eventually(lambda: http.get(f"{atoll.url}/readyz", timeout=5).status_code == 200)
    metrics = http.get(f"{atoll.url}/metrics", timeout=5).text
    assert 'atoll_http_requests_total{code="200",method="GET",route="/healthz"}' in metrics
    assert "atoll_http_request_duration_seconds_bucket" in metrics


def test_unknown_routes_answer_problem_json(atoll: Atoll) -> None:
    response = requests.get(f"{atoll.url}/kapis/nothing.atoll.io/v1alpha1/things", timeout=5)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "Not Found",
    }


def test_the_embedded_cluster_runs_under_the_data_dir(atoll: Atoll) -> None:
    assert (atoll.data_dir / "cluster" / "kubeconfig").exists()


def test_sigterm_stops_everything(atoll: Atoll) -> None:
    atoll.process.send_signal(signal.SIGTERM)
    assert atoll.process.wait(timeout=60) == 0
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{atoll.url}/healthz", timeout=5)
