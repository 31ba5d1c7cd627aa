"""A sans-IO SPDY/3.1 connection: bytes in, events out; method calls in, bytes out.

``SpdyConnection`` never touches a socket (like h11, h2 and wsproto): the caller feeds what
it read to ``receive_data`` and gets events back, and writes whatever the sending methods
return. The bytes must be written in the order the methods were called, because every
header block continues one zlib stream (see ``spdy_frames``).

The rules are those of ``github.com/docker/spdystream``, which kubectl 1.20 and the
kubelet of its day speak, where it departs from the draft:

- Stream ids: the client opens odd streams, the server even ones; each new id must be
  above every earlier one of the peer, else the whole session fails (draft 2.3.2).
- A stream the peer opens is answered once with SYN_REPLY (kubelet replies with an empty
  header block); DATA may only follow the reply. Closing one direction is an empty DATA
  frame with FLAG_FIN; ``Stream.Reset`` is RST_STREAM with CANCEL.
- PING: the side that did not send it echoes it back, same id; clients use odd ids.
- GOAWAY carries the last stream id accepted from the peer.
- Flow control: spdystream neither sends WINDOW_UPDATE nor honours windows, and kubectl
  never sends SETTINGS. Enforcing the 64 KiB window here would stall ``kubectl cp`` after
  64 KiB, so windows are tracked (``send_window``) but never block a send, and received
  data is acknowledged only when the caller asks (``window_update``).

Frames for streams that are gone (closed, reset, never opened) are dropped silently, as
spdystream does: after a reset the peer may still have DATA in flight.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from .errors import ProtocolError, StreamStateError
from .spdy_frames import (
    FLAG_FIN,
    FLAG_SETTINGS_CLEAR,
    FLAG_UNIDIRECTIONAL,
    INITIAL_WINDOW_SIZE,
    MAX_STREAM_ID,
    DataFrame,
    Frame,
    FrameDecoder,
    FrameEncoder,
    GoAwayFrame,
    GoAwayStatus,
    Headers,
    HeadersFrame,
    PingFrame,
    RstStatus,
    RstStreamFrame,
    Setting,
    SettingId,
    SettingsFrame,
    SynReplyFrame,
    SynStreamFrame,
    WindowUpdateFrame,
    normalize_headers,
)

__all__ = [
    "DataReceived",
    "Event",
    "GoAwayReceived",
    "HeadersReceived",
    "PingReceived",
    "SettingsReceived",
    "SpdyConnection",
    "StreamOpened",
    "StreamReplied",
    "StreamReset",
    "WindowUpdated",
    "first_header",
    "is_spdy_upgrade",
    "spdy_upgrade_response_headers",
]

HEADER_SPDY31 = "SPDY/3.1"
_SEND_CHUNK = 32 * 1024  # DATA payload per frame; Go's io.Copy writes 32 KiB at a time


@dataclass(frozen=True, slots=True)
class StreamOpened:
    """The peer opened a stream (SYN_STREAM); answer with ``reply`` or ``reset``."""

    stream_id: int
    headers: Headers
    fin: bool = False  # the peer sends nothing on it
    unidirectional: bool = False  # the peer expects nothing back
    associated_stream_id: int = 0
    priority: int = 0


@dataclass(frozen=True, slots=True)
class StreamReplied:
    """The peer accepted a stream this side opened (SYN_REPLY)."""

    stream_id: int
    headers: Headers
    fin: bool = False


@dataclass(frozen=True, slots=True)
class HeadersReceived:
    stream_id: int
    headers: Headers
    fin: bool = False


@dataclass(frozen=True, slots=True)
class DataReceived:
    """Payload on a stream; ``fin`` means the peer has finished sending on it."""

    stream_id: int
    data: bytes
    fin: bool = False


@dataclass(frozen=True, slots=True)
class StreamReset:
    stream_id: int
    status: int  # an ``RstStatus``


@dataclass(frozen=True, slots=True)
class PingReceived:
    """A PING. ``echo`` is true when it answers one of ours; else echo it with ``ping``."""

    ping_id: int
    echo: bool


@dataclass(frozen=True, slots=True)
class GoAwayReceived:
    last_good_stream_id: int
    status: int  # a ``GoAwayStatus``


@dataclass(frozen=True, slots=True)
class SettingsReceived:
    settings: tuple[Setting, ...]
    clear: bool = False


@dataclass(frozen=True, slots=True)
class WindowUpdated:
    """The peer let this side send ``delta`` more bytes (``stream_id`` 0: the session)."""

    stream_id: int
    delta: int


Event = (
    StreamOpened
    | StreamReplied
    | HeadersReceived
    | DataReceived
    | StreamReset
    | PingReceived
    | GoAwayReceived
    | SettingsReceived
    | WindowUpdated
)


@dataclass(slots=True)
class _Stream:
    local: bool  # opened by this side
    replied: bool = False
    local_closed: bool = False
    remote_closed: bool = False
    send_window: int = INITIAL_WINDOW_SIZE


def first_header(headers: Headers, name: str) -> str | None:
    """The first value of header ``name`` (any case), as Go's ``http.Header.Get`` gives it."""
    values = headers.get(name.lower())
    return values[0] if values else None


