"""What an ``exec`` or ``attach`` session drives on the kubelet: a command, or a container.

A streaming transport (SPDY or WebSocket, ``streaming``) talks to a ``Session``: it passes
stdin, resizes and the client's departure in, and ``run`` copies the output out until the
end, returning the ``Status`` for the error stream (the exit code, as the kubelet's
remote-command server writes it).

- ``start_command``: ``kubectl exec``. The command starts as the container's runtime says
  (``Container.exec_spec``: the environment, working directory and namespaces of the
  container; ``runc exec`` for OCI containers), in its own session and process group. With
  a TTY it runs on a new pseudo-terminal, its controlling terminal, whose size follows the
  client's resizes (``TIOCSWINSZ``; the kernel signals SIGWINCH); else on pipes. When the
  command exits, output still buffered is sent (a background child holding the pipes open
  gets ``DRAIN_SECONDS``); when the client goes away first, or the container ends (as the
  end of its PID namespace would end it), its process group is killed. Commands start
  through ``subprocess.Popen`` (vfork: under a millisecond) rather than the loop's
  ``subprocess_exec`` (uvloop forks the whole kubelet: several milliseconds with the event
  loop stopped); their pipes and terminal are read without blocking, and their exit is
  awaited on a pidfd, so no thread waits for them.
- ``AttachSession``: ``kubectl attach``. The running container's output from now on (its
  log keeps everything), and its stdin when the container was started with ``stdin: true``.
  A host-process container with ``tty: true`` runs on a pseudo-terminal: attach writes
  to it and resizes it (under runc it runs on pipes). The session ends with the
  container, or with the client; the container runs on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import subprocess
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

from atoll.kube.streaming import (
    Channel,
    TerminalSize,
    exit_status,
    internal_error_status,
    success_status,
)

from .runtime import Container, ExecSpec, OutputFanout, StartError, Stream
from .terminals import DEFAULT_SIZE, NonBlockingFd, set_size, wake

__all__ = ["AttachSession", "Output", "Session", "start_command"]

logger = logging.getLogger(__name__)

Output = Callable[[Channel, bytes], Awaitable[None]]
DRAIN_SECONDS = 1.0  # output still arriving after the command exited
_SETSID = shutil.which("setsid")  # util-linux; ``-c`` makes stdin the controlling terminal


class Session(Protocol):
    async def write_stdin(self, data: bytes) -> None: ...

    def close_stdin(self) -> None: ...

    def resize(self, size: TerminalSize) -> None: ...

    async def run(self, out: Output) -> dict[str, Any]:
        """Copy the output to ``out`` until the end; the Status for the error stream."""

    def stop(self) -> None:
        """End early: the client went away, or (exec) the container ended."""


async def start_command(
    container: Container,
    output: OutputFanout,
    command: Sequence[str],
    *,
    stdin: bool,
    tty: bool,
    stdout: bool,
) -> Session:
    """Start ``command`` in ``container`` (whose output is ``output``, to know when it
    ends); a session that only reports why, if it cannot start."""
    try:
        spec = container.exec_spec(command, tty=tty)
        session: Session
        if tty:
            session = _PtyCommand.start(spec, command)
        else:
            session = _PipeCommand.start(spec, command, stdin=stdin, stdout=stdout)
        return _EndingWith(session, output)
    except StartError as error:
        return _Failed(f"error executing command in container: {error.message}")
    except (OSError, subprocess.SubprocessError) as error:
        logger.warning("exec %s failed to start: %s", list(command), error)
        return _Failed(f"error executing command in container: {error}")


class _Failed:
    """A command that could not start: the error stream says why (an InternalError)."""

    def __init__(self, message: str) -> None:
        self._message = message

    async def write_stdin(self, data: bytes) -> None:
        return None

    def close_stdin(self) -> None:
        return None

    def resize(self, size: TerminalSize) -> None:
        return None

    async def run(self, out: Output) -> dict[str, Any]:
        return internal_error_status(self._message)

    def stop(self) -> None:
        return None


class _EndingWith:
    """A command session that is stopped when its container's output ends."""

    def __init__(self, session: Session, output: OutputFanout) -> None:
        self._session = session
        self._output = output

    async def write_stdin(self, data: bytes) -> None:
        await self._session.write_stdin(data)

    def close_stdin(self) -> None:
        self._session.close_stdin()

    def resize(self, size: TerminalSize) -> None:
        self._session.resize(size)

    async def run(self, out: Output) -> dict[str, Any]:
        unsubscribe = self._output.subscribe(self._container_output)
        try:
            return await self._session.run(out)
        finally:
            unsubscribe()

    def _container_output(self, stream: Stream | None, data: bytes) -> None:
        if stream is None:
            self._session.stop()

    def stop(self) -> None:
        self._session.stop()


