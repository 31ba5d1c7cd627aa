"""Sockets inside a pod's network namespace (port-forward connects to the pod's localhost).

A socket belongs to the network namespace its creator was in when it was made, whatever
thread uses it later. So a worker thread switches into the pod's namespace (``setns``,
which moves only the calling thread), creates the socket, and switches back; the event
loop then connects and uses it like any other. Python 3.11 has no ``os.setns``: libc's
is called through ctypes.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import socket
from pathlib import Path

__all__ = ["open_connection_in", "socket_in"]

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def _setns(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        error = ctypes.get_errno()
        raise OSError(error, os.strerror(error))


def socket_in(
    netns: Path, family: int = socket.AF_INET, kind: int = socket.SOCK_STREAM
) -> socket.socket:
    """A new socket in the network namespace at ``netns`` (call it off the event loop)."""
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        target = os.open(netns, os.O_RDONLY)
        try:
            _setns(target)
            try:
                return socket.socket(family, kind)
            finally:
                _setns(own)  # a thread left in a pod's namespace would be a pool thread's bug
        finally:
            os.close(target)
    finally:
        os.close(own)


async def open_connection_in(
    netns: Path | None, host: str, port: int
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """``asyncio.open_connection`` from inside ``netns`` (None: this machine's network)."""
    if netns is None:
        return await asyncio.open_connection(host, port)
    sock = await asyncio.to_thread(socket_in, netns)
    try:
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, (host, port))
    except BaseException:
        sock.close()
        raise
    return await asyncio.open_connection(sock=sock)
