"""The embedded cluster keeps every write it acknowledged, through ``kill -9``.

A private cluster takes a burst of concurrent creates and is killed with SIGKILL once about
half have been acknowledged, with more still in flight. After a restart on the same data
directory every acknowledged object is there exactly as the 201 response showed it, and the
global resourceVersion carries on above everything handed out before. Secrets are sealed
at rest, so their values never appear in the database files. A graceful stop (SIGTERM) is
prompt even while clients hold connections open.
"""

from __future__ import annotations

import asyncio
import base64
import signal
import ssl
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import requests
from tests.conftest import ClusterProcess, start_cluster

TOTAL = 300
KILL_AFTER = 150
CONCURRENCY = 32


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture
def private_cluster(data_dir: Path) -> Iterator[list[ClusterProcess]]:
    """Every process started on ``data_dir``; the test appends restarts, all are stopped."""
    procs = [start_cluster(data_dir)]
    yield procs
    for proc in procs:
        if proc.process.poll() is None:
            proc.stop()


@dataclass
class Burst:
    acknowledged: dict[str, dict[str, Any]] = field(default_factory=dict)
    failed: int = 0
    killed: bool = False


async def _create_all(proc: ClusterProcess, namespace: str) -> Burst:
    """POST ``TOTAL`` ConfigMaps, ``CONCURRENCY`` at a time; SIGKILL the server after
    ``KILL_AFTER`` acknowledgements, while the rest are in flight or queued."""
    burst = Burst()
    names = iter(f"cm-{i:03d}" for i in range(TOTAL))
    tls = ssl.create_default_context(cafile=str(proc.ca))
    headers = {"Authorization": f"Bearer {proc.token}"}
    url = f"{proc.url}/api/v1/namespaces/{namespace}/configmaps"

    async def worker(session: aiohttp.ClientSession) -> None:
        for name in names:
            body = {"metadata": {"name": name, "labels": {"burst": "1"}}, "data": {"name": name}}
            try:
                async with session.post(url, json=body) as response:
                    if response.status == 201:
                        burst.acknowledged[name] = await response.json()
                    else:
                        burst.failed += 1
            except (TimeoutError, aiohttp.ClientError):
                burst.failed += 1
            if len(burst.acknowledged) >= KILL_AFTER and not burst.killed:
                burst.killed = True
                proc.process.send_signal(signal.SIGKILL)

    connector = aiohttp.TCPConnector(ssl=tls, limit=CONCURRENCY)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, headers=headers, timeout=timeout) as s:
        await asyncio.gather(*(worker(s) for _ in range(CONCURRENCY)))
    return burst