def _exit_code(returncode: int) -> int:
    return 128 - returncode if returncode < 0 else min(returncode, 255)


def _spawn(argv: Sequence[str], spec: ExecSpec, **stdio: Any) -> subprocess.Popen[bytes]:
    # subprocess.Popen rather than the loop's subprocess_exec: Popen uses vfork, while
    # uvloop forks the whole kubelet (its page tables: milliseconds on the event loop).
    return subprocess.Popen(list(argv), env=spec.env, cwd=spec.cwd, **stdio)


async def _exited(process: subprocess.Popen[bytes]) -> int:
    """Wait for the exit without a thread: the process's pidfd turns readable then."""
    try:
        pidfd = os.pidfd_open(process.pid)
    except OSError:  # a kernel before 5.3
        return await asyncio.to_thread(process.wait)
    loop = asyncio.get_running_loop()
    try:
        while (code := process.poll()) is None:
            ready: asyncio.Future[None] = loop.create_future()
            loop.add_reader(pidfd, wake, ready)
            try:
                await ready
            finally:
                loop.remove_reader(pidfd)
        return code
    finally:
        os.close(pidfd)


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


class _PipeCommand:
    """A command on pipes (no TTY), in its own session and process group."""

    def __init__(
        self,
        process: subprocess.Popen[bytes],
        command: Sequence[str],
        *,
        stdin: NonBlockingFd | None,
        outputs: dict[Channel, NonBlockingFd],
    ) -> None:
        self._process = process
        self._command = command
        self._stdin = stdin
        self._outputs = outputs

    @classmethod
    def start(
        cls, spec: ExecSpec, command: Sequence[str], *, stdin: bool, stdout: bool
    ) -> _PipeCommand:
        ours: dict[str, int] = {}  # the parent's ends, by the child's stream
        theirs: dict[str, int] = {}
        for name, wanted in (("stdin", stdin), ("stdout", stdout), ("stderr", True)):
            if wanted:
                read, write = os.pipe()
                ours[name], theirs[name] = (write, read) if name == "stdin" else (read, write)
        try:
            stdio = {n: theirs.get(n, subprocess.DEVNULL) for n in ("stdin", "stdout", "stderr")}
            process = _spawn(spec.argv, spec, start_new_session=True, **stdio)
        except BaseException:
            for fd in ours.values():
                os.close(fd)
            raise
        finally:
            for fd in theirs.values():
                os.close(fd)
        channels = {"stdout": Channel.STDOUT, "stderr": Channel.STDERR}
        outputs = {channels[n]: NonBlockingFd(fd) for n, fd in ours.items() if n in channels}
        stdin_end = NonBlockingFd(ours["stdin"]) if "stdin" in ours else None
        return cls(process, command, stdin=stdin_end, outputs=outputs)

    async def write_stdin(self, data: bytes) -> None:
        if self._stdin is not None:
            await self._stdin.write(data)

    def close_stdin(self) -> None:
        if self._stdin is not None:
            self._stdin.close()

    def resize(self, size: TerminalSize) -> None:
        return None  # no terminal

    async def run(self, out: Output) -> dict[str, Any]:
        pumps = [asyncio.create_task(_pump(fd, ch, out)) for ch, fd in self._outputs.items()]
        try:
            code = _exit_code(await _exited(self._process))
            _, pending = await asyncio.wait(pumps, timeout=DRAIN_SECONDS) if pumps else ((), ())
        finally:
            for pump in pumps:
                pump.cancel()
            await asyncio.gather(*pumps, return_exceptions=True)
            for fd in [*self._outputs.values(), *([self._stdin] if self._stdin else [])]:
                fd.close()
        if pending:  # a background child still holds the output open
            _kill_group(self._process.pid)
        return exit_status(code, command=self._command)

    def stop(self) -> None:
        _kill_group(self._process.pid)


