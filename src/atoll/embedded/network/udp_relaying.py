"""The UDP relay behind the Service proxy: one session per client address.

A session's upstream socket is ``connect``-ed to the backend (so replies from anyone else
are dropped by the kernel and an ICMP "port unreachable" surfaces as ECONNREFUSED) and
watched with ``add_reader``. Opening it is synchronous: the first datagram is sent at once,
never queued behind a task. Replies go back through the listening socket, so the client
sees the Service address as their source — what DNS resolvers check. Idle sessions expire
(``expire_idle``, also run from a timer). See ``relaying`` for what the relays share.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Callable
from typing import Any

from .relaying import Backend, Backends, Relay

__all__ = ["UdpRelay"]

logger = logging.getLogger(__name__)

_UDP_MAX_DATAGRAM = 65535
_UDP_MIN_SWEEP_SECONDS = 1.0


class _UdpListener(asyncio.DatagramProtocol):
    __slots__ = ("_relay",)

    def __init__(self, relay: UdpRelay) -> None:
        self._relay = relay

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self._relay._from_client(data, addr)

    def error_received(self, exc: Exception) -> None:
        # An ICMP error about a reply to a client that went away: nothing to do.
        logger.debug("service proxy: %r: %r", self._relay, exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self._relay._listener_lost()


class _UdpSession:
    """One client address's datagrams, relayed through a socket connected to one backend."""

    __slots__ = ("_loop", "_relay", "_sock", "backend", "client", "last_used")

    def __init__(
        self, relay: UdpRelay, client: tuple[Any, ...], backend: Backend, now: float
    ) -> None:
        self._relay = relay
        self._loop = asyncio.get_running_loop()
        self.client = client
        self.backend = backend
        self.last_used = now
        family = socket.AF_INET6 if ":" in backend[0] else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            sock.setblocking(False)
            sock.connect(backend)  # a UDP connect only sets the peer: it never blocks
            self._loop.add_reader(sock.fileno(), self._readable)
        except BaseException:
            sock.close()
            raise
        self._sock: socket.socket | None = sock

    def send(self, data: bytes, now: float) -> None:
        sock = self._sock
        if sock is None:
            return
        self.last_used = now
        try:
            sock.send(data)
        except BlockingIOError:
            pass  # the socket buffer is full: UDP may drop, and so do we
        except OSError as exc:
            self._relay._session_failed(self, exc)

    def _readable(self) -> None:
        sock = self._sock
        while sock is not None:
            try:
                data = sock.recv(_UDP_MAX_DATAGRAM)
            except BlockingIOError:
                return
            except OSError as exc:  # ECONNREFUSED: the backend's port is closed
                self._relay._session_failed(self, exc)
                return
            self.last_used = self._relay.clock()
            self._relay._to_client(data, self.client)
            sock = self._sock

    def close(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            self._loop.remove_reader(sock.fileno())
            sock.close()


class UdpRelay(Relay):
    """Receives datagrams on (ip, port) and relays each client's to its session's backend."""

    protocol = "UDP"

    def __init__(
        self,
        ip: str,
        port: int,
        backends: Backends,
        *,
        idle_timeout: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(ip, port, backends)
        self.idle_timeout = idle_timeout
        self.clock = clock
        self._transport: asyncio.DatagramTransport | None = None
        self._sessions: dict[tuple[Any, ...], _UdpSession] = {}
        self._sweeper: asyncio.TimerHandle | None = None

    @property
    def listening(self) -> bool:
        return self._transport is not None

    @property
    def active(self) -> int:
        """Live sessions (client addresses with a backend)."""
        return len(self._sessions)

    async def open(self) -> None:
        """Bind; raises ``OSError`` when the address cannot be bound."""
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _UdpListener(self), local_addr=(self.ip, self.port)
        )
        self._transport = transport
        self._idle.clear()

    def stop_listening(self) -> None:
        """The same as ``close``: replies leave through the listening socket, so sessions
        cannot outlive it."""
        self.close()

    def close(self) -> None:
        transport, self._transport = self._transport, None
        for session in list(self._sessions.values()):
            session.close()
        self._sessions.clear()
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        if transport is not None:
            transport.close()  # the idle event is set in the listener's connection_lost

    def expire_idle(self) -> int:
        """Close the sessions idle for ``idle_timeout`` or longer; return how many."""
        limit = self.clock() - self.idle_timeout
        stale = [s for s in self._sessions.values() if s.last_used <= limit]
        for session in stale:
            self._drop(session)
        return len(stale)

    def _from_client(self, data: bytes, client: tuple[Any, ...]) -> None:
        now = self.clock()
        session = self._sessions.get(client)
        if session is None:
            session = self._open_session(client, now)
            if session is None:
                return  # no ready endpoint: the datagram is dropped, as UDP may be
        session.send(data, now)

    def _open_session(self, client: tuple[Any, ...], now: float) -> _UdpSession | None:
        client_ip = str(client[0])
        for backend in self.backends.choose(client_ip):
            try:
                session = _UdpSession(self, client, backend, now)
            except OSError as exc:
                logger.debug("service proxy: %r: no session to %s:%d: %r", self, *backend, exc)
                self.backends.failed(client_ip, backend)
                continue
            self.backends.connected(client_ip, backend)
            self._sessions[client] = session
            self._schedule_sweep()
            return session
        return None

    def _to_client(self, data: bytes, client: tuple[Any, ...]) -> None:
        if self._transport is not None:
            self._transport.sendto(data, client)

    def _session_failed(self, session: _UdpSession, exc: OSError) -> None:
        logger.debug("service proxy: %r: %s:%d failed: %r", self, *session.backend, exc)
        self.backends.failed(str(session.client[0]), session.backend)
        self._drop(session)  # the client's next datagram chooses again

    def _drop(self, session: _UdpSession) -> None:
        session.close()
        if self._sessions.get(session.client) is session:
            del self._sessions[session.client]

    def _schedule_sweep(self) -> None:
        if self._sweeper is None:
            delay = max(self.idle_timeout / 4, _UDP_MIN_SWEEP_SECONDS)
            self._sweeper = asyncio.get_running_loop().call_later(delay, self._sweep)

    def _sweep(self) -> None:
        self._sweeper = None
        self.expire_idle()
        if self._sessions:
            self._schedule_sweep()

    def _listener_lost(self) -> None:
        self._transport = None
        self.close()
        self._idle.set()
