"""What ``exec`` and ``attach`` share across SPDY and WebSocket: versions, streams, statuses.

Upstream: ``k8s.io/apimachinery/pkg/util/remotecommand`` (names and constants),
``k8s.io/client-go/tools/remotecommand`` (the client, v1-v5), and the kubelet's
``pkg/kubelet/cri/streaming/remotecommand`` (the server this module mirrors).

SPDY exec, as kubectl 1.20 does it
----------------------------------
1. ``POST /api/v1/namespaces/<ns>/pods/<pod>/exec?command=sh&command=-c&command=..
   &container=c&stdin=true&stdout=true&tty=true`` (``attach``: the same without
   ``command``; ``stderr=true`` only without ``-t``) with ``Connection: Upgrade``,
   ``Upgrade: SPDY/3.1`` and ``X-Stream-Protocol-Version`` repeated:
   ``v4.channel.k8s.io``, ``v3.channel.k8s.io``, ``v2.channel.k8s.io``,
   ``channel.k8s.io`` (client-go 1.29+ adds ``v5.channel.k8s.io`` first). The API server
   forwards to the kubelet as ``input=1&output=1&error=1&tty=1``; ``ExecOptions``
   reads both spellings.
2. The server picks the first offered version it supports (``negotiate_protocol``):
   none offered is 400 ``unable to upgrade: X-Stream-Protocol-Version is required``, no
   match is 403 with ``X-Accepted-Stream-Protocol-Versions``. Otherwise it answers
   ``101 Switching Protocols`` with ``Connection: Upgrade``, ``Upgrade: SPDY/3.1``,
   ``X-Stream-Protocol-Version: <chosen>`` and speaks SPDY on the socket from then on.
3. kubectl opens one stream at a time and waits up to 30 s for each SYN_REPLY: the
   ``error`` stream first (v2+), then ``stdin``, ``stdout``, ``stderr`` (not with a TTY)
   and, v3+ with a TTY, ``resize``. Each SYN_STREAM carries the header ``streamtype``
   (Go writes names lowercase; ``streamType`` in the source). The kubelet replies to each
   with an empty header block and starts once it has the count it expects
   (``ExecStreams``), giving up after 30 s.
4. stdin arrives as DATA on ``stdin``; kubectl half-closes it (empty DATA + FIN) at EOF.
   Output goes out as DATA on ``stdout``/``stderr``. Resizes arrive on ``resize`` as JSON
   ``{"Width":80,"Height":24}`` each followed by a newline (``ResizeDecoder``).
5. At exit the kubelet writes the status to ``error`` (``error_stream_payload``) and
   closes the connection: RST_STREAM (CANCEL) on every stream, then GOAWAY. kubectl
   copies stdout/stderr until EOF (a FIN or a reset), then reads ``error`` to EOF too.
   v4+ carries a ``metav1.Status`` JSON and kubectl exits with the code in
   ``details.causes[reason=ExitCode].message``; v1-v3 carry plain text, nothing on
   success.

SPDY port-forward differs only in the streams (see ``portforward``): one version,
``portforward.k8s.io``; a pair of streams per forwarded connection.

WebSocket exec (Python clients, lightkube, the console)
-------------------------------------------------------
``GET`` (or ``POST``) on the same URL with ``Upgrade: websocket`` and
``Sec-WebSocket-Protocol`` offers (``v5.channel.k8s.io, v4.channel.k8s.io`` from the
Python client). No streams are opened: messages carry a channel byte (``Channel``), see
``channels``. The server first sends an empty message on the lowest channel it writes
(stdout, else stderr, else error), then the same status as SPDY on channel 3.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Any

import orjson

from .errors import NegotiationError, ProtocolError

__all__ = [
    "HEADER_ACCEPTED_VERSIONS",
    "HEADER_PORT",
    "HEADER_PROTOCOL_VERSION",
    "HEADER_REQUEST_ID",
    "HEADER_STREAM_TYPE",
    "SPDY_EXEC_PROTOCOLS",
    "Channel",
    "ExecOptions",
    "ExecStreams",
    "ResizeDecoder",
    "StreamProtocol",
    "StreamType",
    "TerminalSize",
    "error_stream_payload",
    "exit_code_from_error_stream",
    "exit_status",
    "internal_error_status",
    "negotiate_protocol",
    "parse_protocol_versions",
    "success_status",
]

HEADER_PROTOCOL_VERSION = "X-Stream-Protocol-Version"
HEADER_ACCEPTED_VERSIONS = "X-Accepted-Stream-Protocol-Versions"
HEADER_STREAM_TYPE = "streamtype"  # Go's "streamType", lowercased on the SPDY wire
HEADER_PORT = "port"
HEADER_REQUEST_ID = "requestid"  # "requestID"

NON_ZERO_EXIT_CODE = "NonZeroExitCode"
EXIT_CODE_CAUSE = "ExitCode"


class StreamProtocol(StrEnum):
    """The remote-command subprotocol versions (``X-Stream-Protocol-Version``)."""

    V1 = "channel.k8s.io"  # known bugs (kubernetes#13394, #13395)
    V2 = "v2.channel.k8s.io"  # the error stream comes first
    V3 = "v3.channel.k8s.io"  # adds the resize stream
    V4 = "v4.channel.k8s.io"  # the error stream carries a JSON Status with the exit code
    V5 = "v5.channel.k8s.io"  # adds the CLOSE signal (WebSocket); over SPDY the same as v4

    @property
    def number(self) -> int:
        return 1 if self is StreamProtocol.V1 else int(self.value[1])

    @property
    def resizes(self) -> bool:
        return self.number >= 3

    @property
    def status_json(self) -> bool:
        return self.number >= 4


# Upstream's SupportedStreamingProtocols order; the client's order decides the choice.
SPDY_EXEC_PROTOCOLS = (
    StreamProtocol.V5,
    StreamProtocol.V4,
    StreamProtocol.V3,
    StreamProtocol.V2,
    StreamProtocol.V1,
)


class StreamType(StrEnum):
    """Values of the ``streamType`` header of a SPDY stream."""

    STDIN = "stdin"
    STDOUT = "stdout"
    STDERR = "stderr"
    ERROR = "error"
    RESIZE = "resize"
    DATA = "data"  # port-forward


class Channel(IntEnum):
    """WebSocket channel numbers of exec/attach: the POSIX fds, then error and resize."""

    STDIN = 0
    STDOUT = 1
    STDERR = 2
    ERROR = 3
    RESIZE = 4
    CLOSE = 255  # v5: [255, n] half-closes channel n


def parse_protocol_versions(values: Iterable[str]) -> list[str]:
    """Every offered version, from repeated and comma-separated header values, in order."""
    return [p.strip(" ") for value in values for p in value.split(",") if p.strip(" ")]


def negotiate_protocol(offered: Iterable[str], supported: Sequence[str]) -> str:
    """The first offered version that is supported (``httpstream.Handshake``).

    Raises ``NegotiationError`` with 400 when nothing was offered and 403 when nothing
    matches.
    """
    offers = list(offered)
    if not offers:
        raise NegotiationError(
            f"unable to upgrade: {HEADER_PROTOCOL_VERSION} is required",
            status_code=400,
            accepted=supported,
        )
    for offer in offers:
        if offer in supported:
            return offer
    raise NegotiationError(
        "unable to upgrade: unable to negotiate protocol: client supports "
        f"[{' '.join(offers)}], server accepts [{' '.join(supported)}]",
        status_code=403,
        accepted=supported,
    )


def _query_bool(values: Sequence[str]) -> bool:
    # runtime.Convert_Slice_string_To_bool: absent, "0" and "false" (any case) are false.
    return bool(values) and values[0] != "0" and values[0].lower() != "false"


@dataclass(frozen=True, slots=True)
class ExecOptions:
    """The streams an exec or attach request asks for, and its command."""

    stdin: bool = False
    stdout: bool = False
    stderr: bool = False
    tty: bool = False
    container: str = ""
    command: tuple[str, ...] = ()

    @classmethod
    def from_query(cls, items: Iterable[tuple[str, str]]) -> ExecOptions:
        """Options from query items, in API server (``stdin=true``) or kubelet
        (``input=1``) spelling. A TTY drops stderr, as the kubelet does; raises
        ``ValueError`` (400) when no stream is asked for."""
        query: dict[str, list[str]] = {}
        for name, value in items:
            query.setdefault(name, []).append(value)

        def flag(*names: str) -> bool:
            return any(_query_bool(query.get(name, [])) for name in names)

        tty = flag("tty")
        options = cls(
            stdin=flag("stdin", "input"),
            stdout=flag("stdout", "output"),
            stderr=flag("stderr", "error") and not tty,
            tty=tty,
            container=(query.get("container") or [""])[0],
            command=tuple(query.get("command", [])),
        )
        if not (options.stdin or options.stdout or options.stderr):
            raise ValueError("you must specify at least 1 of stdin, stdout, stderr")
        return options

    def stream_types(self, protocol: StreamProtocol) -> frozenset[StreamType]:
        """The SPDY streams a client opens for these options under ``protocol``."""
        wanted = {StreamType.ERROR}
        wanted |= {StreamType.STDIN} if self.stdin else set()
        wanted |= {StreamType.STDOUT} if self.stdout else set()
        wanted |= {StreamType.STDERR} if self.stderr else set()
        wanted |= {StreamType.RESIZE} if self.tty and protocol.resizes else set()
        return frozenset(wanted)


@dataclass(slots=True)
class ExecStreams:
    """Matches the SPDY streams of one exec/attach connection to their roles.

    Feed each ``StreamOpened`` to ``add`` (reply to it either way: the kubelet accepts
    every stream and ignores unknown types); ``complete`` turns true once the expected
    count has arrived. A repeated type replaces the earlier stream, as upstream does.
    """

    options: ExecOptions
    protocol: StreamProtocol
    ids: dict[StreamType, int] = field(default_factory=dict)
    _received: int = 0

    @property
    def expected(self) -> int:
        return len(self.options.stream_types(self.protocol))

    @property
    def complete(self) -> bool:
        return self._received >= self.expected

    def add(self, stream_id: int, headers: Mapping[str, Sequence[str]]) -> StreamType | None:
        """Record a stream; its role, or ``None`` for a type this protocol doesn't use."""
        values = headers.get(HEADER_STREAM_TYPE) or ()
        try:
            kind = StreamType(values[0]) if values else None
        except ValueError:
            kind = None
        if kind is None or kind is StreamType.DATA:
            return None
        if kind is StreamType.RESIZE and not self.protocol.resizes:
            return None  # v1/v2 handlers don't know the type
        self.ids[kind] = stream_id
        self._received += 1
        return kind

    def stream_id(self, kind: StreamType) -> int | None:
        return self.ids.get(kind)


