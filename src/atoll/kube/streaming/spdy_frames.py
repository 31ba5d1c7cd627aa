"""SPDY/3.1 frames: their values, and the codec between them and bytes.

Every frame starts with 8 bytes. A control frame is ``1 | version (15) | type (16)`` then
``flags (8) | length (24)``; a DATA frame is ``0 | stream id (31)`` then the same
``flags | length``. The header blocks of SYN_STREAM, SYN_REPLY and HEADERS are
``count (32)`` then ``len (32) name len (32) value`` pairs (several values of one name
joined by NUL), deflated with zlib primed with the SPDY/3 dictionary. The compression
context lives as long as the connection, one per direction: every block is a
``Z_SYNC_FLUSH`` continuation of the previous one, so blocks must be encoded and sent in
the same order, and a peer's blocks decoded in the order they arrive.

This follows ``github.com/docker/spdystream/spdy`` (vendored by Kubernetes 1.20, the peer
of kubectl 1.20) where it differs from the draft: header names are lowercased on write,
``BestCompression`` deflate, lengths checked as strictly as its reader. Unlike it, unknown
control frame types are skipped, as the draft asks, instead of failing the connection.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum

from .errors import ProtocolError

__all__ = [
    "DICTIONARY",
    "FLAG_FIN",
    "FLAG_SETTINGS_CLEAR",
    "FLAG_UNIDIRECTIONAL",
    "INITIAL_WINDOW_SIZE",
    "MAX_FRAME_LENGTH",
    "MAX_STREAM_ID",
    "DataFrame",
    "Frame",
    "FrameDecoder",
    "FrameEncoder",
    "FrameType",
    "GoAwayFrame",
    "GoAwayStatus",
    "Headers",
    "HeadersFrame",
    "PingFrame",
    "RstStatus",
    "RstStreamFrame",
    "Setting",
    "SettingId",
    "SettingsFrame",
    "SynReplyFrame",
    "SynStreamFrame",
    "WindowUpdateFrame",
    "normalize_headers",
]

VERSION = 3
FLAG_FIN = 0x01
FLAG_UNIDIRECTIONAL = 0x02
FLAG_SETTINGS_CLEAR = 0x01
INITIAL_WINDOW_SIZE = 64 * 1024  # both stream and session windows start here (SPDY/3.1)
MAX_FRAME_LENGTH = (1 << 24) - 1
MAX_STREAM_ID = (1 << 31) - 1
MAX_HEADER_BLOCK = 256 * 1024  # decompressed; Kubernetes' blocks are a few dozen bytes

_NAMES_TEXT = (
    "options head post put delete trace accept accept-charset accept-encoding"
    " accept-language accept-ranges age allow authorization cache-control connection"
    " content-base content-encoding content-language content-length content-location"
    " content-md5 content-range content-type date etag expect expires from host if-match"
    " if-modified-since if-none-match if-range if-unmodified-since last-modified location"
    " max-forwards pragma proxy-authenticate proxy-authorization range referer"
    " retry-after server te trailer transfer-encoding upgrade user-agent vary via warning"
    " www-authenticate method get status"
)
_NAMES = (*_NAMES_TEXT.split(), "200 OK", "version", "HTTP/1.1", "url", "public")
_NAMES += ("set-cookie", "keep-alive", "origin")
_TAIL = (
    "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
    "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request"
    "401 Unauthorized403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented"
    "503 Service UnavailableJan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00"
    " Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMTchunked,text/html,image/png,image/jpg,image/gif,"
    "application/xml,application/xhtml+xml,text/plain,text/javascript,public"
    "privatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0."
)

# The zlib dictionary of SPDY/3, written out the readable way: length-prefixed names, then
# a run of common values. 1423 bytes, Adler-32 0xe3c6a7c2 (the DICTID in every SPDY/3 zlib
# header); tests pin both, and Chromium's compressed test frames decode with it.
DICTIONARY = b"".join(len(w).to_bytes(4, "big") + w.encode() for w in _NAMES) + _TAIL.encode()

Headers = Mapping[str, tuple[str, ...]]
"""A decoded header block: lowercase names, each with its values in order."""


class FrameType(IntEnum):
    SYN_STREAM = 1
    SYN_REPLY = 2
    RST_STREAM = 3
    SETTINGS = 4
    PING = 6
    GOAWAY = 7
    HEADERS = 8
    WINDOW_UPDATE = 9


class RstStatus(IntEnum):
    PROTOCOL_ERROR = 1
    INVALID_STREAM = 2
    REFUSED_STREAM = 3
    UNSUPPORTED_VERSION = 4
    CANCEL = 5  # what spdystream's Stream.Reset sends
    INTERNAL_ERROR = 6
    FLOW_CONTROL_ERROR = 7
    STREAM_IN_USE = 8
    STREAM_ALREADY_CLOSED = 9
    INVALID_CREDENTIALS = 10
    FRAME_TOO_LARGE = 11


class GoAwayStatus(IntEnum):
    OK = 0
    PROTOCOL_ERROR = 1
    INTERNAL_ERROR = 2


class SettingId(IntEnum):
    UPLOAD_BANDWIDTH = 1
    DOWNLOAD_BANDWIDTH = 2
    ROUND_TRIP_TIME = 3
    MAX_CONCURRENT_STREAMS = 4
    CURRENT_CWND = 5
    DOWNLOAD_RETRANS_RATE = 6
    INITIAL_WINDOW_SIZE = 7
    CLIENT_CERTIFICATE_VECTOR_SIZE = 8


@dataclass(frozen=True, slots=True)
class SynStreamFrame:
    stream_id: int
    headers: Headers
    flags: int = 0
    associated_stream_id: int = 0
    priority: int = 0  # 0 (highest) to 7
    slot: int = 0


@dataclass(frozen=True, slots=True)
class SynReplyFrame:
    stream_id: int
    headers: Headers
    flags: int = 0


@dataclass(frozen=True, slots=True)
class HeadersFrame:
    stream_id: int
    headers: Headers
    flags: int = 0


@dataclass(frozen=True, slots=True)
class RstStreamFrame:
    stream_id: int
    status: int


@dataclass(frozen=True, slots=True)
class Setting:
    id: int  # a SettingId, or any 24-bit id a peer sends
    value: int
    flags: int = 0


@dataclass(frozen=True, slots=True)
class SettingsFrame:
    settings: tuple[Setting, ...] = ()
    flags: int = 0


@dataclass(frozen=True, slots=True)
class PingFrame:
    ping_id: int


@dataclass(frozen=True, slots=True)
class GoAwayFrame:
    last_good_stream_id: int
    status: int = GoAwayStatus.OK


@dataclass(frozen=True, slots=True)
class WindowUpdateFrame:
    stream_id: int  # 0: the session window (SPDY/3.1)
    delta: int


@dataclass(frozen=True, slots=True)
class DataFrame:
    stream_id: int
    data: bytes = b""
    flags: int = 0


Frame = (
    SynStreamFrame
    | SynReplyFrame
    | HeadersFrame
    | RstStreamFrame
    | SettingsFrame
    | PingFrame
    | GoAwayFrame
    | WindowUpdateFrame
    | DataFrame
)


def normalize_headers(headers: Mapping[str, str | Sequence[str]]) -> dict[str, tuple[str, ...]]:
    """Headers as a block carries them: lowercase names (merged), values as tuples.

    Raises ``ValueError`` for what cannot be encoded: an empty name, a NUL in a name or
    value (NUL separates values), a character beyond Latin-1.
    """
    out: dict[str, tuple[str, ...]] = {}
    for name, value in headers.items():
        values = (value,) if isinstance(value, str) else tuple(value) or ("",)
        key = name.lower()
        if not key or "\0" in key or any("\0" in v for v in values):
            raise ValueError(f"header {name!r} cannot be encoded in a SPDY header block")
        for text in (key, *values):
            text.encode("latin-1")  # raises UnicodeEncodeError (a ValueError) when it can't
        out[key] = out.get(key, ()) + values
    return out


def _encode_block(headers: Headers) -> bytes:
    parts = [struct.pack("!I", len(headers))]
    for name, values in headers.items():
        raw_name = name.lower().encode("latin-1")
        raw_value = "\0".join(values).encode("latin-1")
        parts += [struct.pack("!I", len(raw_name)), raw_name]
        parts += [struct.pack("!I", len(raw_value)), raw_value]
    return b"".join(parts)


def _decode_block(block: bytes) -> dict[str, tuple[str, ...]]:
    if len(block) < 4:
        raise ProtocolError("header block shorter than its count")
    (count,) = struct.unpack_from("!I", block)
    if count * 8 > len(block) - 4:  # each pair needs two length words at least
        raise ProtocolError(f"header block claims {count} pairs it cannot hold")
    headers: dict[str, tuple[str, ...]] = {}
    pos = 4
    for _ in range(count):
        name, pos = _length_prefixed(block, pos)
        value, pos = _length_prefixed(block, pos)
        key = name.decode("latin-1")
        if not key or key != key.lower():
            raise ProtocolError(f"header name {key!r} is empty or not lowercase")
        if key in headers:
            raise ProtocolError(f"header {key!r} appears twice")
        headers[key] = tuple(value.decode("latin-1").split("\0"))
    if pos != len(block):
        raise ProtocolError("trailing bytes after the header block")
    return headers


def _length_prefixed(block: bytes, pos: int) -> tuple[bytes, int]:
    if pos + 4 > len(block):
        raise ProtocolError("header block truncated")
    (length,) = struct.unpack_from("!I", block, pos)
    end = pos + 4 + length
    if end > len(block):
        raise ProtocolError("header block truncated")
    return block[pos + 4 : end], end


class FrameEncoder:
    """Frames to bytes, holding the sending direction's header-compression context."""

    def __init__(self) -> None:
        # BestCompression and a 32 KiB window, as Go's zlib.NewWriterLevelDict in spdystream.
        self._deflate = zlib.compressobj(
            9, zlib.DEFLATED, 15, 8, zlib.Z_DEFAULT_STRATEGY, DICTIONARY
        )

    def encode(self, frame: Frame) -> bytes:
        """The bytes of ``frame``; header blocks continue this encoder's zlib stream."""
        if isinstance(frame, DataFrame):
            return self._data(frame)
        kind, flags, payload = self._control(frame)
        if len(payload) > MAX_FRAME_LENGTH:
            raise ValueError("control frame too large for SPDY")
        return struct.pack("!HHI", 0x8000 | VERSION, kind, flags << 24 | len(payload)) + payload

    def _data(self, frame: DataFrame) -> bytes:
        _check_stream_id(frame.stream_id)
        if len(frame.data) > MAX_FRAME_LENGTH:
            raise ValueError("DATA payload too large for one frame")
        return struct.pack("!II", frame.stream_id, frame.flags << 24 | len(frame.data)) + frame.data

    def _control(self, frame: Frame) -> tuple[int, int, bytes]:
        match frame:
            case SynStreamFrame():
                _check_stream_id(frame.stream_id)
                head = struct.pack(
                    "!IIBB",
                    frame.stream_id,
                    frame.associated_stream_id,
                    (frame.priority & 0x7) << 5,
                    frame.slot,
                )
                return FrameType.SYN_STREAM, frame.flags, head + self._block(frame.headers)
            case SynReplyFrame() | HeadersFrame():
                _check_stream_id(frame.stream_id)
                reply = isinstance(frame, SynReplyFrame)
                kind = FrameType.SYN_REPLY if reply else FrameType.HEADERS
                block = self._block(frame.headers)
                return kind, frame.flags, struct.pack("!I", frame.stream_id) + block
            case RstStreamFrame():
                _check_stream_id(frame.stream_id)
                return FrameType.RST_STREAM, 0, struct.pack("!II", frame.stream_id, frame.status)
            case SettingsFrame():
                pack = struct.Struct("!II").pack
                entries = (pack(e.flags << 24 | e.id, e.value) for e in frame.settings)
                payload = struct.pack("!I", len(frame.settings)) + b"".join(entries)
                return FrameType.SETTINGS, frame.flags, payload
            case PingFrame():
                return FrameType.PING, 0, struct.pack("!I", frame.ping_id)
            case GoAwayFrame():
                last_good = struct.pack("!II", frame.last_good_stream_id, frame.status)
                return FrameType.GOAWAY, 0, last_good
            case WindowUpdateFrame():
                return FrameType.WINDOW_UPDATE, 0, struct.pack("!II", frame.stream_id, frame.delta)
        raise TypeError(f"not a SPDY frame: {frame!r}")

    def _block(self, headers: Headers) -> bytes:
        raw = _encode_block(headers)
        return self._deflate.compress(raw) + self._deflate.flush(zlib.Z_SYNC_FLUSH)


