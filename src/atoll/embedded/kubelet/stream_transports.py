"""The two transports of the kubelet's streaming endpoints, as its sessions use them.

- ``SpdySession``: a SPDY/3.1 session (the sans-IO ``SpdyConnection``, server side) over an
  upgraded connection's stream pair (``upgrades``): ``events()`` reads frames until the
  peer hangs up or says GOAWAY, answering PINGs itself; the sending methods write frames
  in the order they are called, as the shared zlib header stream requires; ``close``
  says GOAWAY and hangs up, as the kubelet's ``conn.Close()``.
- ``settle``: how a session waits for its cancelled tasks, logging any that failed.
- ``WebSocketChannels``: an ASGI ``websocket`` connection speaking the channel protocol
  (``ChannelCodec``): accept with the negotiated subprotocol, send channel messages,
  receive decoded ones; or refuse before accepting with an HTTP status and a plain-text
  body (``websocket.http.response``), as the kubelet answers a bad streaming request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import Receive, Scope, Send

from atoll.kube.streaming import (
    ChannelClosed,
    ChannelCodec,
    ChannelData,
    ChannelProtocol,
    GoAwayReceived,
    PingReceived,
    ProtocolError,
    SpdyConnection,
    StreamingError,
)
from atoll.kube.streaming.spdy import Event

__all__ = ["SpdySession", "WebSocketChannels", "settle"]

logger = logging.getLogger(__name__)

_READ = 64 * 1024


async def settle(*tasks: asyncio.Task[Any]) -> None:
    """Wait for a session's (cancelled) tasks; a failure of one is a bug, logged here."""
    for result in await asyncio.gather(*tasks, return_exceptions=True):
        if isinstance(result, Exception):
            logger.error("a streaming session failed", exc_info=result)


class SpdySession:
    """A server-side SPDY session over a stream pair; see the module doc."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connection = SpdyConnection(client=False)
        self._reader = reader
        self._writer = writer

    async def events(self) -> AsyncIterator[Event]:
        """Every event but PINGs (answered here), until EOF, GOAWAY or a protocol error."""
        while chunk := await self._reader.read(_READ):
            try:
                events = self.connection.receive_data(chunk)
            except ProtocolError as error:
                self.write(self.connection.go_away(error.status))
                return
            for event in events:
                if isinstance(event, PingReceived):
                    if not event.echo:
                        self.write(self.connection.ping(event.ping_id))
                    continue
                if isinstance(event, GoAwayReceived):
                    return
                yield event

    def write(self, data: bytes) -> None:
        if not self._writer.is_closing():
            self._writer.write(data)

    async def drain(self) -> None:
        with contextlib.suppress(ConnectionError):
            await self._writer.drain()

    def reply(self, stream_id: int) -> None:
        self.write(self.connection.reply(stream_id))

    def reset(self, stream_id: int) -> None:
        self.write(self.connection.reset(stream_id))

    def send_nowait(self, stream_id: int, data: bytes, *, fin: bool = False) -> None:
        """DATA on a stream, if it is still open for sending; nothing otherwise."""
        try:
            frames = self.connection.send_data(stream_id, data, fin=fin)
        except StreamingError:
            return  # reset by the peer, or already closed
        self.write(frames)

    async def send(self, stream_id: int, data: bytes, *, fin: bool = False) -> None:
        """``send_nowait``, then wait while the peer reads slower than we write."""
        self.send_nowait(stream_id, data, fin=fin)
        await self.drain()

    def close(self) -> None:
        """GOAWAY, then hang up (the peer reads what was sent first)."""
        if not self.connection.go_away_sent:
            self.write(self.connection.go_away())
        self._writer.close()


class WebSocketChannels:
    """An ASGI WebSocket speaking the channel protocol; see the module doc."""

    def __init__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self._scope, self._receive, self._send = scope, receive, send
        self.codec: ChannelCodec | None = None

    @property
    def offers(self) -> list[str]:
        return list(self._scope.get("subprotocols") or [])

    @property
    def query(self) -> list[tuple[str, str]]:
        return parse_qsl(self._scope.get("query_string", b"").decode("latin-1"))

    @property
    def headers(self) -> Mapping[str, str]:
        return {k.decode("latin-1"): v.decode("latin-1") for k, v in self._scope["headers"]}

    async def refuse(
        self, status: int, message: str, headers: Sequence[tuple[str, str]] = ()
    ) -> None:
        """Answer the handshake with ``status`` and ``message`` instead of accepting it."""
        body = message.encode()
        await self._send(
            {
                "type": "websocket.http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                    *((k.encode("latin-1"), v.encode("latin-1")) for k, v in headers),
                ],
            }
        )
        await self._send({"type": "websocket.http.response.body", "body": body})

    async def accept(self, protocol: ChannelProtocol) -> None:
        message = await self._receive()
        if message["type"] != "websocket.connect":
            raise ConnectionError("the client left before the handshake")
        self.codec = ChannelCodec(protocol)
        await self._send({"type": "websocket.accept", "subprotocol": protocol.name or None})

    async def send(self, channel: int, data: bytes = b"") -> None:
        assert self.codec is not None
        message = self.codec.encode(channel, data)
        if isinstance(message, str):
            await self._send({"type": "websocket.send", "text": message})
        else:
            await self._send({"type": "websocket.send", "bytes": message})

    async def messages(self) -> AsyncIterator[ChannelData | ChannelClosed]:
        """Decoded messages until the client closes (or breaks the protocol)."""
        assert self.codec is not None
        while True:
            message = await self._receive()
            if message["type"] != "websocket.receive":
                return
            raw = message.get("bytes")
            raw = raw if raw is not None else message.get("text") or b""
            try:
                decoded = self.codec.decode(raw)
            except ProtocolError:
                await self.close(1002)
                return
            if decoded is not None:
                yield decoded

    async def close(self, code: int = 1000) -> None:
        with contextlib.suppress(Exception):  # the client may be gone already
            await self._send({"type": "websocket.close", "code": code})
