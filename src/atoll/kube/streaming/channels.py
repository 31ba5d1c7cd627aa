"""The Kubernetes channel protocol over WebSocket: one channel byte, then the payload.

Upstream: ``k8s.io/apimachinery/pkg/util/httpstream/wsstream`` (the codec), the kubelet's
``cri/streaming/remotecommand/websocket.go`` and ``portforward/websocket.go`` (which
subprotocols exist), ``apiserver/pkg/util/proxy/websocket.go`` (v5) and
``client-go/tools/remotecommand/websocket.go`` (the v5 CLOSE signal).

- Binary subprotocols (``channel.k8s.io``, ``v4.channel.k8s.io``, ``v5.channel.k8s.io``,
  and no subprotocol at all): each binary message is ``[channel] + payload``.
- Base64 subprotocols (``base64.channel.k8s.io``, ``v4.base64.channel.k8s.io``): each
  text message is the channel as an ASCII digit (``'0' + n``) then the payload in standard
  base64; the server decodes what it receives and encodes what it sends.
- v5 only: a message ``[255, n]`` half-closes channel ``n`` (client-go's
  ``stream.Close``; the Python client's ``close_channel``), e.g. stdin at EOF.

The subprotocol picked is the first one the client offered that the server supports,
as ``wsstream.handshake`` does. Browsers pass a bearer token as one more subprotocol,
``base64url.bearer.authorization.k8s.io.<token>``, which the API server strips before
negotiating (``split_bearer_token``). Messages of an unknown channel are ignored upstream;
``decode`` returns them and leaves that to the caller.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .errors import NegotiationError, ProtocolError, StreamStateError
from .remotecommand import Channel, ExecOptions, StreamProtocol

__all__ = [
    "BEARER_PROTOCOL_PREFIX",
    "EXEC_PROTOCOLS",
    "PORT_FORWARD_PROTOCOLS",
    "ChannelClosed",
    "ChannelCodec",
    "ChannelData",
    "ChannelProtocol",
    "negotiate_channel_protocol",
    "offered_protocols",
    "ready_channel",
    "split_bearer_token",
]

BEARER_PROTOCOL_PREFIX = "base64url.bearer.authorization.k8s.io."


@dataclass(frozen=True, slots=True)
class ChannelProtocol:
    """A WebSocket subprotocol and what it means for the session.

    ``version`` gives the remote-command semantics: V5 (JSON status, CLOSE signal),
    V4 (JSON status) or V1 (plain-text errors; every pre-v4 WebSocket variant).
    """

    name: str  # "" when the client offered none
    version: StreamProtocol
    base64: bool = False

    @property
    def close_signal(self) -> bool:
        return self.version is StreamProtocol.V5


_V5 = ChannelProtocol("v5.channel.k8s.io", StreamProtocol.V5)
_V4 = ChannelProtocol("v4.channel.k8s.io", StreamProtocol.V4)
_V4_BASE64 = ChannelProtocol("v4.base64.channel.k8s.io", StreamProtocol.V4, base64=True)
_V1 = ChannelProtocol("channel.k8s.io", StreamProtocol.V1)
_V1_BASE64 = ChannelProtocol("base64.channel.k8s.io", StreamProtocol.V1, base64=True)
_NONE = ChannelProtocol("", StreamProtocol.V1)

# exec/attach: the kubelet's set plus the API server's v5 (Kubernetes 1.29+).
EXEC_PROTOCOLS = (_V5, _V4, _V4_BASE64, _V1, _V1_BASE64, _NONE)
# port-forward: the kubelet serves only v4 and "no subprotocol" (pre-v4 names are absent).
PORT_FORWARD_PROTOCOLS = (
    ChannelProtocol(_V4.name, StreamProtocol.V4),
    ChannelProtocol(_V4_BASE64.name, StreamProtocol.V4, base64=True),
    _NONE,
)


@dataclass(frozen=True, slots=True)
class ChannelData:
    channel: int
    data: bytes


@dataclass(frozen=True, slots=True)
class ChannelClosed:
    """v5: the peer will send nothing more on ``channel``."""

    channel: int


def offered_protocols(header_values: Iterable[str]) -> list[str]:
    """``Sec-WebSocket-Protocol`` offers, from every header line, in order."""
    return [p.strip() for value in header_values for p in value.split(",") if p.strip()]


def split_bearer_token(offers: Sequence[str]) -> tuple[str | None, list[str]]:
    """The bearer token a browser passed as a subprotocol, and the other offers.

    As the API server's ``ProtocolAuthenticator``: unpadded base64url, valid UTF-8, at
    most one, and only alongside a real subprotocol; ``ValueError`` (401) otherwise.
    """
    token: str | None = None
    rest = []
    for offer in offers:
        if not offer.startswith(BEARER_PROTOCOL_PREFIX):
            rest.append(offer)
            continue
        if token is not None:
            raise ValueError("multiple base64.bearer.authorization tokens specified")
        encoded = offer.removeprefix(BEARER_PROTOCOL_PREFIX)
        try:
            padded = encoded + "=" * (-len(encoded) % 4)
            token = base64.b64decode(padded, altchars=b"-_", validate=True).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
            raise ValueError("invalid base64.bearer.authorization token encoding") from exc
        if "=" in encoded:
            raise ValueError("invalid base64.bearer.authorization token encoding")
    if token and not rest:
        raise ValueError("missing additional subprotocol")
    return token or None, rest


def negotiate_channel_protocol(
    offers: Sequence[str], supported: Sequence[ChannelProtocol] = EXEC_PROTOCOLS
) -> ChannelProtocol:
    """The first offered subprotocol the server supports; no offer means ``""``.

    Raises ``NegotiationError`` (403, as ``golang.org/x/net/websocket`` answers a failed
    handshake) when nothing matches.
    """
    by_name = {p.name: p for p in supported}
    for offer in offers or [""]:
        if offer in by_name:
            return by_name[offer]
    names = [p.name for p in supported if p.name]
    raise NegotiationError(
        f"requested protocol(s) are not supported: {list(offers)}; supports {names}",
        status_code=403,
        accepted=names,
    )


def ready_channel(options: ExecOptions) -> Channel:
    """Where the server's first, empty message goes: the lowest channel it writes."""
    if options.stdout:
        return Channel.STDOUT
    if options.stderr:
        return Channel.STDERR
    return Channel.ERROR