def is_spdy_upgrade(headers: Iterable[tuple[str, str]]) -> bool:
    """Whether request headers ask for SPDY/3.1, as the apimachinery upgrader checks them.

    Substring tests on the first ``Connection`` and ``Upgrade`` values, case-insensitive
    (``strings.Contains`` in ``spdy.responseUpgrader``), so ``Upgrade: SPDY/3.1`` with
    ``Connection: Upgrade`` qualifies.
    """
    first: dict[str, str] = {}
    for name, value in headers:
        first.setdefault(name.lower(), value.lower())
    return "upgrade" in first.get("connection", "") and "spdy/3.1" in first.get("upgrade", "")


def spdy_upgrade_response_headers(protocol: str | None) -> list[tuple[str, str]]:
    """Headers of the ``101 Switching Protocols`` answer, with the negotiated version."""
    headers = [("Connection", "Upgrade"), ("Upgrade", HEADER_SPDY31)]
    if protocol:
        headers.append(("X-Stream-Protocol-Version", protocol))
    return headers


class SpdyConnection:
    """One SPDY/3.1 session, either side (``client=False``: the kubelet's role)."""

    def __init__(self, *, client: bool = False, max_header_block: int = 256 * 1024) -> None:
        self.client = client
        self._decoder = FrameDecoder(max_header_block=max_header_block)
        self._encoder = FrameEncoder()
        self._streams: dict[int, _Stream] = {}
        self._next_stream_id = 1 if client else 2
        self._next_ping_id = 1 if client else 2
        self._last_peer_stream_id = 0  # the GOAWAY "last good" id
        self._initial_send_window = INITIAL_WINDOW_SIZE
        self.session_send_window = INITIAL_WINDOW_SIZE
        self.go_away_received = False
        self.go_away_sent = False

    # -- receiving ---------------------------------------------------------------------

    def receive_data(self, data: bytes) -> list[Event]:
        """Events for ``data`` (any split of the byte stream); raises ``ProtocolError``."""
        self._decoder.feed(data)
        events: list[Event] = []
        for frame in self._decoder.frames():
            event = self._receive_frame(frame)
            if event is not None:
                events.append(event)
        return events

    def _receive_frame(self, frame: Frame) -> Event | None:
        match frame:
            case SynStreamFrame():
                # After our GOAWAY new streams are ignored, as spdystream does.
                return None if self.go_away_sent else self._stream_opened(frame)
            case SynReplyFrame():
                return self._replied(frame)
            case HeadersFrame():
                stream = self._streams.get(frame.stream_id)
                if stream is None or stream.remote_closed:
                    return None
                self._remote_fin(frame.stream_id, stream, fin=bool(frame.flags & FLAG_FIN))
                return HeadersReceived(frame.stream_id, frame.headers, bool(frame.flags & FLAG_FIN))
            case DataFrame():
                return self._data(frame)
            case RstStreamFrame():
                if self._streams.pop(frame.stream_id, None) is None:
                    return None
                return StreamReset(frame.stream_id, frame.status)
            case PingFrame():
                return PingReceived(frame.ping_id, echo=frame.ping_id % 2 == self._next_ping_id % 2)
            case GoAwayFrame():
                self.go_away_received = True
                return GoAwayReceived(frame.last_good_stream_id, frame.status)
            case SettingsFrame():
                self._apply_settings(frame)
                clear = bool(frame.flags & FLAG_SETTINGS_CLEAR)
                return SettingsReceived(frame.settings, clear=clear)
            case WindowUpdateFrame():
                return self._window_update(frame)
        return None  # pragma: no cover - every frame type is matched above

    def _stream_opened(self, frame: SynStreamFrame) -> StreamOpened:
        peer_parity = 0 if self.client else 1
        if frame.stream_id % 2 != peer_parity:
            raise ProtocolError(f"peer opened stream {frame.stream_id} of this side's parity")
        if frame.stream_id <= self._last_peer_stream_id:
            raise ProtocolError(f"stream id {frame.stream_id} does not increase")
        self._last_peer_stream_id = frame.stream_id
        fin = bool(frame.flags & FLAG_FIN)
        unidirectional = bool(frame.flags & FLAG_UNIDIRECTIONAL)
        stream = _Stream(local=False, remote_closed=fin, local_closed=unidirectional)
        stream.send_window = self._initial_send_window
        self._streams[frame.stream_id] = stream
        return StreamOpened(
            frame.stream_id,
            frame.headers,
            fin=fin,
            unidirectional=unidirectional,
            associated_stream_id=frame.associated_stream_id,
            priority=frame.priority,
        )

    def _replied(self, frame: SynReplyFrame) -> StreamReplied | None:
        stream = self._streams.get(frame.stream_id)
        if stream is None or not stream.local or stream.replied:
            return None  # spdystream ignores a reply to nothing, or a second one
        stream.replied = True
        fin = bool(frame.flags & FLAG_FIN)
        self._remote_fin(frame.stream_id, stream, fin=fin)
        return StreamReplied(frame.stream_id, frame.headers, fin)

    def _data(self, frame: DataFrame) -> DataReceived | None:
        stream = self._streams.get(frame.stream_id)
        if stream is None or stream.remote_closed:
            return None
        if stream.local and not stream.replied:
            return None  # spdystream drops data that precedes the reply
        fin = bool(frame.flags & FLAG_FIN)
        self._remote_fin(frame.stream_id, stream, fin=fin)
        return DataReceived(frame.stream_id, frame.data, fin)

    def _remote_fin(self, stream_id: int, stream: _Stream, *, fin: bool) -> None:
        if fin:
            stream.remote_closed = True
            self._forget_if_done(stream_id, stream)

    def _apply_settings(self, frame: SettingsFrame) -> None:
        for setting in frame.settings:
            if setting.id == SettingId.INITIAL_WINDOW_SIZE:
                change = setting.value - self._initial_send_window
                self._initial_send_window = setting.value
                for stream in self._streams.values():
                    stream.send_window += change

    def _window_update(self, frame: WindowUpdateFrame) -> WindowUpdated | None:
        if frame.stream_id == 0:
            self.session_send_window += frame.delta
        elif (stream := self._streams.get(frame.stream_id)) is not None:
            stream.send_window += frame.delta
        else:
            return None
        return WindowUpdated(frame.stream_id, frame.delta)

    # -- sending -----------------------------------------------------------------------

    def open_stream(
        self,
        headers: Mapping[str, str | Sequence[str]],
        *,
        fin: bool = False,
        unidirectional: bool = False,
        associated_stream_id: int = 0,
        priority: int = 0,
    ) -> tuple[int, bytes]:
        """Open a stream (SYN_STREAM): its id and the bytes to send."""
        stream_id = self._next_stream_id
        if stream_id > MAX_STREAM_ID:
            raise StreamStateError("stream ids exhausted; open a new connection")
        self._next_stream_id += 2
        flags = (FLAG_FIN if fin else 0) | (FLAG_UNIDIRECTIONAL if unidirectional else 0)
        stream = _Stream(local=True, local_closed=fin, remote_closed=unidirectional)
        stream.send_window = self._initial_send_window
        self._streams[stream_id] = stream
        frame = SynStreamFrame(
            stream_id,
            normalize_headers(headers),
            flags,
            associated_stream_id=associated_stream_id,
            priority=priority,
        )
        return stream_id, self._encoder.encode(frame)

    def reply(
        self,
        stream_id: int,
        headers: Mapping[str, str | Sequence[str]] | None = None,
        *,
        fin: bool = False,
    ) -> bytes:
        """Accept a stream the peer opened (SYN_REPLY); kubelet sends no headers."""
        stream = self._open_stream(stream_id)
        if stream.local or stream.replied:
            raise StreamStateError(f"stream {stream_id} was already replied to or is ours")
        stream.replied = True
        frame = SynReplyFrame(stream_id, normalize_headers(headers or {}), FLAG_FIN if fin else 0)
        data = self._encoder.encode(frame)
        self._local_fin(stream_id, stream, fin=fin)
        return data

    def send_headers(
        self, stream_id: int, headers: Mapping[str, str | Sequence[str]], *, fin: bool = False
    ) -> bytes:
        stream = self._sendable(stream_id)
        frame = HeadersFrame(stream_id, normalize_headers(headers), FLAG_FIN if fin else 0)
        data = self._encoder.encode(frame)
        self._local_fin(stream_id, stream, fin=fin)
        return data

    def send_data(self, stream_id: int, data: bytes, *, fin: bool = False) -> bytes:
        """DATA frames carrying ``data`` (split at 32 KiB); ``fin`` closes this direction.

        An empty ``data`` with ``fin`` is spdystream's ``Stream.Close``.
        """
        stream = self._sendable(stream_id)
        chunks = [data[i : i + _SEND_CHUNK] for i in range(0, len(data), _SEND_CHUNK)] or [b""]
        frames = []
        for index, chunk in enumerate(chunks):
            last = index == len(chunks) - 1
            flags = FLAG_FIN if fin and last else 0
            frames.append(self._encoder.encode(DataFrame(stream_id, chunk, flags)))
        stream.send_window -= len(data)  # advisory only: see the module docstring
        self.session_send_window -= len(data)
        self._local_fin(stream_id, stream, fin=fin)
        return b"".join(frames)

    def close_stream(self, stream_id: int) -> bytes:
        """Half-close: this side sends nothing more on the stream."""
        return self.send_data(stream_id, b"", fin=True)

    def reset(self, stream_id: int, status: int = RstStatus.CANCEL) -> bytes:
        """Abort a stream both ways (RST_STREAM); resetting a finished stream is allowed."""
        if not 0 < stream_id <= MAX_STREAM_ID:
            raise StreamStateError(f"stream id {stream_id} out of range")
        self._streams.pop(stream_id, None)
        return self._encoder.encode(RstStreamFrame(stream_id, status))

    def ping(self, ping_id: int | None = None) -> bytes:
        """A PING: a new one of this side's (``None``), or the echo of the peer's id."""
        if ping_id is None:
            ping_id = self._next_ping_id
            wrapped = 1 if self.client else 2
            self._next_ping_id = ping_id + 2 if ping_id + 2 <= MAX_STREAM_ID else wrapped
        return self._encoder.encode(PingFrame(ping_id))

    def go_away(
        self, status: int = GoAwayStatus.OK, *, last_good_stream_id: int | None = None
    ) -> bytes:
        """GOAWAY: no new streams; by default the last good id is the last accepted."""
        self.go_away_sent = True
        last_good = last_good_stream_id
        if last_good is None:
            last_good = self._last_peer_stream_id
        return self._encoder.encode(GoAwayFrame(last_good, status))

    def settings(self, values: Mapping[int, int], *, clear: bool = False) -> bytes:
        frame = SettingsFrame(tuple(Setting(k, v) for k, v in values.items()), int(clear))
        return self._encoder.encode(frame)

    def window_update(self, stream_id: int, delta: int) -> bytes:
        """Let the peer send ``delta`` more bytes on a stream (0: the whole session)."""
        if not 0 < delta <= MAX_STREAM_ID:
            raise StreamStateError(f"window delta {delta} out of range")
        return self._encoder.encode(WindowUpdateFrame(stream_id, delta))

    # -- state -------------------------------------------------------------------------

    def is_open(self, stream_id: int) -> bool:
        """Whether the stream is still known (neither reset nor closed both ways)."""
        return stream_id in self._streams

    def send_window(self, stream_id: int) -> int:
        """What the peer's windows would still allow on the stream (can go negative)."""
        return min(self._open_stream(stream_id).send_window, self.session_send_window)

    @property
    def last_peer_stream_id(self) -> int:
        return self._last_peer_stream_id

    def _open_stream(self, stream_id: int) -> _Stream:
        stream = self._streams.get(stream_id)
        if stream is None:
            raise StreamStateError(f"stream {stream_id} is not open")
        return stream

    def _sendable(self, stream_id: int) -> _Stream:
        stream = self._open_stream(stream_id)
        if stream.local_closed:
            raise StreamStateError(f"stream {stream_id} is closed for sending")
        if not stream.local and not stream.replied:
            raise StreamStateError(f"reply to stream {stream_id} before sending on it")
        return stream

    def _local_fin(self, stream_id: int, stream: _Stream, *, fin: bool) -> None:
        if fin:
            stream.local_closed = True
            self._forget_if_done(stream_id, stream)

    def _forget_if_done(self, stream_id: int, stream: _Stream) -> None:
        if stream.local_closed and stream.remote_closed:
            del self._streams[stream_id]
