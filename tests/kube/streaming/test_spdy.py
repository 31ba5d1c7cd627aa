"""``SpdyConnection``: a kubectl-shaped client and a kubelet-shaped server talk through it.

The client side plays kubectl 1.20 with the module's own client helpers: one stream at a
time, each waiting for its SYN_REPLY, in client-go's order.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atoll.kube.streaming.errors import ProtocolError, StreamStateError
from atoll.kube.streaming.remotecommand import (
    SPDY_EXEC_PROTOCOLS,
    ExecOptions,
    ExecStreams,
    StreamProtocol,
    StreamType,
    error_stream_payload,
    exit_code_from_error_stream,
    exit_status,
    negotiate_protocol,
    parse_protocol_versions,
)
from atoll.kube.streaming.spdy import (
    DataReceived,
    Event,
    GoAwayReceived,
    PingReceived,
    SettingsReceived,
    SpdyConnection,
    StreamOpened,
    StreamReplied,
    StreamReset,
    WindowUpdated,
    first_header,
    is_spdy_upgrade,
    spdy_upgrade_response_headers,
)
from atoll.kube.streaming.spdy_frames import (
    INITIAL_WINDOW_SIZE,
    DataFrame,
    FrameDecoder,
    FrameEncoder,
    GoAwayFrame,
    GoAwayStatus,
    RstStatus,
    SettingId,
    SynStreamFrame,
)


def deliver(data: bytes, to: SpdyConnection) -> list[Event]:
    return to.receive_data(data)


def open_and_wait(client: SpdyConnection, server: SpdyConnection, headers: dict[str, str]) -> int:
    """client-go's CreateStream: SYN_STREAM, then block until the SYN_REPLY."""
    stream_id, data = client.open_stream(headers)
    (opened,) = deliver(data, server)
    assert isinstance(opened, StreamOpened)
    assert deliver(server.reply(opened.stream_id), client) == [StreamReplied(stream_id, {})]
    return stream_id


def test_kubectl_exec_tty_session_v4() -> None:
    # kubectl exec -it pod -- sh: stdin, stdout and tty (so no stderr), v4 negotiated.
    kubectl, kubelet = SpdyConnection(client=True), SpdyConnection()
    options = ExecOptions.from_query(
        [("command", "sh"), ("stdin", "true"), ("stdout", "true"), ("tty", "true")]
    )
    streams = ExecStreams(options, StreamProtocol.V4)
    roles = {}
    for kind in ("error", "stdin", "stdout", "resize"):
        stream_id, data = kubectl.open_stream({"streamType": kind})
        (opened,) = deliver(data, kubelet)
        assert isinstance(opened, StreamOpened)
        assert first_header(opened.headers, "streamType") == kind  # lowercase on the wire
        roles[streams.add(opened.stream_id, opened.headers)] = stream_id
        assert streams.complete is (kind == "resize")
        deliver(kubelet.reply(opened.stream_id), kubectl)
    assert roles == {
        StreamType.ERROR: 1,
        StreamType.STDIN: 3,
        StreamType.STDOUT: 5,
        StreamType.RESIZE: 7,
    }

    # A resize, keystrokes, output, then stdin closed at EOF.
    resize = deliver(kubectl.send_data(7, b'{"Width":120,"Height":40}\n'), kubelet)
    assert resize == [DataReceived(7, b'{"Width":120,"Height":40}\n')]
    assert deliver(kubectl.send_data(3, b"exit 3\n"), kubelet) == [DataReceived(3, b"exit 3\n")]
    assert deliver(kubelet.send_data(5, b"$ "), kubectl) == [DataReceived(5, b"$ ")]
    assert deliver(kubectl.close_stream(3), kubelet) == [DataReceived(3, b"", fin=True)]

    # The exit status goes on the error stream, which kubectl reads to EOF.
    payload = error_stream_payload(exit_status(3), StreamProtocol.V4)
    received = deliver(kubelet.send_data(1, payload, fin=True), kubectl)
    assert received == [DataReceived(1, payload, fin=True)]
    assert exit_code_from_error_stream(payload, StreamProtocol.V4) == 3

    # kubelet's conn.Close(): streams reset, then GOAWAY naming the last accepted stream.
    for stream_id in (5, 7):
        assert deliver(kubelet.reset(stream_id), kubectl) == [
            StreamReset(stream_id, RstStatus.CANCEL)
        ]
    assert deliver(kubelet.go_away(), kubectl) == [GoAwayReceived(7, GoAwayStatus.OK)]


