"""What the kubelet asks of a container runtime, whichever it is.

A runtime turns a ``Launch`` (what to run, with what environment, mounts and limits) into a
``Container`` handle: something that can be signalled, waited for and measured. The pod
worker owns the lifecycle (order, restarts, probes, termination); a runtime only starts and
stops one process tree. ``process`` runs it on the host, ``runc`` in an OCI container.

Output: a runtime hands the container's stdout and stderr to the launch's ``on_output``
callback, chunk by chunk, until both streams end; the kubelet writes them to the log.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal, Protocol

__all__ = ["Container", "Exit", "Launch", "Mount", "OnOutput", "Runtime", "StartError", "Stream"]

Stream = Literal["stdout", "stderr"]
OnOutput = Callable[[Stream, bytes], None]


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

    async def exec(self, argv: Sequence[str], *, timeout: float) -> tuple[int, bytes]:
        """Run ``argv`` beside the container (probes, hooks); exit code and output."""


class Runtime(Protocol):
    name: str  # "process" or "runc"

    async def start(self, launch: Launch) -> Container: ...

    def cleanup(self, state_root: Path) -> int:
        """Kill what an earlier run of the kubelet left behind; return how many."""
