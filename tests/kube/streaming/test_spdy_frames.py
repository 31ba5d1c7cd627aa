"""SPDY/3.1 frames: every type round-trips, header blocks share one zlib stream per
direction, third-party bytes decode, and garbage fails fast with ``ProtocolError``."""

from __future__ import annotations

import contextlib
import struct
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atoll.kube.streaming.errors import ProtocolError
from atoll.kube.streaming.spdy_frames import (
    DICTIONARY,
    FLAG_FIN,
    FLAG_SETTINGS_CLEAR,
    FLAG_UNIDIRECTIONAL,
    MAX_STREAM_ID,
    DataFrame,
    Frame,
    FrameDecoder,
    FrameEncoder,
    GoAwayFrame,
    GoAwayStatus,
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


def decode_all(data: bytes) -> list[Frame]:
    decoder = FrameDecoder()
    decoder.feed(data)
    return decoder.frames()


def test_dictionary_is_spdystreams() -> None:
    # github.com/docker/spdystream/spdy/dictionary.go: 1423 bytes, from the first row of
    # its hex table to the last; Adler-32 is the DICTID of every SPDY/3 zlib header.
    assert len(DICTIONARY) == 1423
    assert DICTIONARY[:16] == bytes.fromhex("000000076f7074696f6e730000000468")
    assert DICTIONARY[-7:] == bytes.fromhex("2c656e713d302e")
    assert zlib.adler32(DICTIONARY) == 0xE3C6A7C2


def test_chromium_compressed_frames_decode() -> None:
    # Chromium's spdy_framer_test kV3FrameData for CreateSynStreamCompressed and
    # CreateSynReplyCompressed, headers {"bar": "foo", "foo": "bar"}, priority 4: bytes
    # from an independent implementation (its zlib settings, not ours).
    syn = bytes.fromhex(
        "80030001000000270000000100000000800038eae3c6a7c202e50e50c24b4a04e50be6b4fc7c240a"
        "2808000000ffff"
    )
    reply = bytes.fromhex(
        "80030002000000210000000138eae3c6a7c202e50e50c24b4a04e50be6b4fc7c240a2808000000ffff"
    )
    headers = {"bar": ("foo",), "foo": ("bar",)}
    assert decode_all(syn) == [SynStreamFrame(1, headers, priority=4)]
    assert decode_all(reply) == [SynReplyFrame(1, headers)]


def test_hand_built_syn_stream_as_spdystream_writes_it() -> None:
    # What kubectl's first frame of an exec looks like, built byte by byte: Go's Framer
    # deflates the block at BestCompression with the dictionary and a sync flush.
    name, value = b"streamtype", b"error"
    block = struct.pack("!I", 1) + struct.pack("!I", len(name)) + name
    block += struct.pack("!I", len(value)) + value
    deflate = zlib.compressobj(9, zlib.DEFLATED, 15, 8, zlib.Z_DEFAULT_STRATEGY, DICTIONARY)
    compressed = deflate.compress(block) + deflate.flush(zlib.Z_SYNC_FLUSH)
    assert compressed[:6] == bytes.fromhex("78f9e3c6a7c2")  # FDICT set, dictionary id
    assert compressed.endswith(b"\x00\x00\xff\xff")  # the sync-flush marker
    payload = struct.pack("!IIBB", 1, 0, 0, 0) + compressed
    frame = struct.pack("!HHI", 0x8003, 1, len(payload)) + payload

    assert decode_all(frame) == [SynStreamFrame(1, {"streamtype": ("error",)})]
    # ... and our encoder emits exactly these bytes for that frame (same zlib, same level).
    assert FrameEncoder().encode(SynStreamFrame(1, {"streamtype": ("error",)})) == frame


FRAMES: list[Frame] = [
    SynStreamFrame(1, {"streamtype": ("stdin",)}, FLAG_FIN, associated_stream_id=0, priority=7),
    SynStreamFrame(3, {"a": ("1", "2"), "b": ("",)}, FLAG_FIN | FLAG_UNIDIRECTIONAL, 1, 2, 9),
    SynReplyFrame(1, {}),
    SynReplyFrame(MAX_STREAM_ID, {"x": ("y",)}, FLAG_FIN),
    HeadersFrame(5, {"port": ("8080",)}, FLAG_FIN),
    RstStreamFrame(1, RstStatus.CANCEL),
    RstStreamFrame(7, RstStatus.FRAME_TOO_LARGE),
    SettingsFrame(),
    SettingsFrame(
        (
            Setting(SettingId.INITIAL_WINDOW_SIZE, 1 << 20),
            Setting(SettingId.MAX_CONCURRENT_STREAMS, 100, flags=1),
            Setting(0xFFFFFF, 0xFFFFFFFF, flags=0xFF),
        ),
        FLAG_SETTINGS_CLEAR,
    ),
    PingFrame(1),
    PingFrame(0xFFFFFFFF),
    GoAwayFrame(0),
    GoAwayFrame(MAX_STREAM_ID, GoAwayStatus.INTERNAL_ERROR),
    WindowUpdateFrame(0, 1),
    WindowUpdateFrame(3, MAX_STREAM_ID),
    DataFrame(1, b""),
    DataFrame(1, b"", FLAG_FIN),
    DataFrame(MAX_STREAM_ID, bytes(range(256)) * 300, FLAG_FIN),
]


@pytest.mark.parametrize("frame", FRAMES, ids=lambda f: type(f).__name__)
def test_every_frame_type_round_trips(frame: Frame) -> None:
    assert decode_all(FrameEncoder().encode(frame)) == [frame]


def test_all_frames_in_one_stream_share_the_compression_context() -> None:
    encoder = FrameEncoder()
    wire = b"".join(encoder.encode(frame) for frame in FRAMES)
    assert decode_all(wire) == FRAMES


def test_header_blocks_continue_one_zlib_stream() -> None:
    encoder = FrameEncoder()
    headers = {"streamtype": ("stdout",), "port": ("8080",), "requestid": ("0",)}
    first = encoder.encode(SynStreamFrame(1, headers))
    second = encoder.encode(SynStreamFrame(3, headers))
    third = encoder.encode(SynReplyFrame(3, headers))
    # The repeats compress to back-references into the shared window.
    assert len(second) < len(first)
    assert second[18:20] != b"\x78\xf9"  # no second zlib header: one stream per direction
    assert decode_all(first + second + third)[2] == SynReplyFrame(3, headers)

    fresh = FrameDecoder()
    fresh.feed(second)  # without the first block's context it cannot inflate
    with pytest.raises(ProtocolError):
        fresh.frames()


def test_header_names_are_lowercased_and_merged() -> None:
    headers = normalize_headers({"streamType": "error", "Port": ["1"], "port": "2", "E": []})
    assert headers == {"streamtype": ("error",), "port": ("1", "2"), "e": ("",)}
    frame = SynStreamFrame(1, headers)
    assert decode_all(FrameEncoder().encode(frame)) == [frame]


@pytest.mark.parametrize("headers", [{"": "x"}, {"a\0b": "x"}, {"a": "x\0y"}, {"a": "\u20ac"}])
def test_unencodable_headers_are_refused(headers: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        normalize_headers(headers)


def test_frames_arrive_across_any_split() -> None:
    encoder = FrameEncoder()
    wire = b"".join(encoder.encode(frame) for frame in FRAMES)
    decoder = FrameDecoder()
    got: list[Frame] = []
    for index in range(len(wire)):
        decoder.feed(wire[index : index + 1])
        got += decoder.frames()
    assert got == FRAMES


def test_unknown_control_frames_are_skipped() -> None:
    credential = struct.pack("!HHI", 0x8003, 10, 3) + b"abc"  # CREDENTIAL, type 10
    noop = struct.pack("!HHI", 0x8003, 5, 0)
    ping = FrameEncoder().encode(PingFrame(7))
    assert decode_all(credential + noop + ping) == [PingFrame(7)]


def _control(kind: int, payload: bytes, flags: int = 0, version: int = 3) -> bytes:
    return struct.pack("!HHI", 0x8000 | version, kind, flags << 24 | len(payload)) + payload


def _block(raw: bytes, *, finish: bool = False, dictionary: bytes = DICTIONARY) -> bytes:
    deflate = zlib.compressobj(9, zlib.DEFLATED, 15, 8, zlib.Z_DEFAULT_STRATEGY, dictionary)
    return deflate.compress(raw) + deflate.flush(zlib.Z_FINISH if finish else zlib.Z_SYNC_FLUSH)


def _pairs(*pairs: tuple[bytes, bytes], count: int | None = None) -> bytes:
    raw = struct.pack("!I", len(pairs) if count is None else count)
    for name, value in pairs:
        raw += struct.pack("!I", len(name)) + name + struct.pack("!I", len(value)) + value
    return raw


SYN_HEAD = struct.pack("!IIBB", 1, 0, 0, 0)

GARBAGE = {
    "an HTTP request": b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    "SPDY/2": _control(6, struct.pack("!I", 1), version=2),
    "DATA on stream 0": struct.pack("!II", 0, 1) + b"x",
    "DATA with unknown flags": struct.pack("!II", 1, 0x02 << 24),
    "PING of 8 bytes": _control(6, bytes(8)),
    "PING id 0": _control(6, bytes(4)),
    "PING with flags": _control(6, struct.pack("!I", 1), flags=1),
    "RST_STREAM status 0": _control(3, struct.pack("!II", 1, 0)),
    "RST_STREAM stream 0": _control(3, struct.pack("!II", 0, 5)),
    "RST_STREAM short": _control(3, struct.pack("!I", 1)),
    "GOAWAY short": _control(7, struct.pack("!I", 1)),
    "WINDOW_UPDATE with flags": _control(9, struct.pack("!II", 1, 1), flags=1),
    "SETTINGS count mismatch": _control(4, struct.pack("!III", 2, 1, 1)),
    "SYN_STREAM short": _control(1, bytes(6)),
    "SYN_STREAM unknown flag": _control(1, SYN_HEAD + _block(_pairs()), flags=4),
    "SYN_STREAM stream 0": _control(1, bytes(10) + _block(_pairs())),
    "SYN_REPLY stream 0": _control(2, bytes(4) + _block(_pairs())),
    "uncompressed block": _control(1, SYN_HEAD + _pairs((b"a", b"b"))),
    "corrupt zlib": _control(1, SYN_HEAD + b"\x78\xf9\xe3\xc6\xa7\xc2\xff\xff\xff\xff"),
    "wrong dictionary": _control(1, SYN_HEAD + _block(_pairs(), dictionary=DICTIONARY[:-1])),
    "block claims a million pairs": _control(1, SYN_HEAD + _block(_pairs(count=1_000_000))),
    "block truncated": _control(1, SYN_HEAD + _block(_pairs((b"a", b"b"))[:-1])),
    "trailing bytes in block": _control(1, SYN_HEAD + _block(_pairs((b"a", b"b")) + b"x")),
    "uppercase name": _control(1, SYN_HEAD + _block(_pairs((b"Port", b"1")))),
    "empty name": _control(1, SYN_HEAD + _block(_pairs((b"", b"1")))),
    "duplicate name": _control(1, SYN_HEAD + _block(_pairs((b"a", b"1"), (b"a", b"2")))),
    "hop-by-hop header": _control(1, SYN_HEAD + _block(_pairs((b"connection", b"close")))),
    "finished zlib stream": _control(1, SYN_HEAD + _block(_pairs(), finish=True)),
}


@pytest.mark.parametrize("data", GARBAGE.values(), ids=GARBAGE.keys())
def test_garbage_raises_protocol_error(data: bytes) -> None:
    decoder = FrameDecoder()
    decoder.feed(data)
    with pytest.raises(ProtocolError):
        decoder.frames()


def test_an_oversized_frame_fails_on_its_header() -> None:
    decoder = FrameDecoder(max_frame_length=1024)
    decoder.feed(struct.pack("!II", 1, 4096))  # nothing of the payload has arrived yet
    with pytest.raises(ProtocolError):
        decoder.frames()


def test_a_header_block_bomb_is_refused() -> None:
    decoder = FrameDecoder(max_header_block=1024)
    decoder.feed(_control(1, SYN_HEAD + _block(_pairs((b"a", b"x" * 100_000)))))
    with pytest.raises(ProtocolError, match="too large"):
        decoder.frames()


# -- properties -------------------------------------------------------------------------

stream_ids = st.integers(1, MAX_STREAM_ID)
header_text = st.text(st.characters(min_codepoint=1, max_codepoint=0xFF), max_size=12)
_HOP_BY_HOP = {"connection", "host", "keep-alive", "proxy-connection", "transfer-encoding"}
header_names = header_text.map(str.lower).filter(lambda n: bool(n) and n not in _HOP_BY_HOP)
header_blocks = st.dictionaries(
    header_names, st.lists(header_text.filter(lambda v: "\0" not in v), min_size=1, max_size=3)
).map(lambda h: {k: tuple(v) for k, v in h.items()})
frames = st.one_of(
    st.builds(
        SynStreamFrame,
        stream_ids,
        header_blocks,
        st.integers(0, 3),
        st.integers(0, MAX_STREAM_ID),
        st.integers(0, 7),
        st.integers(0, 255),
    ),
    st.builds(SynReplyFrame, stream_ids, header_blocks, st.integers(0, 1)),
    st.builds(HeadersFrame, stream_ids, header_blocks, st.integers(0, 1)),
    st.builds(RstStreamFrame, stream_ids, st.integers(1, 0xFFFFFFFF)),
    st.builds(
        SettingsFrame,
        st.lists(
            st.builds(
                Setting, st.integers(0, 0xFFFFFF), st.integers(0, 0xFFFFFFFF), st.integers(0, 255)
            ),
            max_size=5,
        ).map(tuple),
        st.integers(0, 1),
    ),
    st.builds(PingFrame, st.integers(1, 0xFFFFFFFF)),
    st.builds(GoAwayFrame, st.integers(0, MAX_STREAM_ID), st.integers(0, 0xFFFFFFFF)),
    st.builds(WindowUpdateFrame, st.integers(0, MAX_STREAM_ID), st.integers(0, MAX_STREAM_ID)),
    st.builds(DataFrame, stream_ids, st.binary(max_size=300), st.integers(0, 1)),
)


@given(st.lists(frames, max_size=8), st.data())
def test_frame_sequences_round_trip_in_any_split(batch: list[Frame], data: st.DataObject) -> None:
    encoder = FrameEncoder()
    wire = b"".join(encoder.encode(frame) for frame in batch)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(wire)), max_size=6)))
    decoder = FrameDecoder()
    got: list[Frame] = []
    for start, end in zip([0, *cuts], [*cuts, len(wire)], strict=True):
        decoder.feed(wire[start:end])
        got += decoder.frames()
    assert got == batch


@given(st.binary(max_size=200))
def test_random_bytes_never_fail_any_other_way(data: bytes) -> None:
    decoder = FrameDecoder()
    decoder.feed(data)
    with contextlib.suppress(ProtocolError):
        decoder.frames()
