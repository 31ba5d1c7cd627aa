"""Serving the app (``kit.serving``: the socket bound first, so ``--port 0`` works) until
``stop`` is set; the CLI owns the signals."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import uvicorn

from atoll.kit.serving import QuietServer, bind
from atoll.kube.kubeconfig import ClusterConfig

from .app import create_app
from .components import discover

__all__ = ["serve_atoll"]


async def serve_atoll(
    cluster: ClusterConfig,
    *,
    host: str,
    port: int,
    stop: asyncio.Event,
    ready: Callable[[str], None],
    tell: Callable[[str], None],
    data_dir: Path,
    admin_password: str | None = None,
) -> None:
    """Serve Atoll for the host cluster at ``cluster`` until ``stop``; ``ready(url)`` once
    it answers."""
    sock = bind(host, port)
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    config = uvicorn.Config(
        create_app(
            cluster, discover(), data_dir=data_dir, admin_password=admin_password, tell=tell
        ),
        loop="none",
        lifespan="on",
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=10,
    )
    server = QuietServer(config)
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
