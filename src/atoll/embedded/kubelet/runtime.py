"""What the kubelet asks of a container runtime, whichever it is.

A runtime turns a ``Launch`` (what to run, with what environment, mounts and limits) into a
``Container`` handle: something that can be signalled, waited for and measured. The pod
worker owns the lifecycle (order, restarts, probes, termination); a runtime only starts and
stops one process tree. ``process`` runs it on the host, ``runc`` in an OCI container.

Output: a runtime hands the container's stdout and stderr to the launch's ``on_output``
callback, chunk by chunk, until both streams end; the kubelet writes them to the log and
to whoever is attached (``OutputFanout``). A container started with ``stdin: true`` keeps
a stdin pipe open (``Container.stdin``) for ``kubectl attach``; ``exec_spec`` says how to
run another command in the container's context (``kubectl exec``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal, Protocol

from .terminals import NonBlockingFd

__all__ = [
    "DRAIN_SECONDS",
    "Container",
    "ExecSpec",
    "Exit",
    "Launch",
    "Mount",
    "OnOutput",
    "OutputFanout",
    "OutputPumps",
    "Runtime",
    "StartError",
    "Stream",
]

Stream = Literal["stdout", "stderr"]
OnOutput = Callable[[Stream, bytes], None]
DRAIN_SECONDS = 2.0  # output still arriving after a container's main process exited


class OutputPumps:
    """A process's stdout and stderr (or its terminal, which is its stdout) handed to
    ``on_output`` chunk by chunk until both end.

    ``drain`` waits (bounded: a daemonized grandchild may hold a pipe open) for the rest
    of the output once the process has exited, then stops pumping."""

    def __init__(
        self,
        process: asyncio.subprocess.Process,
        on_output: OnOutput,
        *,
        terminal: NonBlockingFd | None = None,
    ) -> None:
        self._on_output = on_output
        if terminal is not None:
            self._tasks = [asyncio.create_task(self._pump_terminal(terminal))]
            return
        self._tasks = [
            asyncio.create_task(self._pump(process.stdout, "stdout")),
            asyncio.create_task(self._pump(process.stderr, "stderr")),
        ]

    async def _pump(self, reader: asyncio.StreamReader | None, stream: Stream) -> None:
        if reader is None:
            return
        while chunk := await reader.read(65536):
            self._on_output(stream, chunk)

    async def _pump_terminal(self, terminal: NonBlockingFd) -> None:
        while chunk := await terminal.read():
            self._on_output("stdout", chunk)

    async def drain(self, timeout: float = DRAIN_SECONDS) -> None:
        _, pending = await asyncio.wait(self._tasks, timeout=timeout)
        for task in pending:
            task.cancel()


Listener = Callable[[Stream | None, bytes], None]  # None: the output has ended


class StartError(Exception):
    """A container could not be started; ``reason`` is what containerStatuses say."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True, slots=True)
class Mount:
    """A volume as the container sees it: ``source`` (a host path) at ``target``."""

    source: Path
    target: str
    read_only: bool = False
    sub_path: str = ""


@dataclass(frozen=True, slots=True)
class Launch:
    """One container instance to start."""

    name: str  # unique on this node: <pod uid>-<container>-<restart count>
    argv: Sequence[str]
    env: Mapping[str, str]
    working_dir: str  # inside the container ("" : the image's, or the rootfs/state dir)
    state_dir: Path  # private to this instance: pid file, bundle, scratch
    on_output: OnOutput
    rootfs: Path | None = None  # the image's extracted root filesystem, if it was pulled
    mounts: Sequence[Mount] = ()
    memory_limit: int | None = None  # bytes
    cpu_limit_millis: int | None = None
    user: str = ""  # the image's USER, or runAsUser
    termination_log: tuple[Path, str] | None = None  # (host file, terminationMessagePath)
    labels: Mapping[str, str] = field(default_factory=dict)
    stdin: bool = False  # keep a stdin pipe open (the container's ``stdin: true``)
    netns: Path | None = None  # the pod's network namespace; None: this machine's network
    tty: bool = False  # run on a pseudo-terminal (the container's ``tty: true``)


@dataclass(frozen=True, slots=True)
class ExecSpec:
    """How to run a command in a started container's context (``kubectl exec``)."""

    argv: Sequence[str]
    env: Mapping[str, str] | None = None  # None: the runtime gives the container's itself
    cwd: str | None = None


class OutputFanout:
    """A container's output, to its log and to every attached listener (``kubectl attach``).

    Listeners are called in the event loop, chunk by chunk, and once with ``None`` when the
    container's output has ended (``close``).
    """

    def __init__(self, sink: OnOutput) -> None:
        self._sink = sink
        self._listeners: list[Listener] = []
        self.closed = False

    def __call__(self, stream: Stream, data: bytes) -> None:
        self._sink(stream, data)
        for listener in self._listeners:
            listener(stream, data)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Follow the output from now on; returns the unsubscribing function."""
        if self.closed:
            listener(None, b"")
            return lambda: None
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def close(self) -> None:
        self.closed = True
        listeners, self._listeners = self._listeners, []
        for listener in listeners:
            listener(None, b"")


@dataclass(frozen=True, slots=True)
class Exit:
    """How a container ended, as ``state.terminated`` reports it."""

    exit_code: int
    finished_at: datetime
    signal: int | None = None
    oom_killed: bool = False
    message: str = ""  # the termination message (terminationMessagePath, or the log's tail)

    @property
    def reason(self) -> str:
        if self.oom_killed:
            return "OOMKilled"
        return "Completed" if self.exit_code == 0 else "Error"


class Container(Protocol):
    """A started container. ``wait`` returns once its process tree is gone."""

    @property
    def container_id(self) -> str:
        """``<runtime>://<id>``, as containerStatuses show it."""

    @property
    def pid(self) -> int: ...

    @property
    def started_at(self) -> datetime: ...

    async def wait(self) -> Exit: ...

    def signal(self, signum: int) -> None:
        """Signal every process of the container; nothing if it is gone."""

    @property
    def stdin(self) -> asyncio.StreamWriter | None:
        """The container's stdin, kept open when its launch asked for it (for attach)."""

    @property
    def terminal(self) -> NonBlockingFd | None:
        """The master side of the container's terminal, when it runs on one (``tty``):
        its input and output, and where its size is set."""

    async def exec(self, argv: Sequence[str], *, timeout: float) -> tuple[int, bytes]:
        """Run ``argv`` beside the container (probes, hooks); exit code and output."""

    def exec_spec(self, argv: Sequence[str], *, tty: bool) -> ExecSpec:
        """How to run ``argv`` in the container; ``StartError`` when it cannot be run."""


class Runtime(Protocol):
    name: str  # "process" or "runc"

    async def start(self, launch: Launch) -> Container: ...

    def cleanup(self, state_root: Path) -> int:
        """Kill what an earlier run of the kubelet left behind; return how many."""
