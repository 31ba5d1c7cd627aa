"""Connection upgrades uvicorn does not hand to an ASGI app: SPDY/3.1, and raw WebSocket.

kubectl 1.20 runs ``exec``, ``attach`` and ``port-forward`` over SPDY/3.1, reached by an
HTTP/1.1 upgrade (``Connection: Upgrade``, ``Upgrade: SPDY/3.1``). uvicorn answers every
upgrade but WebSocket with "Unsupported upgrade request", and ASGI has no way to give an
app the socket. ``UpgradingProtocol`` is uvicorn's httptools protocol (``Config(http=...)``)
with one change: a request upgrading to a token in ``raw_upgrades`` goes to the app as an
ordinary ``http`` request whose scope carries the extension ``atoll.upgrade`` (an
``Upgrade``; ``upgrade_of(scope)``). The app authenticates, validates and negotiates as for
any request, then either answers normally (the connection closes afterwards: it cannot
carry another request) or calls ``Upgrade.accept``: the protocol writes ``101 Switching
Protocols`` with the app's headers, hands the connection to an asyncio stream pair,
together with any bytes the client sent past the request, and the ASGI task goes on for
the life of the connection, closing it when it ends. This is what uvicorn's own
``handle_websocket_upgrade`` does with ``transport.set_protocol``, one step later.

Both servers use it: the kubelet takes over SPDY only (WebSocket reaches it as ASGI
``websocket`` scopes); the API server takes over WebSocket too (``ProxyingProtocol``), as
it relays both upgrades to the kubelet byte for byte, as kube-apiserver's
UpgradeAwareHandler does. An upgraded connection stays in uvicorn's connection set, so a
server shutdown closes it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, ClassVar

import httptools
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = [
    "UPGRADE_EXTENSION",
    "ProxyingProtocol",
    "Serve",
    "Upgrade",
    "UpgradeResponse",
    "UpgradingProtocol",
    "upgrade_of",
]

Serve = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]

UPGRADE_EXTENSION = "atoll.upgrade"
_SWITCHING = b"HTTP/1.1 101 Switching Protocols\r\n"


class Upgrade:
    """An upgrade request the app may accept; ``token`` is the ``Upgrade`` header, lower case."""

    def __init__(self, protocol: UpgradingProtocol, token: str) -> None:
        self._protocol = protocol
        self.token = token
        self.accepted = False

    def accept(
        self, headers: Sequence[tuple[str, str]]
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """Answer ``101`` with ``headers`` and take the connection over.

        The connection closes when the calling task ends, whatever the app does with it.
        """
        if self.accepted:
            raise RuntimeError("the upgrade was already accepted")
        self.accepted = True
        return self._protocol.switch(headers)


class UpgradeResponse(Response):
    """What a handler returns to accept an upgrade: ``serve`` then owns the connection.

    Returned like any response, so that every check happens before the ``101``; the
    connection closes when ``serve`` returns.
    """

    def __init__(self, upgrade: Upgrade, headers: Sequence[tuple[str, str]], serve: Serve) -> None:
        super().__init__(status_code=101)
        self.upgrade = upgrade
        self.upgrade_headers = list(headers)
        self.serve = serve

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        reader, writer = self.upgrade.accept(self.upgrade_headers)
        try:
            await self.serve(reader, writer)
        finally:
            writer.close()


def upgrade_of(scope: Scope) -> Upgrade | None:
    """The pending upgrade of an ``http`` request, if it asks for one the server takes over."""
    found = (scope.get("extensions") or {}).get(UPGRADE_EXTENSION)
    return found if isinstance(found, Upgrade) else None


class _Upgraded(asyncio.StreamReaderProtocol):
    """The protocol of an upgraded connection: a stream pair, known to uvicorn's shutdown."""

    def __init__(self, reader: asyncio.StreamReader, connections: set[Any]) -> None:
        super().__init__(reader)
        self._connections = connections
        self._upgraded: asyncio.BaseTransport | None = None
        connections.add(self)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._upgraded = transport
        super().connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self._connections.discard(self)
        super().connection_lost(exc)

    def shutdown(self) -> None:
        """uvicorn's server shutdown: hang up (the session ends as if the peer had)."""
        if self._upgraded is not None:
            self._upgraded.close()


class UpgradingProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, passing ``raw_upgrades`` to the app; see the module doc."""

    raw_upgrades: ClassVar[frozenset[bytes]] = frozenset({b"spdy/3.1"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._past_request: bytearray | None = None  # bytes read after an upgrade request

    def _raw_token(self) -> bytes | None:
        token = self._get_upgrade()
        return token if token in self.raw_upgrades else None

    def _should_upgrade(self) -> bool:
        return self._raw_token() is None and super()._should_upgrade()

    def on_headers_complete(self) -> None:
        token = self._raw_token() if self.parser.should_upgrade() else None
        if token is not None:
            scope: dict[str, Any] = self.scope  # type: ignore[assignment]
            scope["extensions"] = {UPGRADE_EXTENSION: Upgrade(self, token.decode("latin-1"))}
        super().on_headers_complete()
        if token is not None:
            self.cycle.keep_alive = False  # after a refusal the parser cannot go on

    def data_received(self, data: bytes) -> None:
        if self._past_request is not None:
            self._past_request += data
            return
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            message = "Invalid HTTP request received."
            self.logger.warning(message)
            self.send_400_response(message)
        except httptools.HttpParserUpgrade as upgrade:
            if UPGRADE_EXTENSION in (self.scope.get("extensions") or {}):
                self._past_request = bytearray(data[upgrade.args[0] :])
            elif self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()

    def switch(
        self, headers: Sequence[tuple[str, str]]
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """Write the ``101`` and move the connection to a stream pair (``Upgrade.accept``)."""
        self.cycle.response_started = self.cycle.response_complete = True
        head = [_SWITCHING]
        head += [f"{name}: {value}\r\n".encode("latin-1") for name, value in headers]
        head.append(b"\r\n")
        transport = self.transport
        reader = asyncio.StreamReader(loop=self.loop)
        upgraded = _Upgraded(reader, self.connections)
        upgraded.connection_made(transport)
        if self._past_request:
            reader.feed_data(bytes(self._past_request))
        self._past_request = None
        self.connections.discard(self)
        if transport.is_closing():
            reader.feed_eof()
            upgraded.connection_lost(None)
        else:
            transport.write(b"".join(head))
            transport.set_protocol(upgraded)
            self.flow.resume_reading()
        task = asyncio.current_task()
        if task is not None:
            task.add_done_callback(lambda _: transport.close())
        return reader, asyncio.StreamWriter(transport, upgraded, reader, self.loop)


class ProxyingProtocol(UpgradingProtocol):
    """The API server's: WebSocket upgrades are relayed as bytes too."""

    raw_upgrades: ClassVar[frozenset[bytes]] = frozenset({b"spdy/3.1", b"websocket"})
