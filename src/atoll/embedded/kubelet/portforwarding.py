"""Port-forward over SPDY/3.1 and WebSocket, as the kubelet serves it.

Upstream: the kubelet's ``cri/streaming/portforward`` (``httpstream.go``, ``websocket.go``);
``atoll.kube.streaming.portforward`` has the wire details. As upstream, the kubelet connects
to ``localhost:<port>`` inside the pod's network namespace (``connect``, given by the
caller: this machine's loopback for a pod on the host network).

SPDY (kubectl): each forwarded connection is a pair of streams, paired by request id
(``PortForwardStreams``); a stream with bad headers is reset. Once a pair is complete the
kubelet connects to the port and copies both ways: the client's FIN on the data stream
half-closes the socket; the socket's end closes the pair (both streams). A failure to connect is
written as text on the pair's error stream, as upstream words it. A pair still incomplete
after ``STREAM_TIMEOUT`` is given up with ``timed out waiting for streams``.

WebSocket (the Python client): ``?port=`` (or ``ports=``) lists the ports; each gets a data
and an error channel, first announced with the port number. Every port is connected at
once; the connection closes when every forwarded socket has ended.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Awaitable, Callable

from atoll.kube.streaming import (
    ChannelData,
    ChannelProtocol,
    DataReceived,
    PortForwardPair,
    PortForwardStreams,
    StreamOpened,
    StreamRejected,
    StreamReset,
    initial_messages,
)
from atoll.kube.streaming.portforward import channels_for_port
from atoll.kube.streaming.remotecommand import HEADER_REQUEST_ID

from .stream_transports import SpdySession, WebSocketChannels, settle

__all__ = ["Connect", "forward_over_spdy", "forward_over_websocket"]

STREAM_TIMEOUT = 30.0
_READ = 32 * 1024

Connect = Callable[[int], Awaitable[tuple[asyncio.StreamReader, asyncio.StreamWriter]]]


def _failure(pod: str, port: int, error: OSError) -> bytes:
    return (
        f"error forwarding port {port} to pod {pod}: "
        f"failed to connect to localhost:{port}: {error.strerror or error}"
    ).encode()


class _SpdyForward:
    """One forwarded connection: a stream pair and a socket."""

    def __init__(
        self, spdy: SpdySession, pair: PortForwardPair, pod: str, connect: Connect
    ) -> None:
        self.spdy = spdy
        self.pair = pair
        self.pod = pod
        self.connect = connect
        self.inbound: asyncio.Queue[bytes | None] = asyncio.Queue()  # None: the client's FIN

    async def run(self) -> None:
        data_id, error_id = self.pair.data_stream_id, self.pair.error_stream_id
        try:
            reader, writer = await self.connect(self.pair.port)
        except OSError as error:
            await self.spdy.send(error_id, _failure(self.pod, self.pair.port, error), fin=True)
            await self.spdy.send(data_id, b"", fin=True)
            return
        # The pod's end of the connection decides, as containerd's: once it has closed,
        # the pair is closed, whatever the client still sends.
        to_socket = asyncio.create_task(self._to_socket(writer))
        try:
            await self._from_socket(reader)
        finally:
            to_socket.cancel()
            writer.close()
            await self.spdy.send(error_id, b"", fin=True)

    async def _to_socket(self, writer: asyncio.StreamWriter) -> None:
        while (data := await self.inbound.get()) is not None:
            writer.write(data)
            with contextlib.suppress(ConnectionError):
                await writer.drain()
        if writer.can_write_eof():
            with contextlib.suppress(OSError):
                writer.write_eof()

    async def _from_socket(self, reader: asyncio.StreamReader) -> None:
        with contextlib.suppress(ConnectionError):
            while chunk := await reader.read(_READ):
                await self.spdy.send(self.pair.data_stream_id, chunk)
        await self.spdy.send(self.pair.data_stream_id, b"", fin=True)


async def forward_over_spdy(spdy: SpdySession, *, pod: str, connect: Connect) -> None:
    """Serve one kubectl port-forward connection until the client hangs up."""
    pairs = PortForwardStreams()
    forwards: dict[int, _SpdyForward] = {}  # by data stream id
    running: set[asyncio.Task[None]] = set()
    timers: dict[str, asyncio.TimerHandle] = {}  # pairs waiting for their other stream
    loop = asyncio.get_running_loop()

    def done(task: asyncio.Task[None], data_stream_id: int) -> None:
        running.discard(task)
        forwards.pop(data_stream_id, None)

    def time_out(request_id: str) -> None:
        """Give up a pair whose other stream never came (upstream's 30 s)."""
        timers.pop(request_id, None)
        error_id = pairs.discard(request_id)
        if error_id is not None:
            spdy.send_nowait(error_id, b"timed out waiting for streams", fin=True)

    try:
        async for event in spdy.events():
            if isinstance(event, StreamOpened):
                pair = _accept(spdy, pairs, event)
                if pair is None:
                    request_id = (event.headers.get(HEADER_REQUEST_ID) or [""])[0]
                    if request_id in pairs.pending and request_id not in timers:
                        timers[request_id] = loop.call_later(STREAM_TIMEOUT, time_out, request_id)
                    continue
                if (timer := timers.pop(pair.request_id, None)) is not None:
                    timer.cancel()
                forward = forwards[pair.data_stream_id] = _SpdyForward(spdy, pair, pod, connect)
                task = asyncio.create_task(forward.run())
                running.add(task)
                task.add_done_callback(functools.partial(done, data_stream_id=pair.data_stream_id))
            elif isinstance(event, DataReceived) and event.stream_id in forwards:
                inbound = forwards[event.stream_id].inbound
                if event.data:
                    inbound.put_nowait(event.data)
                if event.fin:
                    inbound.put_nowait(None)
            elif isinstance(event, StreamReset) and event.stream_id in forwards:
                forwards.pop(event.stream_id).inbound.put_nowait(None)
    finally:
        for timer in timers.values():
            timer.cancel()
        for task in list(running):
            task.cancel()
        await settle(*running)
        spdy.close()


def _accept(
    spdy: SpdySession, pairs: PortForwardStreams, event: StreamOpened
) -> PortForwardPair | None:
    try:
        pair = pairs.add(event.stream_id, event.headers)
    except StreamRejected as rejected:
        spdy.reset(event.stream_id)
        if rejected.error_stream_id is not None:
            spdy.send_nowait(rejected.error_stream_id, str(rejected).encode())
        return None
    spdy.reply(event.stream_id)
    return pair


async def forward_over_websocket(
    ws: WebSocketChannels,
    *,
    protocol: ChannelProtocol,
    pod: str,
    ports: list[int],
    connect: Connect,
) -> None:
    """Serve one WebSocket port-forward (every port at once) until every socket ends."""
    await ws.accept(protocol)
    for channel, payload in initial_messages(ports):
        await ws.send(channel, payload)
    # By data channel: the connection to the pod's port once made (None: it failed or
    # ended). The client may send before it is made; its data waits for it, in order.
    writers: dict[int, asyncio.Future[asyncio.StreamWriter | None]] = {
        channels_for_port(index)[0]: asyncio.get_running_loop().create_future()
        for index in range(len(ports))
    }

    def settle_writer(data: int, writer: asyncio.StreamWriter | None) -> None:
        if writers[data].done():
            writers[data] = asyncio.get_running_loop().create_future()
        writers[data].set_result(writer)

    async def forward(index: int, port: int) -> None:
        data, error = channels_for_port(index)
        try:
            reader, writer = await connect(port)
        except OSError as failure:
            settle_writer(data, None)
            await ws.send(error, _failure(pod, port, failure))
            return
        settle_writer(data, writer)
        try:
            with contextlib.suppress(ConnectionError):
                while chunk := await reader.read(_READ):
                    await ws.send(data, chunk)
        finally:
            settle_writer(data, None)
            writer.close()

    async def inbound() -> None:
        async for message in ws.messages():
            if not isinstance(message, ChannelData) or message.channel not in writers:
                continue
            writer = await writers[message.channel]
            if writer is not None:
                writer.write(message.data)
                with contextlib.suppress(ConnectionError):
                    await writer.drain()

    async def every_port() -> None:
        await asyncio.gather(*(forward(i, p) for i, p in enumerate(ports)))

    sockets = asyncio.create_task(every_port())
    reading = asyncio.create_task(inbound())
    try:
        await asyncio.wait([sockets, reading], return_when=asyncio.FIRST_COMPLETED)
    finally:
        sockets.cancel()
        reading.cancel()
        await settle(sockets, reading)
        await ws.close()