async def _pump(fd: NonBlockingFd, channel: Channel, out: Output) -> None:
    while chunk := await fd.read():
        await out(channel, chunk)


class _PtyCommand:
    """A command on a new pseudo-terminal; the kubelet holds its master side."""

    def __init__(
        self, process: subprocess.Popen[bytes], master: NonBlockingFd, command: Sequence[str]
    ):
        self._process = process
        self._master = master
        self._command = command
        self._running = False

    @classmethod
    def start(cls, spec: ExecSpec, command: Sequence[str]) -> _PtyCommand:
        master, slave = os.openpty()
        # A new session whose controlling terminal is the new one (so a shell has job
        # control and resizes deliver SIGWINCH): ``setsid -c``, as a preexec_fn would
        # cost vfork.
        argv = [_SETSID, "-c", *spec.argv] if _SETSID is not None else list(spec.argv)
        try:
            set_size(slave, DEFAULT_SIZE)
            process = _spawn(
                argv,
                spec,
                stdin=slave,
                stdout=slave,
                stderr=slave,
                start_new_session=_SETSID is None,
            )
        except BaseException:
            os.close(master)
            raise
        finally:
            os.close(slave)  # else the master never reads its end
        return cls(process, NonBlockingFd(master), command)

    async def write_stdin(self, data: bytes) -> None:
        await self._master.write(data)

    def close_stdin(self) -> None:
        return None  # a terminal has no end of input but the user's ^D

    def resize(self, size: TerminalSize) -> None:
        if self._master.fd >= 0 and size.width and size.height:
            with contextlib.suppress(OSError):
                set_size(self._master.fd, size)

    async def run(self, out: Output) -> dict[str, Any]:
        self._running = True
        reading = asyncio.create_task(_pump(self._master, Channel.STDOUT, out))
        try:
            code = _exit_code(await _exited(self._process))
            await asyncio.wait([reading], timeout=DRAIN_SECONDS)
        finally:
            reading.cancel()
            await asyncio.gather(reading, return_exceptions=True)
            self._master.close()
        return exit_status(code, command=self._command)

    def stop(self) -> None:
        _kill_group(self._process.pid)
        if not self._running:  # else ``run`` reads what is left, then closes the terminal
            self._master.close()


class AttachSession:
    """``kubectl attach`` to a running container; see the module doc."""

    def __init__(self, container: Container, output: OutputFanout, *, stdin_once: bool) -> None:
        self._stdin = container.stdin
        self._terminal = container.terminal
        self._stdin_once = stdin_once
        self._queue: asyncio.Queue[tuple[Stream | None, bytes]] = asyncio.Queue()
        self._unsubscribe = output.subscribe(lambda s, d: self._queue.put_nowait((s, d)))

    async def write_stdin(self, data: bytes) -> None:
        if self._terminal is not None:
            await self._terminal.write(data)
            return
        if self._stdin is None or self._stdin.is_closing():
            return
        self._stdin.write(data)
        with contextlib.suppress(ConnectionError):
            await self._stdin.drain()

    def close_stdin(self) -> None:
        if self._stdin is not None and self._stdin_once:
            self._stdin.close()

    def resize(self, size: TerminalSize) -> None:
        if self._terminal is not None and self._terminal.fd >= 0 and size.width and size.height:
            with contextlib.suppress(OSError):
                set_size(self._terminal.fd, size)

    async def run(self, out: Output) -> dict[str, Any]:
        try:
            while True:
                stream, data = await self._queue.get()
                if stream is None:
                    return success_status()
                await out(Channel.STDOUT if stream == "stdout" else Channel.STDERR, data)
        finally:
            self._unsubscribe()

    def stop(self) -> None:
        self._unsubscribe()
        self.close_stdin()