def success_status() -> dict[str, Any]:
    """The Status a kubelet writes when the command exited 0 (or attach ended cleanly)."""
    return {"metadata": {}, "status": "Success"}


def exit_status(code: int, *, command: Sequence[str] = ()) -> dict[str, Any]:
    """The Status for exit ``code``: Success for 0, else Failure/NonZeroExitCode.

    Shaped as ``json.Marshal`` of the kubelet's ``metav1.Status`` (no kind or apiVersion,
    empty ``metadata``, Go field order); clients read the code from
    ``details.causes[reason=ExitCode].message`` and accept 0-255. The message follows the
    CRI runtimes' ``error executing command [sh -c exit 3], exit code 3``.
    """
    if code == 0:
        return success_status()
    if not 0 < code < 256:
        raise ValueError(f"exit code {code} outside 1-255")
    cause = f"exit code {code}"
    if command:
        cause = f"error executing command [{' '.join(command)}], {cause}"
    text = f"command terminated with non-zero exit code: {cause}"
    return {
        "metadata": {},
        "status": "Failure",
        "message": text,
        "reason": NON_ZERO_EXIT_CODE,
        "details": {"causes": [{"reason": EXIT_CODE_CAUSE, "message": str(code)}]},
    }


def internal_error_status(error: str) -> dict[str, Any]:
    """``apierrors.NewInternalError``: what the kubelet writes when exec itself failed."""
    return {
        "metadata": {},
        "status": "Failure",
        "message": f"Internal error occurred: {error}",
        "reason": "InternalError",
        "details": {"causes": [{"message": error}]},
        "code": 500,
    }


