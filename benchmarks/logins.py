"""How long a login takes: ``POST /oauth/token`` (password grant) against ``atoll up``.

Target (issue 6): login p99 at most 150 ms.

``atoll up`` runs on its own (the embedded cluster with its kubelet off, and Atoll's
server), with ``ATOLL_ADMIN_PASSWORD`` set. Once ``/readyz`` answers, the benchmark logs in
as ``admin`` one request at a time, ``WARM`` times unmeasured, then ``n`` times measured
(each login reads the User from the cluster and checks its argon2id hash off the event
loop, then signs two JWTs).

Baseline, same run: the argon2id check alone, in this process — what a login costs at
least, whatever the server does around it.
"""

from __future__ import annotations

import asyncio
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

from atoll.components.iam.passwords import hash_password, verify_password

from .client import RequestFailed, percentile
from .context import Context
from .results import Row

__all__ = ["run"]

TARGET_P99_MS = 150.0
PASSWORD = "bench-admin-password"
WARM = 5
_TIMEOUT = 60.0


def _start(data_dir: Path) -> tuple[subprocess.Popen[str], str]:
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "ATOLL_ADMIN_PASSWORD": PASSWORD,
        "ATOLL_CLUSTER__KUBELET": "false",
        "ATOLL_CLUSTER__INGRESS_HTTP_PORT": "0",
        "ATOLL_CLUSTER__INGRESS_HTTPS_PORT": "0",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "atoll",
            "up",
            "--data-dir",
            str(data_dir),
            "--port",
            "0",
            "--tls-port",
            "0",
            "--log-level",
            "warning",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    deadline = time.monotonic() + _TIMEOUT
    for line in process.stdout:
        if line.startswith("http://"):
            return process, line.strip()
        if time.monotonic() > deadline:
            break
    process.kill()
    raise RequestFailed("atoll up printed no URL")


async def _ready(session: aiohttp.ClientSession, url: str) -> None:
    deadline = time.monotonic() + _TIMEOUT
    while time.monotonic() < deadline:
        async with session.get(f"{url}/readyz") as resp:
            if resp.status == 200:
                return
        await asyncio.sleep(0.1)
    raise RequestFailed("atoll up did not become ready")


async def _login(session: aiohttp.ClientSession, url: str) -> float:
    form = {"grant_type": "password", "username": "admin", "password": PASSWORD}
    started = time.perf_counter()
    async with session.post(f"{url}/oauth/token", data=form) as resp:
        body = await resp.read()
        if resp.status != 200:
            raise RequestFailed(f"login: {resp.status} {body[:200]!r}")
    return (time.perf_counter() - started) * 1000


async def run(ctx: Context) -> list[Row]:
    n = max(30, ctx.sizes.log_lines // 2)
    process, url = await asyncio.to_thread(_start, ctx.scratch / "logins")
    try:
        async with aiohttp.ClientSession(trust_env=False) as session:
            await _ready(session, url)
            times = [await _login(session, url) for _ in range(WARM + n)][WARM:]
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.to_thread(process.wait, 60)
        if process.stdout is not None:
            process.stdout.close()
    stored = hash_password(PASSWORD)
    baseline = []
    for _ in range(n):
        started = time.perf_counter()
        verify_password(stored, PASSWORD)
        baseline.append((time.perf_counter() - started) * 1000)
    return [_report(n, times, baseline)]


def _report(n: int, times: list[float], baseline: list[float]) -> Row:
    p50, p99 = statistics.median(times), percentile(times, 99)
    b50 = statistics.median(baseline)
    met = p99 <= TARGET_P99_MS
    print(
        f"logins: {n} × POST /oauth/token (password grant) to atoll up, one at a time: p50 "
        f"{p50:.1f} ms, p99 {p99:.1f} ms (target p99 ≤ {TARGET_P99_MS:.0f} ms: "
        f"{'met' if met else 'missed'})"
    )
    print(
        f"  baseline, same run: the argon2id check alone p50 {b50:.1f} ms; ratio {p50 / b50:.1f}×"
    )
    return Row(
        "login (password grant)",
        f"p50 {p50:.1f} ms, p99 {p99:.1f} ms",
        f"p99 ≤ {TARGET_P99_MS:.0f} ms",
        met,
        f"argon2id check alone p50 {b50:.1f} ms",
        f"{p50 / b50:.1f}",
    )
