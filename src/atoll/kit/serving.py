"""Serving an ASGI app with uvicorn the way every Atoll server does.

``bind`` makes the listening socket first (so ``port 0`` works and the real address is
known before the first request); ``QuietServer`` is uvicorn without its own signal handling
(the CLI owns SIGINT/SIGTERM) that drops idle keep-alive connections at shutdown instead of
waiting for TLS goodbyes keep-alive clients never send.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator

import uvicorn

__all__ = ["QuietServer", "bind"]


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.setblocking(False)
    return sock


class QuietServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for connection in list(self.server_state.connections):
            cycle = getattr(connection, "cycle", None)
            transport = getattr(connection, "transport", None)
            if transport is not None and (cycle is None or cycle.response_complete):
                transport.abort()
        await super().shutdown(sockets)
