"""``UpgradingProtocol``: SPDY upgrades reach the app, which checks, refuses or takes over.

A real uvicorn serves a tiny app on loopback; the client is a plain socket, so every byte
of the exchange is visible.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

import uvicorn
from starlette.responses import PlainTextResponse
from starlette.types import Receive, Scope, Send

from atoll.embedded.upgrades import ProxyingProtocol, UpgradeResponse, UpgradingProtocol, upgrade_of

UPGRADE = b"Connection: Upgrade\r\nUpgrade: SPDY/3.1\r\n"


async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while data := await reader.read(65536):
        writer.write(data.upper())
        await writer.drain()


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.close"})
        return
    upgrade = upgrade_of(scope)
    if upgrade is None:
        response = PlainTextResponse(f"plain {scope['path']}")
    elif scope["path"] != "/echo":
        response = PlainTextResponse("refused", 403)
    else:
        response = UpgradeResponse(upgrade, [("Upgrade", upgrade.token)], echo)
    await response(scope, receive, send)


@contextlib.asynccontextmanager
async def serving(protocol: type[UpgradingProtocol]) -> AsyncIterator[int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    config = uvicorn.Config(app, http=protocol, lifespan="off", log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            await asyncio.sleep(0.01)
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        await task


async def exchange(port: int, request: bytes, *, head_only: bool = False) -> bytes:
    """Send ``request``; read the answer's head, or all until the server hangs up."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    await writer.drain()
    read = reader.readuntil(b"\r\n\r\n") if head_only else reader.read()
    data = await asyncio.wait_for(read, 10)
    writer.close()
    await writer.wait_closed()
    return data


async def test_an_accepted_upgrade_hands_over_the_connection_and_early_bytes() -> None:
    async with serving(UpgradingProtocol) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        # Frames sent before the 101 arrives (in the same packet) must not be lost.
        writer.write(b"POST /echo HTTP/1.1\r\nHost: x\r\n" + UPGRADE + b"\r\nearly ")
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101 Switching Protocols\r\n")
        assert b"Upgrade: spdy/3.1\r\n" in head
        assert await reader.readexactly(6) == b"EARLY "
        writer.write(b"later")
        assert await reader.readexactly(5) == b"LATER"
        writer.close()
        await writer.wait_closed()


async def test_a_refused_upgrade_is_an_ordinary_answer_then_a_hang_up() -> None:
    async with serving(UpgradingProtocol) as port:
        answer = await exchange(port, b"POST /other HTTP/1.1\r\nHost: x\r\n" + UPGRADE + b"\r\n")
    assert answer.startswith(b"HTTP/1.1 403 Forbidden\r\n")
    assert b"connection: close\r\n" in answer and answer.endswith(b"refused")


async def test_plain_requests_and_websockets_go_their_usual_way() -> None:
    key = b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
    websocket = b"GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
    async with serving(UpgradingProtocol) as port:
        plain = await exchange(port, b"GET /p HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert plain.startswith(b"HTTP/1.1 200 OK") and plain.endswith(b"plain /p")
        answer = await exchange(port, websocket + key + b"\r\n", head_only=True)
        assert answer.startswith(b"HTTP/1.1 101 Switching Protocols")  # uvicorn's own
    async with serving(ProxyingProtocol) as port:  # the API server's: WebSocket is raw too
        answer = await exchange(port, websocket + key + b"\r\n")
        assert answer.startswith(b"HTTP/1.1 403 Forbidden") and answer.endswith(b"refused")


async def test_shutdown_hangs_up_on_upgraded_connections() -> None:
    async with serving(UpgradingProtocol) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"POST /echo HTTP/1.1\r\nHost: x\r\n" + UPGRADE + b"\r\n")
        await reader.readuntil(b"\r\n\r\n")
    assert await asyncio.wait_for(reader.read(), 5) == b""  # closed by the server's shutdown
    writer.close()
    await writer.wait_closed()
