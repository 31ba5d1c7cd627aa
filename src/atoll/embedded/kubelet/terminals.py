"""Descriptors the kubelet reads and writes without blocking: pipes and terminals.

Used by ``kubectl exec`` (a command's pipes or pseudo-terminal) and by containers started
with ``tty: true`` (their pseudo-terminal's master side). A terminal's size is set with
``TIOCSWINSZ``; the kernel signals SIGWINCH to its foreground process group.
"""

from __future__ import annotations

import asyncio
import errno
import fcntl
import os
import struct
import termios
from collections.abc import Callable

from atoll.kube.streaming import TerminalSize

__all__ = ["CHUNK", "DEFAULT_SIZE", "NonBlockingFd", "set_size", "wake"]

CHUNK = 32 * 1024
DEFAULT_SIZE = TerminalSize(80, 24)  # until the client's first resize arrives


def set_size(fd: int, size: TerminalSize) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", size.height, size.width, 0, 0))


def wake(ready: asyncio.Future[None]) -> None:
    if not ready.done():
        ready.set_result(None)


class NonBlockingFd:
    """One end of a pipe or a terminal, read and written without blocking the event loop.

    A terminal's master side reads EIO once every slave side is closed: that is its end.
    """

    def __init__(self, fd: int) -> None:
        os.set_blocking(fd, False)
        self.fd = fd
        self._loop = asyncio.get_running_loop()
        self._waiting: set[asyncio.Future[None]] = set()

    async def read(self) -> bytes:
        while self.fd >= 0:
            try:
                return os.read(self.fd, CHUNK)
            except BlockingIOError:
                await self._ready(self._loop.add_reader, self._loop.remove_reader)
            except OSError as error:
                if error.errno == errno.EIO:
                    return b""
                raise
        return b""

    async def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view and self.fd >= 0:
            try:
                view = view[os.write(self.fd, view) :]
            except BlockingIOError:
                await self._ready(self._loop.add_writer, self._loop.remove_writer)
            except OSError:  # the command closed its end (EPIPE), or the terminal is gone
                return

    async def _ready(self, add: Callable[..., object], remove: Callable[[int], object]) -> None:
        ready: asyncio.Future[None] = self._loop.create_future()
        self._waiting.add(ready)
        add(self.fd, wake, ready)
        try:
            await ready
        finally:
            self._waiting.discard(ready)
            if self.fd >= 0:
                remove(self.fd)

    def close(self) -> None:
        if self.fd < 0:
            return
        self._loop.remove_reader(self.fd)
        self._loop.remove_writer(self.fd)
        os.close(self.fd)
        self.fd = -1
        for ready in self._waiting:
            wake(ready)  # whoever waited finds the descriptor closed
