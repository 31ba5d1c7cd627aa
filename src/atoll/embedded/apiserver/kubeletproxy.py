"""``pods/log`` and resource usage: the API server asks the pod's kubelet, as kube-apiserver
(and metrics-server, for ``/stats/summary``) does.

The kubelet is found through the pod's Node: its ``InternalIP`` address and
``status.daemonEndpoints.kubeletEndpoint.Port``. The request carries the cluster's bearer
token and trusts the cluster's CA (or, for a certificate the user brought, skips
verification of a loopback kubelet, as metrics-server's ``--kubelet-insecure-tls``). The
kubelet's answer to a log request — a log stream or a ``Status`` — is passed through as it
comes; a summary comes back parsed, or as ServiceUnavailable.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from starlette.responses import Response, StreamingResponse

from atoll.errors import BadRequest, ServiceUnavailable

__all__ = ["KubeletProxy", "kubelet_endpoint"]

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

    def _ssl(self) -> ssl.SSLContext | bool:
        if self._ca is None:
            return False
        return ssl.create_default_context(cafile=str(self._ca))

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
