"""The WebSocket channel protocol: negotiation, binary and base64 messages, v5 CLOSE."""

from __future__ import annotations

import base64
import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atoll.kube.streaming.channels import (
    EXEC_PROTOCOLS,
    PORT_FORWARD_PROTOCOLS,
    ChannelClosed,
    ChannelCodec,
    ChannelData,
    ChannelProtocol,
    negotiate_channel_protocol,
    offered_protocols,
    ready_channel,
    split_bearer_token,
)
from atoll.kube.streaming.errors import NegotiationError, ProtocolError, StreamStateError
from atoll.kube.streaming.remotecommand import Channel, ExecOptions, StreamProtocol


def codec(name: str, supported: tuple[ChannelProtocol, ...] = EXEC_PROTOCOLS) -> ChannelCodec:
    return ChannelCodec(negotiate_channel_protocol([name], supported))


@pytest.mark.parametrize(
    ("header", "chosen"),
    [
        ("v5.channel.k8s.io,v4.channel.k8s.io", "v5.channel.k8s.io"),  # python kubernetes
        ("v4.channel.k8s.io", "v4.channel.k8s.io"),  # kubernetes.aio, kr8s
        ("v4.base64.channel.k8s.io, base64.channel.k8s.io", "v4.base64.channel.k8s.io"),
        ("base64.channel.k8s.io", "base64.channel.k8s.io"),
        ("v9.channel.k8s.io, channel.k8s.io", "channel.k8s.io"),
    ],
)
def test_the_clients_first_supported_offer_wins(header: str, chosen: str) -> None:
    assert negotiate_channel_protocol(offered_protocols([header])).name == chosen


def test_no_offer_means_binary_without_a_name() -> None:
    protocol = negotiate_channel_protocol([])
    assert protocol == ChannelProtocol("", StreamProtocol.V1)
    assert not protocol.base64 and not protocol.close_signal


def test_versions_decide_status_format_and_close() -> None:
    v5, v4, v4b64, v1, v1b64, _ = EXEC_PROTOCOLS
    assert v5.close_signal and not v4.close_signal
    assert [p.version.status_json for p in (v5, v4, v4b64, v1, v1b64)] == [
        True,
        True,
        True,
        False,
        False,
    ]
    assert [p.base64 for p in (v5, v4, v4b64, v1, v1b64)] == [False, False, True, False, True]


def test_port_forward_speaks_only_v4_or_nothing() -> None:
    with pytest.raises(NegotiationError) as failed:
        negotiate_channel_protocol(["v5.channel.k8s.io"], PORT_FORWARD_PROTOCOLS)
    assert failed.value.status_code == 403
    assert failed.value.accepted == ("v4.channel.k8s.io", "v4.base64.channel.k8s.io")
    assert negotiate_channel_protocol([], PORT_FORWARD_PROTOCOLS).name == ""


def test_binary_messages() -> None:
    v4 = codec("v4.channel.k8s.io")
    # wsstream's doc example: "foo\n" on stdin; "\n" back on stdout.
    assert v4.encode(Channel.STDIN, b"foo\n") == bytes([0, 102, 111, 111, 10])
    assert v4.decode(bytes([1, 10])) == ChannelData(1, b"\n")
    assert v4.encode(Channel.STDOUT) == b"\x01"  # the server's "connected" message
    assert v4.decode(b"") is None  # ignored upstream
    assert v4.decode("\x00ls\n") == ChannelData(0, b"ls\n")  # a text frame is bytes too


def test_base64_messages() -> None:
    b64 = codec("base64.channel.k8s.io")
    # wsstream's doc example: receive "\n" on channel '1' as "1Cg==".
    assert b64.decode(bytes([49, 67, 103, 61, 61])) == ChannelData(1, b"\n")
    assert b64.encode(Channel.STDOUT, b"\n") == "1Cg=="
    assert b64.decode("0Zm9vCg==") == ChannelData(0, b"foo\n")
    assert b64.decode("0Zm9v\r\nCg==") == ChannelData(0, b"foo\n")  # Go skips CR/LF
    assert b64.decode("3") == ChannelData(3, b"")
    assert b64.decode("") is None
    with pytest.raises(ProtocolError):
        b64.decode("0not base64!")
    with pytest.raises(ProtocolError):
        b64.decode(b"0\xff")
    with pytest.raises(ValueError):
        b64.encode(80, b"")  # '0' + 80 is past ASCII
    assert b64.encode(10, b"") == ":"  # port-forward's sixth port pair goes past '9'


def test_v5_close_signal() -> None:
    v5 = codec("v5.channel.k8s.io")
    assert v5.close(Channel.STDIN) == b"\xff\x00"  # client-go's stream.Close for stdin
    assert v5.decode(b"\xff\x00") == ChannelClosed(0)
    with pytest.raises(ProtocolError):
        v5.decode(b"\xff")
    with pytest.raises(ProtocolError):
        v5.decode(b"\xff\x00\x01")
    v4 = codec("v4.channel.k8s.io")
    with pytest.raises(StreamStateError):
        v4.close(Channel.STDIN)
    assert v4.decode(b"\xff\x00") == ChannelData(255, b"\x00")  # an unknown channel


def test_ready_channel_is_the_lowest_the_server_writes() -> None:
    assert ready_channel(ExecOptions(stdin=True, stdout=True)) is Channel.STDOUT
    assert ready_channel(ExecOptions(stderr=True)) is Channel.STDERR
    assert ready_channel(ExecOptions(stdin=True)) is Channel.ERROR


def test_bearer_token_subprotocol() -> None:
    token = "eyJhbGciOi.abc-_~"
    encoded = base64.urlsafe_b64encode(token.encode()).decode().rstrip("=")
    offers = offered_protocols(
        [f"base64url.bearer.authorization.k8s.io.{encoded}, v4.channel.k8s.io"]
    )
    assert split_bearer_token(offers) == (token, ["v4.channel.k8s.io"])
    assert split_bearer_token(["v4.channel.k8s.io"]) == (None, ["v4.channel.k8s.io"])


@pytest.mark.parametrize(
    "offers",
    [
        ["base64url.bearer.authorization.k8s.io.dG9r"],  # no other subprotocol
        [
            "base64url.bearer.authorization.k8s.io.dG9r",
            "base64url.bearer.authorization.k8s.io.eA",
            "x",
        ],
        ["base64url.bearer.authorization.k8s.io.dG9rZQ==", "x"],  # padded
        ["base64url.bearer.authorization.k8s.io.!!", "x"],
        ["base64url.bearer.authorization.k8s.io._w", "x"],  # not UTF-8
    ],
)
def test_bad_bearer_token_subprotocols(offers: list[str]) -> None:
    with pytest.raises(ValueError):
        split_bearer_token(offers)


@given(
    st.sampled_from([p for p in EXEC_PROTOCOLS if not p.close_signal] + [EXEC_PROTOCOLS[0]]),
    st.integers(0, 79),
    st.binary(max_size=64),
)
def test_messages_round_trip(protocol: ChannelProtocol, channel: int, data: bytes) -> None:
    channels = ChannelCodec(protocol)
    assert channels.decode(channels.encode(channel, data)) == ChannelData(channel, data)


@given(st.binary(max_size=64) | st.text(max_size=64))
def test_any_message_decodes_or_raises_protocol_error(message: bytes | str) -> None:
    for protocol in EXEC_PROTOCOLS:
        with contextlib.suppress(ProtocolError):
            ChannelCodec(protocol).decode(message)
