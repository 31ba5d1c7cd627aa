"""``pods/log``, resource usage and the streaming subresources: the API server asks the pod's
kubelet, as kube-apiserver (and metrics-server, for ``/stats/summary``) does.

The kubelet is found through the pod's Node: its ``InternalIP`` address and
``status.daemonEndpoints.kubeletEndpoint.Port``. The request carries the cluster's bearer
token and trusts the cluster's CA (or, for a certificate the user brought, skips
verification of a loopback kubelet, as metrics-server's ``--kubelet-insecure-tls``). The
kubelet's answer to a log request — a log stream or a ``Status`` — is passed through as it
comes; a summary comes back parsed, or as ServiceUnavailable.

``exec``, ``attach`` and ``portforward`` (``upgrade``) are relayed as kube-apiserver's
UpgradeAwareHandler relays them: the client's upgrade request (SPDY/3.1 or WebSocket) is
sent on to the kubelet over a new TLS connection, with the cluster's credential instead
of the client's; a ``101`` from the kubelet is passed back, and from then on bytes are
copied both ways until either side hangs up. Protocol negotiation is the kubelet's. Any
other answer (the kubelet's refusal) is passed back as it is.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ssl
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from atoll.errors import BadRequest, ServiceUnavailable
from atoll.kube.streaming import offered_protocols, split_bearer_token

from ..upgrades import Upgrade, UpgradeResponse

__all__ = ["KubeletProxy", "kubelet_endpoint"]

# What an upgrade request carries on to the kubelet: the upgrade and its negotiation.
_UPGRADE_HEADERS = frozenset(
    {
        "connection",
        "upgrade",
        "x-stream-protocol-version",
        "sec-websocket-key",
        "sec-websocket-version",
        "sec-websocket-extensions",
        "user-agent",
    }
)
_DIAL_SECONDS = 5.0
_ANSWER_SECONDS = 30.0
_COPY = 64 * 1024

_LOG_OPTIONS = (
    "follow",
    "previous",
    "tailLines",
    "sinceSeconds",
    "sinceTime",
    "timestamps",
    "limitBytes",
)


def kubelet_endpoint(node: Mapping[str, Any]) -> tuple[str, int]:
    """(address, port) of a Node's kubelet; BadRequest when it has none."""
    status = node.get("status") or {}
    port = ((status.get("daemonEndpoints") or {}).get("kubeletEndpoint") or {}).get("Port")
    addresses = {a.get("type"): a.get("address") for a in status.get("addresses") or []}
    address = addresses.get("InternalIP") or addresses.get("Hostname")
    if not port or not address:
        name = (node.get("metadata") or {}).get("name", "")
        raise BadRequest(f"node {name} has no kubelet endpoint")
    return str(address), int(port)


