"""The kubelet's streaming endpoints: ``/exec``, ``/attach`` and ``/portForward``.

Paths as the upstream kubelet's (``pkg/kubelet/server/server.go``), GET or POST:
``/exec/{namespace}/{pod}/{container}`` and ``/attach/...`` (also ``.../{pod}/{uid}/
{container}``), ``/portForward/{namespace}/{pod}`` (also ``.../{uid}``). Options come in
the query, in the kubelet's spelling (``input``, ``output``, ``error``, ``tty``,
``command``; ``port``) or the API server's.

Requests arrive as upgrades: SPDY/3.1 as an ``http`` request carrying a pending
``Upgrade`` (``upgrades``), WebSocket as an ASGI ``websocket`` scope. Everything is checked
before the upgrade is accepted; refusals are plain text with the kubelet's wording, which
the API server relays and kubectl prints as ``unable to upgrade connection: <text>``:
404 ``pod does not exist``, 404 ``container not found ("c")`` (not running), 400 for bad
options or a plain request, 400/403 when no protocol version matches.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import Receive, Scope, Send

from atoll.kube.streaming import (
    EXEC_PROTOCOLS,
    PORT_FORWARD_PROTOCOL,
    PORT_FORWARD_PROTOCOLS,
    SPDY_EXEC_PROTOCOLS,
    ChannelProtocol,
    ExecOptions,
    NegotiationError,
    StreamProtocol,
    negotiate_channel_protocol,
    negotiate_protocol,
    parse_ports,
    parse_protocol_versions,
    spdy_upgrade_response_headers,
)
from atoll.kube.streaming.remotecommand import HEADER_ACCEPTED_VERSIONS

from ..network.netns import open_connection_in
from ..upgrades import Serve, UpgradeResponse, upgrade_of
from .commands import AttachSession, Session, start_command
from .portforwarding import Connect, forward_over_spdy, forward_over_websocket
from .remotecommands import StartSession, command_over_spdy, command_over_websocket
from .stream_transports import SpdySession, WebSocketChannels

if TYPE_CHECKING:
    from .kubelet import Kubelet
    from .worker import PodWorker

__all__ = ["STREAMING_PATHS", "StreamingEndpoints"]

STREAMING_PATHS = frozenset({"exec", "attach", "portForward"})


class Refused(Exception):
    """A streaming request the kubelet answers with ``status`` and plain ``text``."""

    def __init__(self, status: int, text: str, headers: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(text)
        self.status = status
        self.text = text
        self.headers = list(headers)


@dataclass(frozen=True, slots=True)
class _Target:
    kind: str  # "exec", "attach" or "portForward"
    namespace: str
    pod: str
    uid: str
    container: str


def _target(parts: Sequence[str]) -> _Target:
    kind, rest = (parts[0] if parts else ""), list(parts[1:])
    if kind not in STREAMING_PATHS:
        raise Refused(404, "404 page not found")
    named = kind != "portForward"
    sizes = (3, 4) if named else (2, 3)
    if len(rest) not in sizes or not all(rest):
        raise Refused(404, "404 page not found")
    container = rest.pop() if named else ""
    uid = rest[2] if len(rest) == 3 else ""
    return _Target(kind, rest[0], rest[1], uid, container)


class StreamingEndpoints:
    """Checks a streaming request against this kubelet's pods and serves it."""

    def __init__(self, kubelet: Kubelet) -> None:
        self.kubelet = kubelet

    async def http(self, request: Request, parts: Sequence[str]) -> Response:
        """A streaming request over HTTP: a SPDY upgrade, or a refusal."""
        try:
            target = _target(parts)
            upgrade = upgrade_of(request.scope)
            if upgrade is None or upgrade.token != "spdy/3.1":
                raise Refused(400, "Upgrade request required")
            offered = parse_protocol_versions(request.headers.getlist("x-stream-protocol-version"))
            query = list(request.query_params.multi_items())
            serve: Serve
            if target.kind == "portForward":
                connect = self._connector(self._worker(target))
                chosen = _negotiate(offered, [PORT_FORWARD_PROTOCOL])
                serve = functools.partial(_forward_spdy, pod=target.pod, connect=connect)
            else:
                options = _options(query)
                start = self._starter(target, options)
                chosen = _negotiate(offered, SPDY_EXEC_PROTOCOLS)
                serve = functools.partial(
                    _command_spdy, options=options, protocol=StreamProtocol(chosen), start=start
                )
        except Refused as refused:
            response = PlainTextResponse(refused.text, refused.status)
            for name, value in refused.headers:
                response.headers.append(name, value)
            return response
        return UpgradeResponse(upgrade, spdy_upgrade_response_headers(chosen), serve)

    async def websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A streaming request over WebSocket (already authenticated)."""
        ws = WebSocketChannels(scope, receive, send)
        serve: Callable[[], Awaitable[None]]
        try:
            target = _target(scope["path"].rstrip("/").split("/")[1:])
            if target.kind == "portForward":
                serve = functools.partial(
                    forward_over_websocket,
                    ws,
                    protocol=_negotiate_channel(ws.offers, PORT_FORWARD_PROTOCOLS),
                    pod=target.pod,
                    ports=_ports(ws.query),
                    connect=self._connector(self._worker(target)),
                )
            else:
                options = _options(ws.query)
                serve = functools.partial(
                    command_over_websocket,
                    ws,
                    options=options,
                    protocol=_negotiate_channel(ws.offers, EXEC_PROTOCOLS),
                    start=self._starter(target, options),
                )
        except Refused as refused:
            await ws.refuse(refused.status, refused.text, refused.headers)
            return
        await serve()

    def _worker(self, target: _Target) -> PodWorker:
        worker = self.kubelet.worker_of(target.namespace, target.pod)
        if worker is None or (target.uid and worker.uid != target.uid):
            raise Refused(404, "pod does not exist")
        return worker

    @staticmethod
    def _connector(worker: PodWorker) -> Connect:
        """Connections to the pod's localhost, inside its network namespace."""
        netns = worker.netns
        return functools.partial(open_connection_in, netns, "127.0.0.1")

    def _starter(self, target: _Target, options: ExecOptions) -> StartSession:
        worker = self._worker(target)
        container = worker.running.get(target.container)
        output = worker.outputs.get(target.container)
        if container is None or output is None:
            raise Refused(404, f'container not found ("{target.container}")')
        if target.kind == "attach":
            specs = (worker.pod.get("spec") or {}).get("containers") or []
            once = any(c.get("name") == target.container and c.get("stdinOnce") for c in specs)

            async def attach() -> Session:
                return AttachSession(container, output, stdin_once=once)

            return attach

        async def execute() -> Session:
            return await start_command(
                container,
                output,
                options.command,
                stdin=options.stdin,
                tty=options.tty,
                stdout=options.stdout,
            )

        return execute