def error_stream_payload(status: Mapping[str, Any], protocol: StreamProtocol) -> bytes:
    """What goes on the error stream/channel for ``status`` under ``protocol``.

    v4+: the Status as compact JSON. v1-v3: the message as text on failure and nothing on
    success (the client then reports ``error executing remote command: <message>``).
    """
    if protocol.status_json:
        return orjson.dumps(status)
    if status.get("status") == "Success":
        return b""
    # Never empty: an empty error stream reads as success.
    return str(status.get("message") or status.get("reason") or "unknown error").encode()


def exit_code_from_error_stream(payload: bytes, protocol: StreamProtocol) -> int:
    """The exit code a client derives from the error stream's whole content.

    Mirrors client-go's decoders: empty or Success is 0; NonZeroExitCode yields its code;
    any other failure raises ``ProtocolError`` with the message (kubectl prints it and
    exits 1).
    """
    if not payload:
        return 0
    if not protocol.status_json:
        raise ProtocolError(f"error executing remote command: {payload.decode(errors='replace')}")
    try:
        status = json.loads(payload)
    except ValueError as exc:
        raise ProtocolError(f"error stream protocol error: {exc}") from exc
    if not isinstance(status, dict):
        raise ProtocolError("error stream protocol error: not a Status")
    if status.get("status") == "Success":
        return 0
    if status.get("status") != "Failure":
        raise ProtocolError("error stream protocol error: unknown error")
    if status.get("reason") != NON_ZERO_EXIT_CODE:
        raise ProtocolError(str(status.get("message", "")))
    causes = (status.get("details") or {}).get("causes") or []
    for cause in causes:
        if isinstance(cause, dict) and cause.get("reason") == EXIT_CODE_CAUSE:
            text = str(cause.get("message", ""))
            if not text.isdigit() or int(text) > 255:
                raise ProtocolError(f"error stream protocol error: invalid exit code {text!r}")
            return int(text)
    raise ProtocolError(f"error stream protocol error: no {EXIT_CODE_CAUSE} cause given")


