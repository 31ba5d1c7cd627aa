"""Serving the app: uvicorn on a socket bound here (so ``--port 0`` works and the address is
known before the first request), until ``stop`` is set; the CLI owns the signals."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable, Iterator

import uvicorn

from atoll.kube.kubeconfig import ClusterConfig

from .app import create_app
from .components import discover

__all__ = ["serve_atoll"]


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.setblocking(False)
    return sock


async def serve_atoll(
    cluster: ClusterConfig,
    *,
    host: str,
    port: int,
    stop: asyncio.Event,
    ready: Callable[[str], None],
    tell: Callable[[str], None],
    admin_password: str | None = None,
) -> None:
    """Serve Atoll for the host cluster at ``cluster`` until ``stop``; ``ready(url)`` once
    it answers."""
    sock = _bind(host, port)
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    config = uvicorn.Config(
        create_app(cluster, discover(), admin_password=admin_password, tell=tell),
        loop="none",
        lifespan="on",
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=10,
    )
    server = _Server(config)
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if serving.done():
            await serving  # why it could not start
            return
        await asyncio.sleep(0.01)
    ready(f"http://{shown}:{bound}")
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    server.should_exit = True
    await serving
