"""HTTP pieces of the ingress proxy: the headers it passes on and adds, its error pages, and
the WebSocket message pump.

Hop-by-hop headers (RFC 9110, plus those ``Connection`` names) never cross the proxy;
``X-Forwarded-*`` and ``X-Real-IP`` are set from the connection, overwriting what a client
sent, so a client cannot forge its address.
"""

from __future__ import annotations

import contextlib
import logging
from http import HTTPStatus

import aiohttp
from aiohttp import hdrs, web
from multidict import CIMultiDict, CIMultiDictProxy

__all__ = ["WebSocket", "error_page", "pump_websocket", "upstream_headers", "without_hop_by_hop"]

logger = logging.getLogger(__name__)

# RFC 9110's hop-by-hop headers, and Expect: the proxy answers 100 Continue itself.
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "expect",
    }
)

WebSocket = web.WebSocketResponse | aiohttp.ClientWebSocketResponse


async def pump_websocket(source: WebSocket, sink: WebSocket) -> None:
    """Copy messages from ``source`` to ``sink`` until ``source`` closes; then close ``sink``
    with the same code (a broken side closes the other too, never raising)."""
    try:
        async for message in source:
            if message.type is aiohttp.WSMsgType.TEXT:
                await sink.send_str(message.data)
            elif message.type is aiohttp.WSMsgType.BINARY:
                await sink.send_bytes(message.data)
            elif message.type is aiohttp.WSMsgType.PING:
                await sink.ping(message.data)
            elif message.type is aiohttp.WSMsgType.PONG:
                await sink.pong(message.data)
    except (aiohttp.ClientError, ConnectionError) as exc:
        logger.info("ingress: a WebSocket broke off: %s", exc)
    with contextlib.suppress(aiohttp.ClientError, ConnectionError):
        await sink.close(code=source.close_code or aiohttp.WSCloseCode.OK)


def upstream_headers(request: web.BaseRequest, ports: tuple[int, int]) -> CIMultiDict[str]:
    headers = without_hop_by_hop(request.headers)
    remote = request.remote or ""
    headers["X-Forwarded-For"] = remote
    headers["X-Real-IP"] = remote
    headers["X-Forwarded-Host"] = request.headers.get(hdrs.HOST, "")
    headers["X-Forwarded-Proto"] = "https" if request.secure else "http"
    headers["X-Forwarded-Port"] = str(ports[1] if request.secure else ports[0])
    return headers


def without_hop_by_hop(headers: CIMultiDictProxy[str]) -> CIMultiDict[str]:
    """The end-to-end headers: minus RFC 9110's hop-by-hop ones and those ``Connection`` names."""
    named = {
        token.strip().lower()
        for value in headers.getall(hdrs.CONNECTION, ())
        for token in value.split(",")
    }
    return CIMultiDict(
        (k, v)
        for k, v in headers.items()
        if k.lower() not in _HOP_BY_HOP and k.lower() not in named
    )


def error_page(status: HTTPStatus, detail: str) -> web.Response:
    """A small plain-text error page, like nginx's."""
    text = f"{status.value} {status.phrase}\n\n{detail}\n"
    return web.Response(status=status.value, text=text, content_type="text/plain")