def _check_stream_id(stream_id: int) -> None:
    if not 0 < stream_id <= MAX_STREAM_ID:
        raise ValueError(f"stream id {stream_id} out of range")


# Exact payload lengths and allowed flags of the fixed-size frames, checked on the 8-byte
# header already, so that garbage fails at once instead of after a claimed length arrives.
_FIXED_LENGTH = {
    FrameType.RST_STREAM: 8,
    FrameType.PING: 4,
    FrameType.GOAWAY: 8,
    FrameType.WINDOW_UPDATE: 8,
}
_MIN_LENGTH = {FrameType.SYN_STREAM: 10, FrameType.SYN_REPLY: 4, FrameType.HEADERS: 4}
_ALLOWED_FLAGS = {
    FrameType.SYN_STREAM: FLAG_FIN | FLAG_UNIDIRECTIONAL,
    FrameType.SYN_REPLY: FLAG_FIN,
    FrameType.HEADERS: FLAG_FIN,
    FrameType.SETTINGS: FLAG_SETTINGS_CLEAR,
}
# Headers a peer may not send on a stream (hop-by-hop), as spdystream's reader refuses them.
_FORBIDDEN_REQUEST = frozenset({"connection", "host", "keep-alive", "proxy-connection"})
_FORBIDDEN_REQUEST |= {"transfer-encoding"}
_FORBIDDEN_RESPONSE = _FORBIDDEN_REQUEST - {"host"}


