"""Port-forward: SPDY stream pairs by request id, WebSocket channel pairs with a port prefix."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atoll.kube.streaming.channels import (
    PORT_FORWARD_PROTOCOLS,
    ChannelCodec,
    ChannelData,
    negotiate_channel_protocol,
)
from atoll.kube.streaming.errors import StreamRejected
from atoll.kube.streaming.portforward import (
    PortForwardPair,
    PortForwardStreams,
    channels_for_port,
    initial_messages,
    parse_ports,
    port_prefix,
)
from atoll.kube.streaming.spdy import SpdyConnection, StreamOpened


def headers(
    kind: str, port: str = "8080", request_id: str | None = "0"
) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {"streamtype": (kind,), "port": (port,)}
    if request_id is not None:
        out["requestid"] = (request_id,)
    return out


def test_pairs_form_as_kubectl_opens_streams_over_spdy() -> None:
    kubectl, kubelet = SpdyConnection(client=True), SpdyConnection()
    pairs = PortForwardStreams()
    found = []
    # Two local connections, so request ids 0 and 1, interleaved.
    for kind, request in [("error", "0"), ("error", "1"), ("data", "1"), ("data", "0")]:
        _, syn = kubectl.open_stream({"streamType": kind, "port": "80", "requestID": request})
        (opened,) = kubelet.receive_data(syn)
        assert isinstance(opened, StreamOpened)
        pair = pairs.add(opened.stream_id, opened.headers)
        kubectl.receive_data(kubelet.reply(opened.stream_id))
        if pair:
            found.append(pair)
    assert found == [PortForwardPair("1", 80, 5, 3), PortForwardPair("0", 80, 7, 1)]
    assert pairs.pending == []


def test_streams_without_request_ids_pair_by_stream_id() -> None:
    # Clients before request ids: error stream n, then data stream n + 2.
    pairs = PortForwardStreams()
    assert pairs.add(1, headers("error", request_id=None)) is None
    assert pairs.add(3, headers("data", request_id=None)) == PortForwardPair("1", 8080, 3, 1)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"streamtype": ("data",)}, '"port" header is required'),
        (headers("data", port="http"), 'unable to parse "http" as a port'),
        (headers("data", port="70000"), 'unable to parse "70000" as a port'),
        (headers("data", port="0"), 'port "0" must be > 0'),
        ({"port": ("80",)}, '"streamType" header is required'),
        (headers("stdin"), 'invalid stream type "stdin"'),
    ],
)
def test_bad_streams_are_rejected(bad: dict[str, tuple[str, ...]], message: str) -> None:
    with pytest.raises(StreamRejected, match=message) as rejected:
        PortForwardStreams().add(1, bad)
    assert rejected.value.error_stream_id is None


def test_a_second_stream_of_one_kind_is_reported_on_the_error_stream() -> None:
    pairs = PortForwardStreams()
    pairs.add(1, headers("error"))
    with pytest.raises(StreamRejected, match="error stream already assigned") as rejected:
        pairs.add(3, headers("error"))
    assert rejected.value.error_stream_id == 1


def test_incomplete_requests_can_be_timed_out() -> None:
    pairs = PortForwardStreams()
    pairs.add(1, headers("error", request_id="7"))
    pairs.add(3, headers("data", request_id="8"))
    assert pairs.pending == ["7", "8"]
    assert pairs.discard("7") == 1  # where to write "timed out waiting for streams"
    assert pairs.discard("8") is None
    assert pairs.discard("9") is None
    assert pairs.pending == []


def test_the_data_streams_port_wins() -> None:
    pairs = PortForwardStreams()
    pairs.add(1, headers("error", port="1"))
    assert pairs.add(3, headers("data", port="2")) == PortForwardPair("0", 2, 3, 1)


def test_ports_from_the_query() -> None:
    assert parse_ports([("ports", "8080,9090")]) == [8080, 9090]  # python: one value
    assert parse_ports([("ports", "1"), ("ports", "2")]) == [1, 2]
    assert parse_ports([("port", "5432")]) == [5432]  # the kubelet's spelling
    with pytest.raises(ValueError, match='"port" is required'):
        parse_ports([("container", "x")])
    with pytest.raises(ValueError, match="must be > 0"):
        parse_ports([("ports", "0")])
    with pytest.raises(ValueError, match="unable to parse"):
        parse_ports([("ports", "80,")])


def test_each_channel_starts_with_its_port_little_endian() -> None:
    assert port_prefix(8080) == b"\x90\x1f"
    assert channels_for_port(0) == (0, 1)
    assert channels_for_port(2) == (4, 5)
    v4 = ChannelCodec(negotiate_channel_protocol(["v4.channel.k8s.io"], PORT_FORWARD_PROTOCOLS))
    wire = [v4.encode(channel, payload) for channel, payload in initial_messages([8080, 5432])]
    # The Python client insists on exactly three bytes: channel, then the port.
    assert wire == [b"\x00\x90\x1f", b"\x01\x90\x1f", b"\x02\x38\x15", b"\x03\x38\x15"]
    # What the client sends back carries no prefix.
    assert v4.decode(b"\x00GET / HTTP/1.1\r\n") == ChannelData(0, b"GET / HTTP/1.1\r\n")


def test_base64_port_forward_prefix() -> None:
    b64 = ChannelCodec(
        negotiate_channel_protocol(["v4.base64.channel.k8s.io"], PORT_FORWARD_PROTOCOLS)
    )
    ((channel, payload),) = initial_messages([80])[:1]
    assert b64.encode(channel, payload) == "0UAA="
    assert b64.decode("0UAA=") == ChannelData(0, b"P\x00")


@given(st.lists(st.integers(1, 65535), min_size=1, max_size=10))
def test_initial_messages_announce_every_port(ports: list[int]) -> None:
    messages = initial_messages(ports)
    assert [channel for channel, _ in messages] == list(range(2 * len(ports)))
    for channel, payload in messages:
        assert int.from_bytes(payload, "little") == ports[channel // 2]
