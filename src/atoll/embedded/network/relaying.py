"""The byte relays behind the Service proxy: one listening socket per Service port.

A ``TcpRelay`` accepts on one address and splices each accepted connection to a backend; a
``UdpRelay`` (``udp_relaying``) does the same for datagrams, with one session per client
address. Which
backend serves a client is not their business: they ask a ``Backends`` (the Service port's
balancer) for an ordered list of candidates and report back which one worked.

Why it is written the way it is:

- **Protocols and transports, not streams.** A relayed byte costs one ``data_received``
  and one ``transport.write``: no task per direction, no ``await drain()``, no copy into a
  StreamReader buffer. Flow control is the transports' own: when one side's write buffer
  passes its high-water mark the transport calls ``pause_writing`` on its protocol, which
  pauses *reading* on the other side; ``resume_writing`` resumes it. Memory per connection
  is bounded by the two high-water marks whatever the speed difference.
- **One task per connection, only while connecting.** ``create_connection`` is a
  coroutine, so each accepted connection gets a short-lived task that tries up to
  ``attempts`` candidates (refused or timed out after ``connect_timeout``: the next one),
  as kube-proxy's userspace mode did. The relay owns these tasks and cancels them when it
  closes — no orphan tasks. Until connected, the client's reading is paused; what was read
  before (uvloop reads once after ``connection_made`` whatever the protocol asked) is kept
  and sent first, and an early EOF is passed on after it.
- **No backend means a reset, never a hang.** With no ready endpoint (or every attempt
  failed) the accepted socket is closed with ``SO_LINGER`` 0: the client sees ECONNRESET at
  once, the closest a userspace proxy can get to "connection refused".
- **Half-close is relayed.** EOF from one side becomes ``write_eof`` on the other (after
  what was buffered); the connection closes when both sides have sent EOF or either is
  lost. ``TCP_NODELAY`` is set on both sockets: the proxy must not add Nagle delays to
  request/response traffic that the endpoints already flush deliberately.

Both asyncio's default loop and uvloop run these relays; no loop-specific API is used.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
from typing import Any, Protocol, cast

__all__ = ["Backend", "Backends", "Relay", "TcpRelay"]

logger = logging.getLogger(__name__)

Backend = tuple[str, int]
"""An endpoint's (ip, port)."""

_BACKLOG = 1024
_RESET_LINGER = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close() sends RST


class Backends(Protocol):
    """Where one Service port's traffic goes (the proxy's balancer for it)."""

    def choose(self, client_ip: str) -> list[Backend]:
        """Candidates for a new connection from ``client_ip``, best first; [] when none is
        ready."""
        ...

    def connected(self, client_ip: str, backend: Backend) -> None:
        """``client_ip`` now talks to ``backend`` (session affinity remembers it)."""
        ...

    def failed(self, client_ip: str, backend: Backend) -> None:
        """Connecting ``client_ip`` to ``backend`` failed."""
        ...


def _set_nodelay(transport: asyncio.BaseTransport) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _reset(transport: asyncio.BaseTransport) -> None:
    """Close with RST instead of FIN: the client learns at once there is nobody there."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RESET_LINGER)
    cast(asyncio.Transport, transport).abort()


# -- TCP -----------------------------------------------------------------------------------


class _Upstream(asyncio.Protocol):
    """The proxy's connection to the backend; everything is decided by its ``_Connection``."""

    __slots__ = ("_connection",)

    def __init__(self, connection: _Connection) -> None:
        self._connection = connection

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but have its methods
        self._connection.upstream_made(cast(asyncio.Transport, transport))

    def data_received(self, data: bytes) -> None:
        client = self._connection.client
        if client is not None:
            client.write(data)

    def eof_received(self) -> bool:
        return self._connection.upstream_eof()

    def pause_writing(self) -> None:  # the backend is slower than the client: stop reading it
        client = self._connection.client
        if client is not None:
            client.pause_reading()

    def resume_writing(self) -> None:
        client = self._connection.client
        if client is not None:
            client.resume_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        self._connection.upstream_lost()