@dataclass(frozen=True, slots=True)
class TerminalSize:
    """``remotecommand.TerminalSize``: two uint16 fields, JSON keys ``Width``/``Height``."""

    width: int
    height: int

    def encode(self) -> bytes:
        """As client-go's ``json.Encoder`` writes it: compact, newline-terminated."""
        return b'{"Width":%d,"Height":%d}\n' % (self.width, self.height)


_MAX_RESIZE_BUFFER = 4096


class ResizeDecoder:
    """The resize stream as Go's ``json.Decoder`` reads it: a sequence of JSON objects.

    Objects may be split across DATA frames or messages and separated by whitespace.
    Keys match case-insensitively and missing ones are 0, as ``encoding/json`` does.
    Raises ``ProtocolError`` on anything else; upstream stops reading resizes then.
    """

    def __init__(self) -> None:
        self._text = codecs.getincrementaldecoder("utf-8")()
        self._buffer = ""
        self._json = json.JSONDecoder()

    def feed(self, data: bytes) -> list[TerminalSize]:
        try:
            self._buffer += self._text.decode(data)
        except UnicodeDecodeError as exc:
            raise ProtocolError("resize message is not UTF-8") from exc
        sizes: list[TerminalSize] = []
        while True:
            self._buffer = self._buffer.lstrip(" \t\r\n")
            if not self._buffer:
                return sizes
            try:
                value, end = self._json.raw_decode(self._buffer)
            except json.JSONDecodeError as exc:
                if _incomplete(exc, self._buffer) and len(self._buffer) <= _MAX_RESIZE_BUFFER:
                    return sizes
                raise ProtocolError(f"invalid resize message: {exc.msg}") from exc
            self._buffer = self._buffer[end:]
            sizes.append(_terminal_size(value))


def _incomplete(error: json.JSONDecodeError, text: str) -> bool:
    return error.pos >= len(text) or error.msg.startswith("Unterminated string")


def _terminal_size(value: object) -> TerminalSize:
    if not isinstance(value, dict):
        raise ProtocolError("resize message is not a JSON object")
    fields = {str(k).lower(): v for k, v in value.items()}
    numbers = [fields.get("width", 0), fields.get("height", 0)]
    for number in numbers:
        if isinstance(number, bool) or not isinstance(number, int) or not 0 <= number < 65536:
            raise ProtocolError(f"resize dimension {number!r} is not a uint16")
    return TerminalSize(numbers[0], numbers[1])
