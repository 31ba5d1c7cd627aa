"""Port-forward: stream pairs over SPDY, channel pairs over WebSocket.

Upstream: the kubelet's ``cri/streaming/portforward`` (``httpstream.go``, ``websocket.go``)
and client-go's ``tools/portforward``.

SPDY (kubectl 1.20): ``POST .../pods/<pod>/portforward`` with ``Upgrade: SPDY/3.1`` and
``X-Stream-Protocol-Version: portforward.k8s.io``, the only version. After the ``101``,
kubectl opens two streams per local connection it accepts, each waiting for its reply:
first ``streamtype: error``, then ``streamtype: data``, both with ``port: <remote port>``
and ``requestid: <n>`` (n counts from 0 per kubectl process). It half-closes the error
stream at once and reads it to EOF; data flows both ways on the data stream. The kubelet
rejects (resets) a stream with a missing or bad ``port`` or ``streamtype``, pairs the rest
by request id (``PortForwardStreams``) and gives up on a pair that is not complete within
30 s, writing ``timed out waiting for streams`` on its error stream. A forwarding failure
is written as plain text on the error stream, which makes kubectl drop the connection.

WebSocket (the Python client): ``GET .../portforward?ports=8080,9090`` offering
``v4.channel.k8s.io``. Port ``i`` gets channel ``2i`` for data and ``2i + 1`` for errors.
The server's first message on each of them is just the port, two bytes little-endian
(``initial_messages``; the Python client insists on exactly 3-byte first messages); the
client sends raw data on the data channel with no prefix.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from .errors import StreamRejected
from .remotecommand import HEADER_PORT, HEADER_REQUEST_ID, HEADER_STREAM_TYPE, StreamType

__all__ = [
    "PORT_FORWARD_PROTOCOL",
    "PortForwardPair",
    "PortForwardStreams",
    "channels_for_port",
    "initial_messages",
    "parse_ports",
    "port_prefix",
]

PORT_FORWARD_PROTOCOL = "portforward.k8s.io"


@dataclass(frozen=True, slots=True)
class PortForwardPair:
    """The two SPDY streams of one forwarded connection."""

    request_id: str
    port: int
    data_stream_id: int
    error_stream_id: int


@dataclass(slots=True)
class _Partial:
    port: int
    data_stream_id: int | None = None
    error_stream_id: int | None = None


@dataclass(slots=True)
class PortForwardStreams:
    """Pairs the SPDY streams of one port-forward connection by request id."""

    _pending: dict[str, _Partial] = field(default_factory=dict)

    def add(self, stream_id: int, headers: Mapping[str, Sequence[str]]) -> PortForwardPair | None:
        """Record a stream the client opened; the pair once both halves are in.

        Raises ``StreamRejected`` for a stream to reset instead of replying to (bad
        headers) and for a second stream of one type in a request.
        """
        port = _port_header(headers)
        kind = _first(headers, HEADER_STREAM_TYPE)
        if not kind:
            raise StreamRejected('"streamType" header is required')
        if kind not in (StreamType.ERROR, StreamType.DATA):
            raise StreamRejected(f'invalid stream type "{kind}"')
        request_id = _first(headers, HEADER_REQUEST_ID) or _legacy_request_id(stream_id, kind)
        partial = self._pending.setdefault(request_id, _Partial(port))
        if kind == StreamType.ERROR:
            if partial.error_stream_id is not None:
                raise _duplicate(request_id, "error", partial)
            partial.error_stream_id = stream_id
        else:
            if partial.data_stream_id is not None:
                raise _duplicate(request_id, "data", partial)
            partial.data_stream_id = stream_id
            partial.port = port  # upstream forwards to the data stream's port
        if partial.data_stream_id is None or partial.error_stream_id is None:
            return None
        del self._pending[request_id]
        return PortForwardPair(
            request_id, partial.port, partial.data_stream_id, partial.error_stream_id
        )

    @property
    def pending(self) -> list[str]:
        """Request ids still waiting for their other stream (time them out after 30 s)."""
        return list(self._pending)

    def discard(self, request_id: str) -> int | None:
        """Forget an incomplete request; its error stream id, to report the timeout on."""
        partial = self._pending.pop(request_id, None)
        return partial.error_stream_id if partial else None


def _first(headers: Mapping[str, Sequence[str]], name: str) -> str:
    values = headers.get(name) or ()
    return values[0] if values else ""


def _port_header(headers: Mapping[str, Sequence[str]]) -> int:
    text = _first(headers, HEADER_PORT)
    if not text:
        raise StreamRejected('"port" header is required')
    return _parse_port(text, text)


def _parse_port(text: str, shown: str) -> int:
    if not text.isascii() or not text.isdigit() or int(text) > 0xFFFF:
        raise StreamRejected(f'unable to parse "{shown}" as a port')
    if int(text) < 1:
        raise StreamRejected(f'port "{shown}" must be > 0')
    return int(text)


def _legacy_request_id(stream_id: int, kind: str) -> str:
    # Clients before request ids: error and data streams are consecutive odd ids.
    return str(stream_id if kind == StreamType.ERROR else stream_id - 2)


def _duplicate(request_id: str, kind: str, partial: _Partial) -> StreamRejected:
    message = f"error processing stream for request {request_id}: {kind} stream already assigned"
    return StreamRejected(message, error_stream_id=partial.error_stream_id)


def parse_ports(items: Iterable[tuple[str, str]]) -> list[int]:
    """The ports of a WebSocket port-forward request, from query items.

    Reads the API server's ``ports`` and the kubelet's ``port``, each repeated or
    comma-separated (``Convert_Slice_string_To_Slice_int32``); ``ValueError`` (400) when
    none is given or one is not a port in 1-65535.
    """
    texts = [v for name, value in items if name in ("ports", "port") for v in value.split(",")]
    if not texts:
        raise ValueError('query parameter "port" is required')
    ports = []
    for text in texts:
        try:
            ports.append(_parse_port(text, text))
        except StreamRejected as exc:
            raise ValueError(str(exc)) from None
    return ports


def channels_for_port(index: int) -> tuple[int, int]:
    """The data and error channels of the ``index``-th requested port."""
    return 2 * index, 2 * index + 1


def port_prefix(port: int) -> bytes:
    return struct.pack("<H", port)


def initial_messages(ports: Sequence[int]) -> list[tuple[int, bytes]]:
    """The server's first (channel, payload) messages: each channel announces its port."""
    messages = []
    for index, port in enumerate(ports):
        data, error = channels_for_port(index)
        messages += [(data, port_prefix(port)), (error, port_prefix(port))]
    return messages