class FrameDecoder:
    """Bytes to frames, holding the receiving direction's header-decompression context.

    ``feed`` takes whatever arrived; ``frames`` returns every complete frame so far. Each
    call consumes whole frames only, so it always ends. Any violation raises
    ``ProtocolError``, after which the decoder must not be used again.
    """

    def __init__(
        self, *, max_frame_length: int = MAX_FRAME_LENGTH, max_header_block: int = MAX_HEADER_BLOCK
    ) -> None:
        self._buffer = bytearray()
        self._inflate = zlib.decompressobj(zdict=DICTIONARY)
        self._max_frame_length = max_frame_length
        self._max_header_block = max_header_block

    def feed(self, data: bytes) -> None:
        self._buffer += data

    def frames(self) -> list[Frame]:
        out: list[Frame] = []
        while len(self._buffer) >= 8:
            first, second = struct.unpack_from("!II", self._buffer)
            flags, length = second >> 24, second & 0xFFFFFF
            self._check_header(first, flags, length)
            if len(self._buffer) < 8 + length:
                break
            payload = bytes(self._buffer[8 : 8 + length])
            del self._buffer[: 8 + length]
            if first & 0x80000000 == 0:
                out.append(DataFrame(first, payload, flags))
            elif (frame := self._control(first & 0xFFFF, flags, payload)) is not None:
                out.append(frame)
        return out

    def _check_header(self, first: int, flags: int, length: int) -> None:
        if length > self._max_frame_length:
            raise ProtocolError(f"frame of {length} bytes exceeds the limit")
        if first & 0x80000000 == 0:
            if first == 0:
                raise ProtocolError("DATA frame on stream 0")
            if flags & ~FLAG_FIN:
                raise ProtocolError(f"DATA frame with unknown flags {flags:#x}")
            return
        version, kind = (first >> 16) & 0x7FFF, first & 0xFFFF
        if version != VERSION:
            raise ProtocolError(f"SPDY version {version} is not 3")
        if kind not in FrameType._value2member_map_:
            return  # unknown control frames are skipped whole
        frame_type = FrameType(kind)
        expected = _FIXED_LENGTH.get(frame_type)
        if expected is not None and (length != expected or flags):
            raise ProtocolError(f"{frame_type.name} frame with length {length}, flags {flags}")
        if length < _MIN_LENGTH.get(frame_type, 0):
            raise ProtocolError(f"{frame_type.name} frame too short")
        if flags & ~_ALLOWED_FLAGS.get(frame_type, 0):
            raise ProtocolError(f"{frame_type.name} frame with unknown flags {flags:#x}")

    def _control(self, kind: int, flags: int, payload: bytes) -> Frame | None:
        match kind:
            case FrameType.SYN_STREAM:
                stream_id, associated, priority, slot = struct.unpack_from("!IIBB", payload)
                headers = self._headers(payload[10:], _FORBIDDEN_REQUEST)
                frame = SynStreamFrame(
                    _stream(stream_id),
                    headers,
                    flags,
                    associated & MAX_STREAM_ID,
                    priority >> 5,
                    slot,
                )
                return frame
            case FrameType.SYN_REPLY | FrameType.HEADERS:
                stream_id = _stream(struct.unpack_from("!I", payload)[0])
                headers = self._headers(payload[4:], _FORBIDDEN_RESPONSE)
                if kind == FrameType.SYN_REPLY:
                    return SynReplyFrame(stream_id, headers, flags)
                return HeadersFrame(stream_id, headers, flags)
            case FrameType.RST_STREAM:
                stream_id, status = struct.unpack("!II", payload)
                if status == 0:
                    raise ProtocolError("RST_STREAM with status 0")
                return RstStreamFrame(_stream(stream_id), status)
            case FrameType.SETTINGS:
                return _settings(flags, payload)
            case FrameType.PING:
                (ping_id,) = struct.unpack("!I", payload)
                if ping_id == 0:
                    raise ProtocolError("PING with id 0")
                return PingFrame(ping_id)
            case FrameType.GOAWAY:
                last_good, status = struct.unpack("!II", payload)
                return GoAwayFrame(last_good & MAX_STREAM_ID, status)
            case FrameType.WINDOW_UPDATE:
                stream_id, delta = struct.unpack("!II", payload)
                return WindowUpdateFrame(stream_id & MAX_STREAM_ID, delta & MAX_STREAM_ID)
        return None

    def _headers(self, block: bytes, forbidden: frozenset[str]) -> dict[str, tuple[str, ...]]:
        try:
            raw = self._inflate.decompress(block, self._max_header_block + 1)
        except zlib.error as exc:
            raise ProtocolError(f"header block does not inflate: {exc}") from exc
        if self._inflate.unconsumed_tail or len(raw) > self._max_header_block:
            raise ProtocolError("header block too large")
        if self._inflate.eof:
            raise ProtocolError("peer ended its header compression stream")
        headers = _decode_block(raw)
        if bad := forbidden.intersection(headers):
            raise ProtocolError(f"hop-by-hop header {sorted(bad)[0]!r} on a stream")
        return headers


def _stream(raw: int) -> int:
    stream_id = raw & MAX_STREAM_ID
    if stream_id == 0:
        raise ProtocolError("control frame for stream 0")
    return stream_id


def _settings(flags: int, payload: bytes) -> SettingsFrame:
    (count,) = struct.unpack_from("!I", payload)
    if len(payload) != 4 + 8 * count:
        raise ProtocolError(f"SETTINGS frame of {len(payload)} bytes claims {count} entries")
    entries = []
    for pos in range(4, len(payload), 8):
        flags_and_id, value = struct.unpack_from("!II", payload, pos)
        entries.append(Setting(flags_and_id & 0xFFFFFF, value, flags_and_id >> 24))
    return SettingsFrame(tuple(entries), flags)
