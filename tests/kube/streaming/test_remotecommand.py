"""exec/attach across transports: version negotiation, stream roles, exit statuses, resizes."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atoll.kube.streaming.errors import NegotiationError, ProtocolError
from atoll.kube.streaming.remotecommand import (
    SPDY_EXEC_PROTOCOLS,
    ExecOptions,
    ExecStreams,
    ResizeDecoder,
    StreamProtocol,
    StreamType,
    TerminalSize,
    error_stream_payload,
    exit_code_from_error_stream,
    exit_status,
    internal_error_status,
    negotiate_protocol,
    parse_protocol_versions,
    success_status,
)

KUBECTL_1_20 = ["v4.channel.k8s.io", "v3.channel.k8s.io", "v2.channel.k8s.io", "channel.k8s.io"]


def test_negotiation_takes_the_clients_first_supported_version() -> None:
    offered = parse_protocol_versions(KUBECTL_1_20)  # one header line per version
    assert negotiate_protocol(offered, SPDY_EXEC_PROTOCOLS) == "v4.channel.k8s.io"
    client_go_1_29 = parse_protocol_versions(["v5.channel.k8s.io, v4.channel.k8s.io"])
    assert negotiate_protocol(client_go_1_29, SPDY_EXEC_PROTOCOLS) == "v5.channel.k8s.io"
    assert negotiate_protocol(["v2.channel.k8s.io"], SPDY_EXEC_PROTOCOLS) == "v2.channel.k8s.io"
    assert negotiate_protocol(["portforward.k8s.io"], ["portforward.k8s.io"]) == (
        "portforward.k8s.io"
    )


def test_negotiation_failures_carry_upstreams_http_answers() -> None:
    with pytest.raises(NegotiationError, match="X-Stream-Protocol-Version is required") as none:
        negotiate_protocol([], SPDY_EXEC_PROTOCOLS)
    assert none.value.status_code == 400
    with pytest.raises(NegotiationError, match="unable to negotiate protocol") as mismatch:
        negotiate_protocol(["v9.channel.k8s.io"], ["portforward.k8s.io"])
    assert mismatch.value.status_code == 403
    assert mismatch.value.accepted == ("portforward.k8s.io",)


def test_protocol_versions_know_their_features() -> None:
    assert [p.number for p in SPDY_EXEC_PROTOCOLS] == [5, 4, 3, 2, 1]
    assert [p.resizes for p in SPDY_EXEC_PROTOCOLS] == [True, True, True, False, False]
    assert [p.status_json for p in SPDY_EXEC_PROTOCOLS] == [True, True, False, False, False]


def test_exec_options_from_the_api_servers_query() -> None:
    query = [
        ("command", "sh"),
        ("command", "-c"),
        ("command", "echo hi"),
        ("container", "app"),
        ("stdin", "true"),
        ("stdout", "1"),
        ("stderr", "True"),
    ]
    options = ExecOptions.from_query(query)
    assert options == ExecOptions(
        stdin=True, stdout=True, stderr=True, container="app", command=("sh", "-c", "echo hi")
    )


def test_exec_options_from_the_kubelets_query_and_tty_drops_stderr() -> None:
    options = ExecOptions.from_query(
        [("input", "1"), ("output", "1"), ("error", "1"), ("tty", "1")]
    )
    assert (options.stdin, options.stdout, options.stderr, options.tty) == (True, True, False, True)


@pytest.mark.parametrize("value", ["0", "false", "FALSE", "False"])
def test_only_0_and_false_are_false(value: str) -> None:
    assert not ExecOptions.from_query([("stdout", "1"), ("stdin", value)]).stdin


@pytest.mark.parametrize("value", ["", "yes", "t", "2"])
def test_anything_else_is_true(value: str) -> None:
    assert ExecOptions.from_query([("stdin", value)]).stdin


def test_exec_without_any_stream_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1 of stdin, stdout, stderr"):
        ExecOptions.from_query([("command", "ls"), ("tty", "true"), ("stderr", "true")])


@pytest.mark.parametrize(
    ("protocol", "expected"),
    [
        (StreamProtocol.V4, {"error", "stdin", "stdout", "resize"}),
        (StreamProtocol.V3, {"error", "stdin", "stdout", "resize"}),
        (StreamProtocol.V2, {"error", "stdin", "stdout"}),
    ],
)
def test_the_streams_a_client_opens(protocol: StreamProtocol, expected: set[str]) -> None:
    options = ExecOptions(stdin=True, stdout=True, tty=True)
    assert options.stream_types(protocol) == expected


def test_exec_streams_match_roles_and_count_like_the_kubelet() -> None:
    options = ExecOptions(stdout=True, stderr=True)
    streams = ExecStreams(options, StreamProtocol.V2)
    assert streams.expected == 3
    assert streams.add(1, {"streamtype": ("error",)}) is StreamType.ERROR
    assert streams.add(3, {"streamtype": ("resize",)}) is None  # v2 has no resize stream
    assert streams.add(5, {"streamtype": ("bogus",)}) is None
    assert streams.add(7, {}) is None
    assert streams.add(9, {"streamtype": ("stdout",)}) is StreamType.STDOUT
    assert not streams.complete
    assert streams.add(11, {"streamtype": ("stderr",)}) is StreamType.STDERR
    assert streams.complete
    assert streams.stream_id(StreamType.STDOUT) == 9
    assert streams.stream_id(StreamType.STDIN) is None


def test_exit_status_shapes() -> None:
    assert exit_status(0) == success_status() == {"metadata": {}, "status": "Success"}
    failure = exit_status(3, command=["sh", "-c", "exit 3"])
    # Byte for byte what json.Marshal makes of the kubelet's metav1.Status.
    assert error_stream_payload(failure, StreamProtocol.V4) == (
        b'{"metadata":{},"status":"Failure","message":"command terminated with non-zero exit'
        b' code: error executing command [sh -c exit 3], exit code 3","reason":"NonZeroExitCode",'
        b'"details":{"causes":[{"reason":"ExitCode","message":"3"}]}}'
    )
    assert error_stream_payload(success_status(), StreamProtocol.V5) == (
        b'{"metadata":{},"status":"Success"}'
    )
    assert exit_status(1)["message"] == "command terminated with non-zero exit code: exit code 1"
    with pytest.raises(ValueError):
        exit_status(256)


def test_before_v4_the_error_stream_is_plain_text() -> None:
    assert error_stream_payload(success_status(), StreamProtocol.V3) == b""
    text = error_stream_payload(exit_status(2), StreamProtocol.V2)
    assert text.startswith(b"command terminated with non-zero exit code")
    with pytest.raises(ProtocolError, match="error executing remote command"):
        exit_code_from_error_stream(text, StreamProtocol.V2)
    assert exit_code_from_error_stream(b"", StreamProtocol.V1) == 0
    bare = {"metadata": {}, "status": "Failure"}
    assert error_stream_payload(bare, StreamProtocol.V3) == b"unknown error"


def test_internal_errors_reach_the_client_as_their_message() -> None:
    status = internal_error_status("container not found")
    assert status["code"] == 500 and status["reason"] == "InternalError"
    payload = error_stream_payload(status, StreamProtocol.V4)
    with pytest.raises(ProtocolError, match="Internal error occurred: container not found"):
        exit_code_from_error_stream(payload, StreamProtocol.V4)


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        b"[]",
        b'{"status":"Weird"}',
        b'{"status":"Failure","reason":"NonZeroExitCode"}',
        b'{"status":"Failure","reason":"NonZeroExitCode","details":{"causes":'
        b'[{"reason":"ExitCode","message":"256"}]}}',
    ],
)
def test_client_side_decoding_rejects_bad_statuses(payload: bytes) -> None:
    with pytest.raises(ProtocolError):
        exit_code_from_error_stream(payload, StreamProtocol.V4)


@given(st.integers(0, 255))
def test_every_exit_code_round_trips(code: int) -> None:
    payload = error_stream_payload(exit_status(code), StreamProtocol.V4)
    assert json.loads(payload)["status"] == ("Success" if code == 0 else "Failure")
    assert exit_code_from_error_stream(payload, StreamProtocol.V4) == code


def test_resize_messages_as_client_go_writes_them() -> None:
    assert TerminalSize(80, 24).encode() == b'{"Width":80,"Height":24}\n'
    decoder = ResizeDecoder()
    wire = TerminalSize(80, 24).encode() + TerminalSize(120, 40).encode()
    assert decoder.feed(wire) == [TerminalSize(80, 24), TerminalSize(120, 40)]


def test_resize_messages_split_and_spelled_loosely() -> None:
    decoder = ResizeDecoder()
    assert decoder.feed(b'{"Width":8') == []
    assert decoder.feed(b'0,"Height":24}') == [TerminalSize(80, 24)]
    # encoding/json matches keys case-insensitively and leaves missing ones at 0.
    assert decoder.feed(b' {"width":5,"HEIGHT":6,"x":1}{"Height":2}') == [
        TerminalSize(5, 6),
        TerminalSize(0, 2),
    ]
    assert decoder.feed(b'{"Wid') == []
    assert decoder.feed(b'th":3}\n') == [TerminalSize(3, 0)]
    raw = '{"W\u00e9":1}'.encode()
    assert decoder.feed(raw[:4]) == []  # the split falls inside a character
    assert decoder.feed(raw[4:]) == [TerminalSize(0, 0)]


@pytest.mark.parametrize(
    "data",
    [b"[80,24]", b'{"Width":-1}', b'{"Width":65536}', b'{"Width":8.5}', b'{"Width":true}', b"x"],
)
def test_bad_resize_messages_raise(data: bytes) -> None:
    with pytest.raises(ProtocolError):
        ResizeDecoder().feed(data)


def test_an_endless_resize_message_is_cut_off() -> None:
    decoder = ResizeDecoder()
    with pytest.raises(ProtocolError):
        decoder.feed(b'{"Width":' + b" " * 10_000)


@given(st.lists(st.tuples(st.integers(0, 65535), st.integers(0, 65535)), max_size=5), st.data())
def test_resizes_survive_any_split(sizes: list[tuple[int, int]], data: st.DataObject) -> None:
    wire = b"".join(TerminalSize(w, h).encode() for w, h in sizes)
    cut = data.draw(st.integers(0, len(wire)))
    decoder = ResizeDecoder()
    got = decoder.feed(wire[:cut]) + decoder.feed(wire[cut:])
    assert got == [TerminalSize(w, h) for w, h in sizes]