class KubeletProxy:
    """One HTTP client session to the kubelets, opened on first use."""

    def __init__(self, *, token: str, ca: Path | None) -> None:
        self._token = token
        self._ca = ca
        self._session: aiohttp.ClientSession | None = None
        self._tls: ssl.SSLContext | None = None

    def _ssl(self) -> ssl.SSLContext | bool:
        if self._ca is None:
            return False
        return ssl.create_default_context(cafile=str(self._ca))

    def _tls_context(self) -> ssl.SSLContext:
        """For raw connections: the cluster's CA, or no verification (see the module doc)."""
        if self._tls is None:
            if self._ca is not None:
                self._tls = ssl.create_default_context(cafile=str(self._ca))
            else:
                self._tls = ssl.create_default_context()
                self._tls.check_hostname = False
                self._tls.verify_mode = ssl.CERT_NONE
        return self._tls

    async def upgrade(
        self,
        node: Mapping[str, Any],
        path: str,
        query: Iterable[tuple[str, str]],
        request: Request,
        upgrade: Upgrade,
    ) -> Response:
        """Relay an upgrade request to the kubelet at ``path``; see the module doc."""
        address, port = kubelet_endpoint(node)
        host = f"[{address}]" if ":" in address else address
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(
                    address, port, ssl=self._tls_context(), server_hostname=address
                ),
                _DIAL_SECONDS,
            )
        except (OSError, TimeoutError) as error:
            raise ServiceUnavailable(f"error dialing backend: {error or 'timeout'}") from error
        target = f"{path}?{urlencode(list(query))}"
        writer.write(self._request_head(request, target, f"{host}:{port}"))
        try:
            status, headers = await asyncio.wait_for(_read_head(reader), _ANSWER_SECONDS)
            if status != 101:
                body = await asyncio.wait_for(_read_body(reader, headers), _ANSWER_SECONDS)
        except (OSError, TimeoutError, ValueError, asyncio.IncompleteReadError) as error:
            writer.close()
            raise ServiceUnavailable(f"the kubelet at {host}:{port} did not answer") from error
        if status != 101:
            writer.close()
            kind = next((v for k, v in headers if k.lower() == "content-type"), "text/plain")
            return Response(body, status_code=status, media_type=kind)
        return UpgradeResponse(upgrade, headers, functools.partial(_splice, reader, writer))

    def _request_head(self, request: Request, target: str, host: str) -> bytes:
        lines = [f"{request.method} {target} HTTP/1.1", f"Host: {host}"]
        lines.append(f"Authorization: Bearer {self._token}")
        for name, value in request.headers.items():
            if name in _UPGRADE_HEADERS:
                lines.append(f"{name}: {value}")
        offers = offered_protocols(request.headers.getlist("sec-websocket-protocol"))
        if offers:
            _, rest = split_bearer_token(offers)  # the client's token stays here
            lines.append(f"Sec-WebSocket-Protocol: {', '.join(rest)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    async def logs(
        self,
        node: Mapping[str, Any],
        namespace: str,
        pod: str,
        container: str,
        query: Mapping[str, str],
    ) -> Response:
        address, port = kubelet_endpoint(node)
        params = {k: v for k, v in query.items() if k in _LOG_OPTIONS}
        host = f"[{address}]" if ":" in address else address
        url = f"https://{host}:{port}/containerLogs/{namespace}/{pod}/{container}"
        try:
            response = await self._client().get(
                url, params=params, headers={"Authorization": f"Bearer {self._token}"}
            )
        except aiohttp.ClientError as error:
            raise ServiceUnavailable(
                f"the kubelet at {host}:{port} did not answer: {error}"
            ) from error
        if response.status != 200:
            body = await response.read()
            response.release()
            return Response(body, status_code=response.status, media_type="application/json")

        async def stream() -> AsyncIterator[bytes]:
            try:
                async for chunk in response.content.iter_any():
                    yield chunk
            finally:
                response.release()

        return StreamingResponse(stream(), media_type="text/plain")

    async def summary(self, node: Mapping[str, Any], *, timeout: float) -> dict[str, Any]:
        """The kubelet's ``/stats/summary``; ServiceUnavailable when it does not answer in
        ``timeout`` seconds or answers with anything but a JSON object."""
        address, port = kubelet_endpoint(node)
        host = f"[{address}]" if ":" in address else address
        headers = {"Authorization": f"Bearer {self._token}"}
        try:
            async with self._client().get(
                f"https://{host}:{port}/stats/summary",
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=timeout),
            ) as response:
                body = await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as error:
            raise ServiceUnavailable(
                f"the kubelet at {host}:{port} did not answer: {error or 'timeout'}"
            ) from error
        try:
            summary = orjson.loads(body) if status == 200 else None
        except orjson.JSONDecodeError:
            summary = None
        if not isinstance(summary, dict):
            raise ServiceUnavailable(f"the kubelet at {host}:{port} gave no summary ({status})")
        return summary

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(ssl=self._ssl()),
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=5),
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


async def _read_head(reader: asyncio.StreamReader) -> tuple[int, list[tuple[str, str]]]:
    """The status and headers of an HTTP/1.1 response."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    status_line, *lines = head.split("\r\n")
    version, _, rest = status_line.partition(" ")
    if not version.startswith("HTTP/1."):
        raise ValueError(f"not an HTTP response: {status_line!r}")
    headers = []
    for line in lines:
        name, colon, value = line.partition(":")
        if colon:
            headers.append((name.strip(), value.strip()))
    return int(rest.split(" ", 1)[0]), headers


async def _read_body(reader: asyncio.StreamReader, headers: Sequence[tuple[str, str]]) -> bytes:
    """A refusal's body: by its Content-Length, else to the end (the kubelet closes)."""
    length = next((v for k, v in headers if k.lower() == "content-length"), None)
    if length is not None:
        return await reader.readexactly(int(length))
    return await reader.read()


async def _copy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while chunk := await reader.read(_COPY):
            writer.write(chunk)
            await writer.drain()


async def _splice(
    kubelet_reader: asyncio.StreamReader,
    kubelet_writer: asyncio.StreamWriter,
    client_reader: asyncio.StreamReader,
    client_writer: asyncio.StreamWriter,
) -> None:
    """Copy both ways until either side hangs up; then hang up on the other (TLS has no
    half-close, and neither protocol uses one)."""
    copies = [
        asyncio.create_task(_copy(client_reader, kubelet_writer)),
        asyncio.create_task(_copy(kubelet_reader, client_writer)),
    ]
    try:
        await asyncio.wait(copies, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for copy in copies:
            copy.cancel()
        await asyncio.gather(*copies, return_exceptions=True)
        kubelet_writer.close()
        client_writer.close()