def test_port_forward_streams_as_kubectl_opens_them() -> None:
    kubectl, kubelet = SpdyConnection(client=True), SpdyConnection()
    common = {"port": "8080", "requestID": "0"}
    error = open_and_wait(kubectl, kubelet, {"streamType": "error", **common})
    # kubectl half-closes the error stream at once; it only reads it.
    assert deliver(kubectl.close_stream(error), kubelet) == [DataReceived(error, b"", fin=True)]
    data = open_and_wait(kubectl, kubelet, {"streamType": "data", **common})
    assert deliver(kubectl.send_data(data, b"GET /"), kubelet) == [DataReceived(data, b"GET /")]
    assert deliver(kubelet.send_data(data, b"200"), kubectl) == [DataReceived(data, b"200")]
    # The forward ends: kubelet closes both streams; the error stream is then gone.
    deliver(kubelet.close_stream(error), kubectl)
    assert not kubelet.is_open(error) and not kubectl.is_open(error)
    assert kubelet.is_open(data)


def test_the_upgrade_handshake_headers() -> None:
    request = [
        ("Connection", "Upgrade"),
        ("Upgrade", "SPDY/3.1"),
        ("X-Stream-Protocol-Version", "v4.channel.k8s.io"),
        ("X-Stream-Protocol-Version", "channel.k8s.io"),
    ]
    assert is_spdy_upgrade(request)
    offered = parse_protocol_versions(v for k, v in request if k == "X-Stream-Protocol-Version")
    assert negotiate_protocol(offered, SPDY_EXEC_PROTOCOLS) == "v4.channel.k8s.io"
    assert not is_spdy_upgrade([("Connection", "Upgrade"), ("Upgrade", "websocket")])
    assert not is_spdy_upgrade([("Upgrade", "SPDY/3.1")])
    assert spdy_upgrade_response_headers("v4.channel.k8s.io") == [
        ("Connection", "Upgrade"),
        ("Upgrade", "SPDY/3.1"),
        ("X-Stream-Protocol-Version", "v4.channel.k8s.io"),
    ]


def test_pings_are_told_apart_by_parity() -> None:
    kubectl, kubelet = SpdyConnection(client=True), SpdyConnection()
    (ping,) = deliver(kubectl.ping(), kubelet)
    assert ping == PingReceived(1, echo=False)
    assert deliver(kubelet.ping(ping.ping_id), kubectl) == [PingReceived(1, echo=True)]
    assert deliver(kubelet.ping(), kubectl) == [PingReceived(2, echo=False)]
    assert deliver(kubelet.ping(), kubectl) == [PingReceived(4, echo=False)]


def test_stream_ids_must_be_odd_and_increasing_from_a_client() -> None:
    kubelet = SpdyConnection()
    encoder = FrameEncoder()  # a broken client: its ids go 3, then 1
    deliver(encoder.encode(SynStreamFrame(3, {})), kubelet)
    with pytest.raises(ProtocolError, match="does not increase"):
        deliver(encoder.encode(SynStreamFrame(1, {})), kubelet)  # a session error

    server_to_server = SpdyConnection()
    _, even = SpdyConnection().open_stream({})  # a server's stream 2, sent to a server
    with pytest.raises(ProtocolError, match="parity"):
        deliver(even, server_to_server)


def test_frames_for_gone_streams_are_dropped() -> None:
    kubectl, kubelet = SpdyConnection(client=True), SpdyConnection()
    stream = open_and_wait(kubectl, kubelet, {"streamtype": "stdin"})
    in_flight = kubectl.send_data(stream, b"late")
    deliver(kubelet.reset(stream), kubectl)
    assert deliver(in_flight, kubelet) == []  # after the reset: silently dropped
    assert deliver(kubectl.reset(stream), kubelet) == []  # resetting twice is harmless
    with pytest.raises(StreamStateError):
        kubelet.send_data(stream, b"x")


def test_data_before_the_reply_is_dropped_like_spdystream() -> None:
    kubectl, kubelet = SpdyConnection(client=True), SpdyConnection()
    stream, syn = kubectl.open_stream({"streamtype": "stdout"})
    deliver(syn, kubelet)
    with pytest.raises(StreamStateError, match="reply"):
        kubelet.send_data(stream, b"x")  # this side insists on replying first
    # A peer that breaks the rule anyway: its early DATA is lost, as with spdystream.
    early = FrameEncoder().encode(DataFrame(stream, b"early"))
    assert deliver(early, kubectl) == []
    assert deliver(kubelet.reply(stream), kubectl) == [StreamReplied(stream, {})]
    assert deliver(kubelet.send_data(stream, b"ok"), kubectl) == [DataReceived(stream, b"ok")]


