"""The wire protocols of ``kubectl exec``, ``attach`` and ``port-forward``, sans-IO.

Nothing here opens a socket: bytes and messages go in, events and bytes come out, so the
same code serves the embedded API server, a kubelet and the console's proxy, and tests
run without an event loop.

- ``spdy_frames``: SPDY/3.1 frames and their zlib-compressed header blocks.
- ``spdy``: ``SpdyConnection``, a SPDY session state machine (kubectl 1.20's transport).
- ``channels``: the channel protocol over WebSocket (Python clients, browsers; v4, v5).
- ``remotecommand``: exec/attach on either transport: versions, stream roles, the exit
  status on the error stream, terminal resizes; the handshake, step by step.
- ``portforward``: port-forward's stream pairs (SPDY) and channel pairs (WebSocket).
- ``errors``: ``ProtocolError`` and its siblings.
"""

from __future__ import annotations

from .channels import (
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
from .errors import (
    NegotiationError,
    ProtocolError,
    StreamingError,
    StreamRejected,
    StreamStateError,
)
from .portforward import (
    PORT_FORWARD_PROTOCOL,
    PortForwardPair,
    PortForwardStreams,
    initial_messages,
    parse_ports,
)
from .remotecommand import (
    SPDY_EXEC_PROTOCOLS,
    Channel,
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
from .spdy import (
    DataReceived,
    GoAwayReceived,
    HeadersReceived,
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

__all__ = [
    "EXEC_PROTOCOLS",
    "PORT_FORWARD_PROTOCOL",
    "PORT_FORWARD_PROTOCOLS",
    "SPDY_EXEC_PROTOCOLS",
    "Channel",
    "ChannelClosed",
    "ChannelCodec",
    "ChannelData",
    "ChannelProtocol",
    "DataReceived",
    "ExecOptions",
    "ExecStreams",
    "GoAwayReceived",
    "HeadersReceived",
    "NegotiationError",
    "PingReceived",
    "PortForwardPair",
    "PortForwardStreams",
    "ProtocolError",
    "ResizeDecoder",
    "SettingsReceived",
    "SpdyConnection",
    "StreamOpened",
    "StreamProtocol",
    "StreamRejected",
    "StreamReplied",
    "StreamReset",
    "StreamStateError",
    "StreamType",
    "StreamingError",
    "TerminalSize",
    "WindowUpdated",
    "error_stream_payload",
    "exit_code_from_error_stream",
    "exit_status",
    "first_header",
    "initial_messages",
    "internal_error_status",
    "is_spdy_upgrade",
    "negotiate_channel_protocol",
    "negotiate_protocol",
    "offered_protocols",
    "parse_ports",
    "parse_protocol_versions",
    "ready_channel",
    "spdy_upgrade_response_headers",
    "split_bearer_token",
    "success_status",
]