class ChannelCodec:
    """Channel messages to and from WebSocket message payloads for one subprotocol.

    Binary subprotocols produce ``bytes`` (send as binary messages); base64 ones produce
    ``str`` (send as text messages). ``decode`` takes either kind of message, as the Go
    server does.
    """

    def __init__(self, protocol: ChannelProtocol) -> None:
        self.protocol = protocol

    def encode(self, channel: int, data: bytes = b"") -> bytes | str:
        if not 0 <= channel < 256:
            raise ValueError(f"channel {channel} out of range")
        if self.protocol.base64:
            if channel > 0x7F - ord("0"):  # Go writes string('0'+n): one byte up to 127
                raise ValueError(f"channel {channel} has no one-character base64 form")
            return chr(ord("0") + channel) + base64.b64encode(data).decode("ascii")
        return bytes((channel,)) + data

    def close(self, channel: int) -> bytes:
        """The v5 CLOSE signal for ``channel``."""
        if not self.protocol.close_signal:
            raise StreamStateError(f"{self.protocol.name or 'no subprotocol'} has no CLOSE signal")
        return bytes((Channel.CLOSE, channel))

    def decode(self, message: bytes | str) -> ChannelData | ChannelClosed | None:
        """The channel message in ``message``; ``None`` for an empty one (ignored upstream).

        Raises ``ProtocolError`` for invalid base64 or a malformed CLOSE signal.
        """
        if self.protocol.base64:
            return self._decode_base64(message)
        raw = message.encode() if isinstance(message, str) else bytes(message)
        if not raw:
            return None
        if raw[0] == Channel.CLOSE and self.protocol.close_signal:
            if len(raw) != 2:
                raise ProtocolError(f"CLOSE signal of {len(raw)} bytes, expected 2")
            return ChannelClosed(raw[1])
        return ChannelData(raw[0], raw[1:])

    def _decode_base64(self, message: bytes | str) -> ChannelData | None:
        try:
            text = message.decode("ascii") if isinstance(message, bytes) else message
        except UnicodeDecodeError as exc:
            raise ProtocolError("base64 channel message is not ASCII") from exc
        if not text:
            return None
        channel = (text[:1].encode()[0] - ord("0")) % 256  # Go subtracts on the byte
        # Go's StdEncoding skips CR and LF; anything else outside the alphabet is an error.
        payload = text[1:].replace("\r", "").replace("\n", "")
        try:
            return ChannelData(channel, base64.b64decode(payload, validate=True))
        except (binascii.Error, ValueError) as exc:
            raise ProtocolError(f"invalid base64 on channel {channel}") from exc
