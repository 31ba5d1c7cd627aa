"""``atoll up`` as a process of its own against a benchmark's cluster, and logging in to it.

The cached-pods and console benchmarks both run Atoll's server beside the cluster they filled
(``--kubeconfig``), so its caches and the console see exactly what a real deployment would.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import orjson

from .client import RequestFailed

__all__ = ["PASSWORD", "Atoll", "atoll_up", "login"]

PASSWORD = "bench-admin-password"
_TIMEOUT = 120.0  # a crash, not a figure, beyond this


@dataclass
class Atoll:
    process: subprocess.Popen[str]
    url: str

    def rss_bytes(self) -> int:
        return _status_kib(self.process.pid, "VmRSS") * 1024

    def peak_rss_bytes(self) -> int:
        return _status_kib(self.process.pid, "VmHWM") * 1024


def _status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise LookupError(f"{field} not in /proc/{pid}/status")


@contextmanager
def atoll_up(kubeconfig: Path, data_dir: Path) -> Iterator[Atoll]:
    """``atoll up`` against the cluster of ``kubeconfig``, stopped (SIGTERM) at the end; its
    log goes to ``<data_dir>.log``."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "ATOLL_ADMIN_PASSWORD": PASSWORD}
    command = [sys.executable, "-m", "atoll", "up", "--kubeconfig", str(kubeconfig)]
    command += ["--data-dir", str(data_dir), "--port", "0", "--tls-port", "0"]
    command += ["--log-level", "warning"]
    with open(data_dir.parent / f"{data_dir.name}.log", "ab") as log:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, text=True, env=env)
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + _TIMEOUT
        for line in process.stdout:
            if line.startswith("http://"):
                yield Atoll(process, line.strip())
                return
            if time.monotonic() > deadline:
                break
        raise RequestFailed("atoll up printed no URL")
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


async def login(session: aiohttp.ClientSession, url: str) -> dict[str, object]:
    """Wait for /readyz, log in as admin; the token answer (``access_token``, …)."""
    deadline = time.monotonic() + _TIMEOUT
    while True:
        async with session.get(f"{url}/readyz") as resp:
            if resp.status == 200:
                break
        if time.monotonic() > deadline:
            raise RequestFailed("atoll up did not become ready")
        await asyncio.sleep(0.1)
    form = {"grant_type": "password", "username": "admin", "password": PASSWORD}
    async with session.post(f"{url}/oauth/token", data=form) as resp:
        body = await resp.read()
        if resp.status != 200:
            raise RequestFailed(f"login: {resp.status} {body[:200]!r}")
    answer: dict[str, object] = orjson.loads(body)
    return answer
