"""The load generator: one aiohttp session with 16 keep-alive HTTPS connections, and its meters.

The client must never be the bottleneck, so request bodies are serialized before the clock
starts and every timed phase reports the CPU it cost on both sides (``CpuMeter``): a client
near 100 % of a core would mean the figure measures the client, not the server.
"""

from __future__ import annotations

import asyncio
import math
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp
import orjson

from .objects import config_map, namespace
from .server import ServerProcess

__all__ = [
    "CONNECTIONS",
    "JSON",
    "CpuMeter",
    "RequestFailed",
    "ensure_namespace",
    "open_session",
    "percentile",
    "post_json",
    "run_workers",
    "warm_up",
]

CONNECTIONS = 16
JSON = {"Content-Type": "application/json"}
MERGE_PATCH = {"Content-Type": "application/merge-patch+json"}

T = TypeVar("T")
R = TypeVar("R")


class RequestFailed(RuntimeError):
    """A request the benchmark relies on did not succeed (a crash, not a slow figure)."""


def ssl_context(server: ServerProcess) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(server.ca))


@asynccontextmanager
async def open_session(
    server: ServerProcess, *, connections: int = CONNECTIONS
) -> AsyncIterator[aiohttp.ClientSession]:
    """A session against ``server``: bearer token, CA-verified TLS, ``connections`` sockets.

    ``connections=0`` means unlimited (one socket per concurrent request, as watches need).
    """
    connector = aiohttp.TCPConnector(
        limit=connections, ssl=ssl_context(server), keepalive_timeout=300
    )
    session = aiohttp.ClientSession(
        base_url=server.url,
        connector=connector,
        headers={"Authorization": f"Bearer {server.token}"},
        timeout=aiohttp.ClientTimeout(total=None, sock_connect=30),
    )
    async with session:
        yield session


async def post_json(session: aiohttp.ClientSession, path: str, body: bytes) -> bytes:
    """POST a serialized object; return the response body, raise unless 2xx."""
    async with session.post(path, data=body, headers=JSON) as resp:
        data = await resp.read()
        if resp.status >= 300:
            raise RequestFailed(f"POST {path}: {resp.status} {data[:300]!r}")
        return data


async def send(
    session: aiohttp.ClientSession,
    method: str,
    path: str,
    body: bytes,
    headers: dict[str, str] = JSON,
) -> None:
    """A write whose answer is not needed; raise unless 2xx."""
    async with session.request(method, path, data=body, headers=headers) as resp:
        if resp.status >= 300:
            raise RequestFailed(f"{method} {path}: {resp.status} {(await resp.read())[:300]!r}")


async def ensure_namespace(session: aiohttp.ClientSession, name: str) -> None:
    body = orjson.dumps(namespace(name))
    async with session.post("/api/v1/namespaces", data=body, headers=JSON) as resp:
        if resp.status not in (201, 409):
            raise RequestFailed(f"creating namespace {name}: {resp.status} {await resp.text()}")


async def warm_up(session: aiohttp.ClientSession, namespace: str, *, count: int = 200) -> None:
    """Untimed ConfigMap creates: every connection's TLS handshake, first-request caches."""
    await ensure_namespace(session, namespace)
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    bodies = [orjson.dumps(config_map(f"warm-{i}", index=i)) for i in range(count)]
    await run_workers(bodies, lambda body: post_json(session, path, body))


async def run_workers(
    items: Iterable[T], fn: Callable[[T], Awaitable[R]], *, workers: int = CONNECTIONS
) -> list[R]:
    """Apply ``fn`` to every item with exactly ``workers`` requests in flight."""
    pending = iter(enumerate(items))
    results: dict[int, R] = {}

    async def work() -> None:
        for i, item in pending:
            results[i] = await fn(item)

    async with asyncio.TaskGroup() as tg:
        for _ in range(workers):
            tg.create_task(work())
    return [results[i] for i in range(len(results))]


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0–100) of a non-empty sample."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class CpuMeter:
    """CPU used by this client and by the server over one timed phase, as shares of a core."""

    server: ServerProcess
    wall: float = 0.0
    client_cpu: float = 0.0
    server_cpu: float = 0.0

    def __enter__(self) -> CpuMeter:
        self._t0 = time.perf_counter()
        self._c0 = time.process_time()
        self._s0 = self.server.cpu_seconds()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.wall = time.perf_counter() - self._t0
        self.client_cpu = time.process_time() - self._c0
        self.server_cpu = self.server.cpu_seconds() - self._s0

    def describe(self) -> str:
        wall = self.wall or 1e-9
        return (
            f"CPU over {self.wall:.1f} s: client {self.client_cpu / wall:.0%}, "
            f"server {self.server_cpu / wall:.0%} of one core"
        )