class _Connection(asyncio.Protocol):
    """One accepted client connection and, once connected, its backend connection.

    ``client`` and ``upstream`` are dropped in their ``connection_lost``, so nothing is ever
    written to a closed transport (uvloop raises on that). The connection is finished — and
    leaves its relay — when every transport it opened has been lost.
    """

    __slots__ = (
        "_client_eof",
        "_early",
        "_open",
        "_relay",
        "_task",
        "_upstream_eof",
        "client",
        "upstream",
    )

    def __init__(self, relay: TcpRelay) -> None:
        self._relay = relay
        self.client: asyncio.Transport | None = None
        self.upstream: asyncio.Transport | None = None
        self._task: asyncio.Task[None] | None = None
        self._early: list[bytes] = []  # what the client sent before the backend answered
        self._client_eof = False
        self._upstream_eof = False
        self._open = 0  # transports made and not yet lost

    # -- the client side ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        client = self.client = cast(asyncio.Transport, transport)
        self._open += 1
        self._relay._track(self)
        peer = client.get_extra_info("peername")
        client_ip = str(peer[0]) if peer else ""
        candidates = self._relay.backends.choose(client_ip)[: self._relay.attempts]
        if not candidates:
            _reset(client)
            return
        _set_nodelay(client)
        # Until the backend answers the kernel holds the client's bytes. (uvloop starts
        # reading after connection_made whatever it asked: data_received pauses again.)
        client.pause_reading()
        self._task = self._relay._spawn(self._connect(client_ip, candidates))

    def data_received(self, data: bytes) -> None:
        upstream = self.upstream
        if upstream is not None:
            upstream.write(data)
        elif self.client is not None:
            self._early.append(data)
            self.client.pause_reading()

    def eof_received(self) -> bool:
        self._client_eof = True
        upstream = self.upstream
        if upstream is None:
            return True  # passed on once connected
        if self._upstream_eof:
            self._close_both()
            return False
        upstream.write_eof()
        return True  # keep the client's side open for the rest of the backend's answer

    def pause_writing(self) -> None:  # the client is slower than the backend: stop reading it
        upstream = self.upstream
        if upstream is not None:
            upstream.pause_reading()

    def resume_writing(self) -> None:
        upstream = self.upstream
        if upstream is not None:
            upstream.resume_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        self.client = None
        if self._task is not None:
            self._task.cancel()
        if self.upstream is not None:
            self.upstream.close()
        self._lost_one()

    # -- the backend side ----------------------------------------------------------------

    async def _connect(self, client_ip: str, candidates: list[Backend]) -> None:
        loop = asyncio.get_running_loop()
        backends = self._relay.backends
        try:
            for backend in candidates:
                if self.client is None:
                    return
                try:
                    async with asyncio.timeout(self._relay.connect_timeout):
                        await loop.create_connection(lambda: _Upstream(self), *backend)
                except (OSError, TimeoutError) as exc:
                    logger.debug("service proxy: %s:%d unreachable: %r", *backend, exc)
                    backends.failed(client_ip, backend)
                    continue
                backends.connected(client_ip, backend)
                return
        except asyncio.CancelledError:
            self._reset_client()  # the relay is closing (or a timeout fired late): no hang
            raise
        self._reset_client()  # every candidate failed

    def _reset_client(self) -> None:
        if self.client is not None and self.upstream is None:
            _reset(self.client)

    def upstream_made(self, transport: asyncio.Transport) -> None:
        self._open += 1
        self.upstream = transport
        client = self.client
        if client is None or client.is_closing():
            transport.close()
            return
        _set_nodelay(transport)
        if not self._client_eof:
            client.resume_reading()  # first: writing may pause it again (pause_writing)
        if self._early:
            transport.writelines(self._early)
            self._early.clear()
        if self._client_eof:
            transport.write_eof()

    def upstream_eof(self) -> bool:
        self._upstream_eof = True
        client = self.client
        if client is None or self._client_eof:
            self._close_both()
            return False
        client.write_eof()
        return True

    def upstream_lost(self) -> None:
        self.upstream = None
        if self.client is not None:
            self.client.close()
        self._lost_one()

    # -- both ----------------------------------------------------------------------------

    def _close_both(self) -> None:
        for transport in (self.client, self.upstream):
            if transport is not None:
                transport.close()

    def abort(self) -> None:
        """Cut both sides with RST: an EOF could pass for the end of a complete answer."""
        for transport in (self.client, self.upstream):
            if transport is not None:
                _reset(transport)
        if self._task is not None:
            self._task.cancel()

    def _lost_one(self) -> None:
        self._open -= 1
        if self._open <= 0:
            self._relay._forget(self)


class Relay:
    """What both relays share: the address, the backends, the finished-or-not bookkeeping."""

    protocol = ""

    def __init__(self, ip: str, port: int, backends: Backends) -> None:
        self.ip = ip
        self.port = port
        self.backends = backends
        self._idle = asyncio.Event()
        self._idle.set()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.ip}:{self.port}/{self.protocol}>"

    async def wait_closed(self) -> None:
        """Wait until ``close()`` has let go of every socket (connections included)."""
        await self._idle.wait()


class TcpRelay(Relay):
    """Accepts TCP connections on (ip, port) and splices each one to a backend."""

    protocol = "TCP"

    def __init__(
        self,
        ip: str,
        port: int,
        backends: Backends,
        *,
        connect_timeout: float = 3.0,
        attempts: int = 3,
    ) -> None:
        super().__init__(ip, port, backends)
        self.connect_timeout = connect_timeout
        self.attempts = attempts
        self._server: asyncio.Server | None = None
        self._connections: set[_Connection] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def listening(self) -> bool:
        return self._server is not None

    @property
    def active(self) -> int:
        """Relayed connections not yet finished (draining ones included)."""
        return len(self._connections)

    async def open(self) -> None:
        """Bind and listen; raises ``OSError`` when the address cannot be bound."""
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: _Connection(self),
            host=self.ip,
            port=self.port,
            reuse_address=True,  # rebinding right after a close must not wait for TIME_WAIT
            backlog=_BACKLOG,
        )

    def stop_listening(self) -> None:
        """Accept no more connections; the relayed ones go on until they finish."""
        server, self._server = self._server, None
        if server is not None:
            server.close()

    def close(self) -> None:
        """Stop listening and drop every relayed connection at once."""
        self.stop_listening()
        for connection in list(self._connections):
            connection.abort()
        for task in list(self._tasks):
            task.cancel()

    def _spawn(self, coro: Any) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        self._idle.clear()
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._check_idle()

    def _track(self, connection: _Connection) -> None:
        self._connections.add(connection)
        self._idle.clear()

    def _forget(self, connection: _Connection) -> None:
        self._connections.discard(connection)
        self._check_idle()

    def _check_idle(self) -> None:
        if not self._connections and not self._tasks:
            self._idle.set()
