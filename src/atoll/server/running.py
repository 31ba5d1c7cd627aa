"""Serving the app until ``stop`` is set; the CLI owns the signals.

Two listeners share one app: plain HTTP on ``port`` (the console, probes, the API) and
HTTPS on ``tls_port`` for kubectl and other Kubernetes clients, which send bearer tokens
only over TLS. The certificate is the user's (``tls_cert``/``tls_key``) or one from
Atoll's own CA under ``<data-dir>/pki``, whose certificate the kubeconfigs Atoll hands out
carry. Sockets are bound first (``kit.serving``), so port 0 works.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import uvicorn

from atoll.kit.pki import ensure_serving_certificate
from atoll.kit.serving import QuietServer, bind
from atoll.kube.kubeconfig import ClusterConfig
from atoll.settings import ServerSettings

from .app import create_app
from .components import SecureEndpoint, discover

__all__ = ["serve_atoll"]


def _shown(host: str) -> str:
    return f"[{host}]" if ":" in host else host


async def serve_atoll(
    cluster: ClusterConfig,
    server: ServerSettings,
    *,
    stop: asyncio.Event,
    ready: Callable[[str], None],
    tell: Callable[[str], None],
    secure: Callable[[str], None] = lambda url: None,
    admin_password: str | None = None,
) -> None:
    """Serve Atoll for the host cluster at ``cluster`` until ``stop``; ``ready(url)`` once
    it answers, ``secure(url)`` with the HTTPS address."""
    plain = bind(server.host, server.port)
    tls = bind(server.host, server.tls_port)
    tls_port = tls.getsockname()[1]
    if server.tls_cert is not None and server.tls_key is not None:
        cert, key, ca = server.tls_cert, server.tls_key, None
    else:
        made = await asyncio.to_thread(
            ensure_serving_certificate,
            server.data_dir,
            server.host,
            common_name="atoll",
            dns_names=(),
        )
        cert, key, ca = made.cert, made.key, made.ca
    endpoint = SecureEndpoint(tls_port, ca.read_bytes() if ca is not None else None)
    app = create_app(
        cluster,
        discover(),
        data_dir=server.data_dir,
        admin_password=admin_password,
        tell=tell,
        secure_endpoint=endpoint,
        identity_providers=server.identity_providers,
        console_dir=server.console_dir,
    )
    common = {"loop": "none", "log_level": "warning", "access_log": False}
    servers = [
        QuietServer(
            uvicorn.Config(app, lifespan="on", timeout_graceful_shutdown=10, **common)  # type: ignore[arg-type]
        ),
        QuietServer(
            uvicorn.Config(
                app,
                lifespan="off",
                timeout_graceful_shutdown=10,
                ssl_certfile=str(cert),
                ssl_keyfile=str(key),
                **common,  # type: ignore[arg-type]
            )
        ),
    ]
    serving = [
        asyncio.create_task(servers[0].serve(sockets=[plain])),
        asyncio.create_task(servers[1].serve(sockets=[tls])),
    ]
    while not all(s.started for s in servers):
        for task in serving:
            if task.done():
                for other in servers:
                    other.should_exit = True
                await asyncio.gather(*serving, return_exceptions=True)
                await task  # why it could not start
                return
        await asyncio.sleep(0.01)
    ready(f"http://{_shown(server.host)}:{plain.getsockname()[1]}")
    secure(f"https://{_shown(server.host)}:{tls_port}")
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({*serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    for each in servers:
        each.should_exit = True
    await asyncio.gather(*serving)