def _options(query: list[tuple[str, str]]) -> ExecOptions:
    try:
        options = ExecOptions.from_query(query)
    except ValueError as error:
        raise Refused(400, str(error)) from None
    return options


def _ports(query: list[tuple[str, str]]) -> list[int]:
    try:
        return parse_ports(query)
    except ValueError as error:
        raise Refused(400, str(error)) from None


def _negotiate(offered: list[str], supported: Sequence[str]) -> str:
    try:
        return negotiate_protocol(offered, supported)
    except NegotiationError as error:
        accepted = [(HEADER_ACCEPTED_VERSIONS, version) for version in error.accepted]
        raise Refused(error.status_code, str(error), accepted) from None


def _negotiate_channel(offered: list[str], supported: Sequence[ChannelProtocol]) -> ChannelProtocol:
    try:
        return negotiate_channel_protocol(offered, supported)
    except NegotiationError as error:
        raise Refused(error.status_code, str(error)) from None


async def _command_spdy(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    *,
    options: ExecOptions,
    protocol: StreamProtocol,
    start: StartSession,
) -> None:
    spdy = SpdySession(reader, writer)
    await command_over_spdy(spdy, options=options, protocol=protocol, start=start)


async def _forward_spdy(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, pod: str, connect: Connect
) -> None:
    await forward_over_spdy(SpdySession(reader, writer), pod=pod, connect=connect)
