"""``exec`` and ``attach`` sessions over SPDY/3.1 and WebSocket, as the kubelet serves them.

Upstream: the kubelet's ``cri/streaming/remotecommand`` (``httpstream.go``,
``websocket.go``); ``atoll.kube.streaming.remotecommand`` tells the handshake step by step.

SPDY: every stream the client opens is accepted at once (an empty SYN_REPLY); the
command starts once every stream the options call for is there (``ExecStreams``), and
the connection is dropped if they are not within ``STREAM_TIMEOUT``. stdin DATA goes to
the session (FIN ends its input); resize DATA becomes terminal sizes. At the end the
output streams are half-closed, the Status goes on the error stream, and the connection
closes (GOAWAY, then hang up), as the kubelet's ``conn.Close()``.

WebSocket: the subprotocol decides the framing (``ChannelCodec``); the first message is
the empty "ready" message on the lowest output channel; stdin, resize and (v5) CLOSE
messages come in; output, then the Status on channel 3, go out; then a normal close.

Either way, a client that hangs up before the end stops the session (``Session.stop``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from atoll.kube.streaming import (
    Channel,
    ChannelClosed,
    ChannelProtocol,
    DataReceived,
    ExecOptions,
    ExecStreams,
    ProtocolError,
    ResizeDecoder,
    StreamOpened,
    StreamProtocol,
    StreamReset,
    StreamType,
    error_stream_payload,
    ready_channel,
)

from .commands import Session
from .stream_transports import SpdySession, WebSocketChannels, settle

__all__ = ["STREAM_TIMEOUT", "StartSession", "command_over_spdy", "command_over_websocket"]

StartSession = Callable[[], Awaitable[Session]]
STREAM_TIMEOUT = 30.0  # seconds for the client to open its streams (the kubelet's default)
_OUTPUT_STREAMS = {Channel.STDOUT: StreamType.STDOUT, Channel.STDERR: StreamType.STDERR}


class _Resizes:
    """Terminal sizes from the resize stream or channel; a malformed one stops them all."""

    def __init__(self) -> None:
        self._decoder: ResizeDecoder | None = ResizeDecoder()

    def feed(self, session: Session, data: bytes) -> None:
        if self._decoder is None:
            return
        try:
            sizes = self._decoder.feed(data)
        except ProtocolError:
            self._decoder = None  # upstream stops reading resizes, the session goes on
            return
        for size in sizes:
            session.resize(size)


class _SpdyCommand:
    def __init__(
        self,
        spdy: SpdySession,
        *,
        options: ExecOptions,
        protocol: StreamProtocol,
        start: StartSession,
    ) -> None:
        self.spdy = spdy
        self.streams = ExecStreams(options, protocol)
        self.protocol = protocol
        self.start = start
        self.session: Session | None = None
        self.running: asyncio.Task[None] | None = None
        self.resizes = _Resizes()
        self.early: list[DataReceived] = []  # stdin and resizes before the command started
        self.finished = asyncio.Event()

    async def read(self) -> None:
        async for event in self.spdy.events():
            if isinstance(event, StreamOpened):
                self.spdy.reply(event.stream_id)
                self.streams.add(event.stream_id, event.headers)
                if self.streams.complete and self.session is None:
                    await self._start()
            elif isinstance(event, DataReceived):
                if self.session is None:
                    self.early.append(event)
                else:
                    await self._data(self.session, event)
            elif (
                isinstance(event, StreamReset)
                and self.session is not None
                and event.stream_id == self.streams.stream_id(StreamType.STDIN)
            ):
                self.session.close_stdin()

    async def _start(self) -> None:
        session = self.session = await self.start()
        self.running = asyncio.create_task(self._run(session))
        for event in self.early:
            await self._data(session, event)
        self.early.clear()

    async def _data(self, session: Session, event: DataReceived) -> None:
        if event.stream_id == self.streams.stream_id(StreamType.STDIN):
            if event.data:
                await session.write_stdin(event.data)
            if event.fin:
                session.close_stdin()
        elif event.stream_id == self.streams.stream_id(StreamType.RESIZE):
            self.resizes.feed(session, event.data)

    async def _out(self, channel: Channel, data: bytes) -> None:
        stream_id = self.streams.stream_id(_OUTPUT_STREAMS[channel])
        if stream_id is not None:
            await self.spdy.send(stream_id, data)

    async def _run(self, session: Session) -> None:
        status = await session.run(self._out)
        for kind in _OUTPUT_STREAMS.values():
            if (stream_id := self.streams.stream_id(kind)) is not None:
                await self.spdy.send(stream_id, b"", fin=True)
        if (error_id := self.streams.stream_id(StreamType.ERROR)) is not None:
            await self.spdy.send(error_id, error_stream_payload(status, self.protocol), fin=True)
        self.spdy.close()
        self.finished.set()


async def command_over_spdy(
    spdy: SpdySession, *, options: ExecOptions, protocol: StreamProtocol, start: StartSession
) -> None:
    """Serve one exec or attach connection over SPDY until it ends; see the module doc."""
    command = _SpdyCommand(spdy, options=options, protocol=protocol, start=start)

    def give_up() -> None:
        if command.session is None:
            spdy.close()

    timer = asyncio.get_running_loop().call_later(STREAM_TIMEOUT, give_up)
    reading = asyncio.create_task(command.read())
    finished = asyncio.create_task(command.finished.wait())
    try:  # until the client hangs up, or the session has ended and said so
        await asyncio.wait([reading, finished], return_when=asyncio.FIRST_COMPLETED)
    finally:
        timer.cancel()
        for task in (reading, finished):
            task.cancel()
        running = command.running
        if running is not None and not running.done():
            assert command.session is not None
            command.session.stop()  # the client left first
            running.cancel()
        await settle(reading, finished, *([running] if running is not None else []))
        spdy.close()


async def command_over_websocket(
    ws: WebSocketChannels,
    *,
    options: ExecOptions,
    protocol: ChannelProtocol,
    start: StartSession,
) -> None:
    """Serve one exec or attach connection over WebSocket; see the module doc."""
    await ws.accept(protocol)
    session = await start()
    try:
        await ws.send(ready_channel(options))
    except Exception:
        session.stop()  # the client left at once
        raise

    async def out(channel: Channel, data: bytes) -> None:
        await ws.send(channel, data)

    running = asyncio.create_task(session.run(out))
    reading = asyncio.create_task(_read_channels(ws, session))
    try:
        await asyncio.wait([running, reading], return_when=asyncio.FIRST_COMPLETED)
        if not running.done():  # the client left first
            session.stop()
            return
        status = running.result()
        await ws.send(Channel.ERROR, error_stream_payload(status, protocol.version))
        await ws.close()
    finally:
        for task in (running, reading):
            task.cancel()
        await settle(running, reading)


async def _read_channels(ws: WebSocketChannels, session: Session) -> None:
    resizes = _Resizes()
    async for message in ws.messages():
        if isinstance(message, ChannelClosed):
            if message.channel == Channel.STDIN:
                session.close_stdin()
        elif message.channel == Channel.STDIN:
            await session.write_stdin(message.data)
        elif message.channel == Channel.RESIZE:
            resizes.feed(session, message.data)