def _get(proc: ClusterProcess, path: str) -> dict[str, Any]:
    response = requests.get(
        proc.url + path,
        headers={"Authorization": f"Bearer {proc.token}"},
        verify=str(proc.ca),
        timeout=30,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _post(proc: ClusterProcess, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = requests.post(
        proc.url + path,
        json=body,
        headers={"Authorization": f"Bearer {proc.token}"},
        verify=str(proc.ca),
        timeout=30,
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def test_acknowledged_writes_survive_kill_9(
    private_cluster: list[ClusterProcess], data_dir: Path
) -> None:
    first = private_cluster[0]
    namespace = f"burst-{uuid.uuid4().hex[:6]}"
    _post(first, "/api/v1/namespaces", {"metadata": {"name": namespace}})

    burst = asyncio.run(_create_all(first, namespace))
    assert burst.killed and first.process.wait(timeout=30) == -signal.SIGKILL
    assert KILL_AFTER <= len(burst.acknowledged) < TOTAL
    assert burst.failed > 0, "nothing was in flight when the server died"

    second = start_cluster(data_dir)
    private_cluster.append(second)
    listed = _get(second, f"/api/v1/namespaces/{namespace}/configmaps")
    stored = {item["metadata"]["name"]: item for item in listed["items"]}
    lost = sorted(set(burst.acknowledged) - set(stored))
    assert lost == [], f"acknowledged but lost after kill -9: {lost}"
    for name, acknowledged in burst.acknowledged.items():
        assert stored[name] == acknowledged, name
        assert _get(second, f"/api/v1/namespaces/{namespace}/configmaps/{name}") == acknowledged

    highest = max(int(item["metadata"]["resourceVersion"]) for item in stored.values())
    assert highest >= max(
        int(a["metadata"]["resourceVersion"]) for a in burst.acknowledged.values()
    )
    assert int(listed["metadata"]["resourceVersion"]) >= highest
    after = _post(
        second, f"/api/v1/namespaces/{namespace}/configmaps", {"metadata": {"name": "after"}}
    )
    assert int(after["metadata"]["resourceVersion"]) > int(listed["metadata"]["resourceVersion"])
    rvs = [int(item["metadata"]["resourceVersion"]) for item in stored.values()]
    assert len(set(rvs)) == len(rvs), "two writes shared a resourceVersion"


def test_secret_values_are_not_stored_in_plaintext(
    private_cluster: list[ClusterProcess], data_dir: Path
) -> None:
    proc = private_cluster[0]
    value = f"s3cret-{uuid.uuid4().hex}"
    encoded = base64.b64encode(value.encode()).decode()
    secret = {
        "metadata": {"name": "creds"},
        "type": "Opaque",
        "data": {"password": encoded},
        "stringData": {"token": value + "-token"},
    }
    _post(proc, "/api/v1/namespaces/default/secrets", secret)
    _post(
        proc,
        "/api/v1/namespaces/default/configmaps",
        {"metadata": {"name": "marker"}, "data": {"v": value}},
    )
    proc.process.send_signal(signal.SIGKILL)  # no shutdown checkpoint: the WAL is read as is
    assert proc.process.wait(timeout=30) == -signal.SIGKILL

    db_files = sorted(data_dir.glob("objects.db*"))
    assert db_files, "no database files under the data directory"
    contents = b"".join(path.read_bytes() for path in db_files)
    # The same value in a ConfigMap is stored readably: the search itself works.
    assert value.encode() in contents
    for needle in (
        encoded,
        value + "-token",
        base64.b64encode((value + "-token").encode()).decode(),
    ):
        assert needle.encode() not in contents, f"{needle!r} is stored in plaintext"
    assert encoded.encode() not in contents

    restarted = start_cluster(data_dir)
    private_cluster.append(restarted)
    read = _get(restarted, "/api/v1/namespaces/default/secrets/creds")
    token = base64.b64encode((value + "-token").encode()).decode()
    assert read["data"] == {"password": encoded, "token": token}


def test_sigterm_stops_promptly_with_clients_connected(
    private_cluster: list[ClusterProcess],
) -> None:
    """kubectl, controllers and client pools keep idle keep-alive connections and open
    watches; a SIGTERM must not wait for them to hang up."""
    proc = private_cluster[0]
    headers = {"Authorization": f"Bearer {proc.token}"}
    with requests.Session() as idle, requests.Session() as watching:
        assert idle.get(
            proc.url + "/api/v1/namespaces", headers=headers, verify=str(proc.ca), timeout=30
        ).ok
        stream = watching.get(
            proc.url + "/api/v1/configmaps",
            params={"watch": "1"},
            headers=headers,
            verify=str(proc.ca),
            stream=True,
            timeout=30,
        )
        assert stream.status_code == 200
        began = time.monotonic()
        proc.process.send_signal(signal.SIGTERM)
        try:
            code = proc.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pytest.fail("SIGTERM took more than 5 s with clients connected")
        stream.close()
    assert code == 0, code
    assert time.monotonic() - began < 5


def test_a_second_server_on_the_same_data_directory_is_refused(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    first = start_cluster(data_dir, "--controllers", "")
    try:
        second = subprocess.run(
            [sys.executable, "-m", "atoll", "cluster", "serve", "--data-dir", str(data_dir)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 1
        assert "another atoll cluster serve is using" in second.stdout + second.stderr
        assert first.process.poll() is None  # the first one is untouched
    finally:
        first.stop()
    again = start_cluster(data_dir, "--controllers", "")  # the lock went with the process
    again.stop(signal.SIGKILL)
    start_cluster(data_dir, "--controllers", "").stop()  # and with kill -9 too
