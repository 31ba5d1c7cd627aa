"""The errors of the streaming protocols, apart from Atoll's API error tree.

These are wire-level failures of an upgraded connection, not Kubernetes ``Status`` errors:
by the time one is raised the HTTP response (``101 Switching Protocols``) has been sent, so
the caller answers with the transport's own means (SPDY GOAWAY or RST_STREAM, a WebSocket
close) and drops the connection. Only ``NegotiationError`` happens before the upgrade and
maps to an HTTP answer.

- ``StreamingError`` (base)
  - ``ProtocolError``: the peer sent bytes that break the protocol (garbage, a malformed
    frame or message, an impossible stream id); carries the SPDY status to answer with
  - ``StreamRejected``: the peer opened a SPDY stream this side refuses (bad or missing
    headers); that stream is reset, the connection goes on
  - ``StreamStateError``: a local misuse, such as sending on a stream that is closed or
    replying twice; a bug in the caller, never the peer's fault
  - ``NegotiationError``: no common protocol version; carries the HTTP status and the
    versions this side accepts
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "NegotiationError",
    "ProtocolError",
    "StreamRejected",
    "StreamStateError",
    "StreamingError",
]


class StreamingError(Exception):
    """Base of every streaming-protocol error."""


class ProtocolError(StreamingError):
    """The peer broke the protocol; the connection cannot go on.

    ``status`` is the SPDY GOAWAY status to answer with (1, PROTOCOL_ERROR, unless the
    failure is the local side's: 2, INTERNAL_ERROR). WebSocket callers close with 1002.
    """

    def __init__(self, message: str, *, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


class StreamRejected(StreamingError):
    """A stream the peer opened is refused; the connection goes on.

    Reset that stream (RST_STREAM CANCEL, as spdystream's ``Stream.Reset``) instead of
    replying. ``error_stream_id``, when set, is a stream already accepted where the
    message should be written too (what the kubelet does for a duplicate stream).
    """

    def __init__(self, message: str, *, error_stream_id: int | None = None) -> None:
        super().__init__(message)
        self.error_stream_id = error_stream_id


class StreamStateError(StreamingError):
    """The caller asked for something the stream's state forbids (a bug, not the peer's)."""


class NegotiationError(StreamingError):
    """No protocol version both sides speak.

    ``status_code`` is the HTTP answer upstream gives (400 when the client offered nothing,
    403 when nothing matched) and ``accepted`` the versions to list in
    ``X-Accepted-Stream-Protocol-Versions``.
    """

    def __init__(self, message: str, *, status_code: int, accepted: Sequence[str]) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.accepted = tuple(accepted)