def test_misuse_raises_stream_state_error() -> None:
    kubectl, kubelet = SpdyConnection(client=True), SpdyConnection()
    stream = open_and_wait(kubectl, kubelet, {"streamtype": "stdin"})
    with pytest.raises(StreamStateError):
        kubelet.reply(stream)  # replied already
    with pytest.raises(StreamStateError):
        kubectl.reply(stream)  # a stream of one's own
    kubectl.close_stream(stream)
    with pytest.raises(StreamStateError):
        kubectl.send_data(stream, b"x")  # closed for sending
    with pytest.raises(StreamStateError):
        kubelet.reply(99)
    with pytest.raises(StreamStateError):
        kubelet.window_update(1, 0)


def test_flow_control_is_tracked_but_never_blocks() -> None:
    # spdystream never sends WINDOW_UPDATE; a sender that waited would stall at 64 KiB.
    kubectl, kubelet = SpdyConnection(client=True), SpdyConnection()
    stream = open_and_wait(kubectl, kubelet, {"streamtype": "stdout"})
    big = bytes(200 * 1024)
    events = deliver(kubelet.send_data(stream, big), kubectl)
    assert b"".join(e.data for e in events if isinstance(e, DataReceived)) == big
    assert len(events) == 7  # 32 KiB frames
    assert kubelet.send_window(stream) == INITIAL_WINDOW_SIZE - len(big)

    deliver(kubectl.window_update(stream, 1000), kubelet)
    deliver(kubectl.window_update(0, 5_000_000), kubelet)
    assert kubelet.send_window(stream) == INITIAL_WINDOW_SIZE - len(big) + 1000
    (settings,) = deliver(kubectl.settings({SettingId.INITIAL_WINDOW_SIZE: 1 << 20}), kubelet)
    assert isinstance(settings, SettingsReceived)
    assert kubelet.send_window(stream) == (1 << 20) - len(big) + 1000
    assert deliver(kubectl.window_update(0, 7), kubelet) == [WindowUpdated(0, 7)]
    assert deliver(kubectl.window_update(99, 7), kubelet) == []  # unknown stream


def test_streams_are_forgotten_once_closed_both_ways() -> None:
    kubectl, kubelet = SpdyConnection(client=True), SpdyConnection()
    stream = open_and_wait(kubectl, kubelet, {"streamtype": "stdin"})
    deliver(kubectl.close_stream(stream), kubelet)
    assert kubelet.is_open(stream)
    deliver(kubelet.close_stream(stream), kubectl)
    assert not kubelet.is_open(stream) and not kubectl.is_open(stream)


def test_new_streams_after_our_goaway_are_ignored() -> None:
    kubectl, kubelet = SpdyConnection(client=True), SpdyConnection()
    open_and_wait(kubectl, kubelet, {"streamtype": "error"})
    goaway = kubelet.go_away()
    (frame,) = _frames(goaway)
    assert frame == GoAwayFrame(1, GoAwayStatus.OK)
    _, syn = kubectl.open_stream({"streamtype": "stdin"})
    assert deliver(syn, kubelet) == []


def _frames(data: bytes) -> list[object]:
    decoder = FrameDecoder()
    decoder.feed(data)
    return list(decoder.frames())


def test_garbage_after_a_good_start_raises() -> None:
    kubectl, kubelet = SpdyConnection(client=True), SpdyConnection()
    open_and_wait(kubectl, kubelet, {"streamtype": "error"})
    with pytest.raises(ProtocolError):
        kubelet.receive_data(b"\x80\x03\x00\x06\x00\x00\x00\x04\x00\x00\x00\x00")  # PING 0


@given(
    st.lists(st.tuples(st.integers(0, 3), st.binary(max_size=100), st.booleans()), max_size=20),
    st.data(),
)
def test_interleaved_streams_arrive_intact_in_any_split(
    writes: list[tuple[int, bytes, bool]], data: st.DataObject
) -> None:
    kubectl, kubelet = SpdyConnection(client=True), SpdyConnection()
    ids = [kubectl.open_stream({"streamtype": str(n), "port": "80"}) for n in range(4)]
    wire = b"".join(syn for _, syn in ids)
    sent: dict[int, bytes] = {stream_id: b"" for stream_id, _ in ids}
    for index, chunk, with_headers in writes:
        stream_id = ids[index][0]
        if with_headers:  # interleave more header blocks into the compression stream
            wire += kubectl.send_headers(stream_id, {"x-n": str(len(chunk))})
        wire += kubectl.send_data(stream_id, chunk)
        sent[stream_id] += chunk
    cut = data.draw(st.integers(0, len(wire)))
    events = kubelet.receive_data(wire[:cut]) + kubelet.receive_data(wire[cut:])
    got: dict[int, bytes] = {stream_id: b"" for stream_id in sent}
    for event in events:
        if isinstance(event, StreamOpened):
            assert event.headers["streamtype"] == (str(event.stream_id // 2),)
        if isinstance(event, DataReceived):
            got[event.stream_id] += event.data
    assert got == sent
