"""The host-process runtime: a container is a process group on this machine.

Each container runs in its own session (so its process group is signalled as one), with
the pod's environment, in its working directory, its output piped to the kubelet. When the
image was pulled, the entrypoint and its files come from the extracted root filesystem
(``argv[0]`` and ``PATH`` are looked up there first); otherwise the command is looked up on
the host's ``PATH``.

Nothing outlives the kubelet: the main process is started through ``setpriv --pdeathsig
KILL``, so it dies with the kubelet even after ``kill -9``; when the main process exits, the
rest of its process group is killed, as the end of a container's PID namespace would; and a
record of every container (pid, process group, start time) lets the next start kill what a
crash left behind (``cleanup``) — matching start times, so a recycled pid is never hit.

Volumes, as root: the container starts in a private mount namespace (``unshare --mount``)
where each volume is bind-mounted at its mountPath; a mount point that does not exist on
the host is created as an empty directory first (the only trace left on the host). Without
root there is no private mount namespace: mounts are skipped and each volume's host path is
given in ``ATOLL_MOUNT_<n>`` variables ("<target>=<source>") — documented, not hidden.

``kubectl exec`` runs its command as a sibling of the container (``exec_spec``): the same
environment and working directory, the program looked up as the container's was, and,
when the container has a private mount namespace, inside it (``nsenter --mount``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shlex
import shutil
import signal
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from .runtime import Container, ExecSpec, Exit, Launch, Mount, OutputPumps, StartError
from .terminals import DEFAULT_SIZE, NonBlockingFd, set_size

__all__ = ["ProcessContainer", "ProcessRuntime"]

logger = logging.getLogger(__name__)

_RECORD = "process.json"
_SETPRIV = shutil.which("setpriv")
_UNSHARE = shutil.which("unshare")
_NSENTER = shutil.which("nsenter")
_HOSTNAME = shutil.which("hostname")
_SETSID = shutil.which("setsid")  # util-linux; ``-c`` makes stdin the controlling terminal


def _start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (field 22 of /proc/<pid>/stat)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[19])


def _group_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[2])


def _members(pgid: int, not_before: int) -> list[int]:
    """Processes of group ``pgid`` started at or after ``not_before`` (clock ticks)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        started = _start_time(pid)
        if _group_of(pid) == pgid and started is not None and started >= not_before:
            found.append(pid)
    return found


def resolve_argv(argv: Sequence[str], env: Mapping[str, str], rootfs: Path | None) -> list[str]:
    """``argv`` with its program found: in the image's root filesystem first, then the host.

    Raises ``StartError`` (reason ``ContainerCannotRun``, as Docker says) when it is nowhere.
    """
    if not argv:
        raise StartError("CreateContainerError", "no command specified")
    program = argv[0]
    if rootfs is not None:
        if program.startswith("/"):
            inside = rootfs / program.lstrip("/")
            if inside.is_file():
                return [str(inside), *argv[1:]]
        else:
            for directory in env.get("PATH", "").split(":"):
                inside = rootfs / directory.lstrip("/") / program
                if directory and inside.is_file() and os.access(inside, os.X_OK):
                    return [str(inside), *argv[1:]]
    host_path = env.get("PATH") if rootfs is None else None
    found = shutil.which(program, path=host_path or os.defpath + ":/usr/local/bin:/usr/sbin")
    if found is None and "/" in program and Path(program).is_file():
        found = program
    if found is None:
        where = "the image or on this host" if rootfs is not None else "this host's PATH"
        raise StartError(
            "ContainerCannotRun",
            f'exec: "{program}": executable file not found in {where}',
        )
    return [found, *argv[1:]]


def _mount_script(
    mounts: Sequence[Mount], argv: Sequence[str], *, hostname: str | None = None
) -> list[str]:
    """``unshare --mount`` running a shell that bind-mounts each volume, then execs ``argv``
    (with ``hostname``, in a UTS namespace of its own named so)."""
    lines = ["set -e"]
    for mount in mounts:
        source = mount.source / mount.sub_path if mount.sub_path else mount.source
        target = shlex.quote(mount.target)
        kind = "-d" if source.is_dir() else "-e"
        make = (
            f"mkdir -p {target}"
            if source.is_dir()
            else f"mkdir -p $(dirname {target}); touch {target}"
        )
        lines.append(f"[ {kind} {target} ] || {{ {make}; }}")
        lines.append(f"mount --bind {shlex.quote(str(source))} {target}")
        if mount.read_only:
            lines.append(f"mount -o remount,bind,ro {target}")
    if hostname and _HOSTNAME is not None:
        lines.append(f"{_HOSTNAME} {shlex.quote(hostname)}")
    lines.append('exec "$@"')
    assert _UNSHARE is not None
    namespaces = ["--mount", *(["--uts"] if hostname else [])]
    return [
        _UNSHARE,
        *namespaces,
        "--propagation",
        "private",
        "sh",
        "-c",
        "\n".join(lines),
        "sh",
        *argv,
    ]


class ProcessContainer:
    """One running process group; see the module doc."""

    def __init__(
        self,
        process: asyncio.subprocess.Process,
        launch: Launch,
        argv: list[str],
        env: dict[str, str],
        cwd: str,
        *,
        mount_namespace: bool = False,
        terminal: NonBlockingFd | None = None,
    ) -> None:
        self._process = process
        self._launch = launch
        self._argv, self._env, self._cwd = argv, env, cwd
        self._mount_namespace = mount_namespace
        self._uts_namespace = mount_namespace and launch.netns is not None
        self._started_at = datetime.now(UTC)
        self._terminal = terminal
        self._pumps = OutputPumps(process, launch.on_output, terminal=terminal)
        self._exit: Exit | None = None

    @property
    def container_id(self) -> str:
        return f"process://{self._launch.name}"

    @property
    def pid(self) -> int:
        return self._process.pid

    @property
    def started_at(self) -> datetime:
        return self._started_at

    @property
    def stdin(self) -> asyncio.StreamWriter | None:
        return self._process.stdin

    @property
    def terminal(self) -> NonBlockingFd | None:
        return self._terminal

    async def wait(self) -> Exit:
        if self._exit is not None:
            return self._exit
        code = await self._process.wait()
        self.signal(signal.SIGKILL)  # the rest of the group dies with its main process
        await self._pumps.drain()
        if self._terminal is not None:
            self._terminal.close()
        if code < 0:
            self._exit = Exit(128 - code, datetime.now(UTC), signal=-code)
        else:
            self._exit = Exit(code, datetime.now(UTC))
        with contextlib.suppress(OSError):
            (self._launch.state_dir / _RECORD).unlink()
        return self._exit

    def signal(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._process.pid, signum)

    async def exec(self, argv: Sequence[str], *, timeout: float) -> tuple[int, bytes]:
        try:
            resolved = resolve_argv(argv, self._env, self._launch.rootfs)
        except StartError as error:
            return 126, error.message.encode()
        process = await asyncio.create_subprocess_exec(
            *self._entering(),
            *resolved,
            env=self._env,
            cwd=self._cwd,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            output, _ = await asyncio.wait_for(process.communicate(), timeout)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()
            raise
        return process.returncode or 0, output

    def exec_spec(self, argv: Sequence[str], *, tty: bool) -> ExecSpec:
        resolved = resolve_argv(argv, self._env, self._launch.rootfs)
        prefix = [_SETPRIV, "--pdeathsig", "KILL", "--"] if _SETPRIV is not None else []
        return ExecSpec([*prefix, *self._entering(), *resolved], env=self._env, cwd=self._cwd)

    def _entering(self) -> list[str]:
        """``nsenter`` into the container's namespaces (mount, network, UTS), if it has any."""
        if _NSENTER is None:
            return []
        which = [
            *(["--mount"] if self._mount_namespace else []),
            *(["--uts"] if self._uts_namespace else []),
        ]
        if self._launch.netns is not None:
            which.append(f"--net={self._launch.netns}")
        if not which:
            return []
        # Entering a mount namespace moves to its root: --wd takes the directory back.
        wd = [f"--wd={self._cwd}"] if self._mount_namespace else []
        return [_NSENTER, f"--target={self._process.pid}", *which, *wd, "--"]


class ProcessRuntime:
    """Starts containers as host process groups."""

    name = "process"

    def __init__(self) -> None:
        self.mount_namespaces = os.geteuid() == 0 and _UNSHARE is not None

    async def start(self, launch: Launch) -> Container:
        env = dict(launch.env)
        argv = resolve_argv(launch.argv, env, launch.rootfs)
        cwd = self._working_dir(launch)
        mounts = [m for m in launch.mounts if m.source.exists()]
        hostname = launch.labels.get("hostname") if launch.netns is not None else None
        private_mounts = bool(mounts or hostname) and self.mount_namespaces
        if private_mounts:
            argv = _mount_script(mounts, argv, hostname=hostname)
        else:
            for index, mount in enumerate(mounts):
                env[f"ATOLL_MOUNT_{index}"] = f"{mount.target}={mount.source}"
        if launch.netns is not None and _NSENTER is not None:
            argv = [_NSENTER, f"--net={launch.netns}", "--", *argv]
        if _SETPRIV is not None:
            argv = [_SETPRIV, "--pdeathsig", "KILL", "--", *argv]
        launch.state_dir.mkdir(parents=True, exist_ok=True)
        if launch.tty:
            process, terminal = await self._start_on_terminal(argv, env, cwd)
        else:
            process, terminal = await self._start_on_pipes(argv, env, cwd, stdin=launch.stdin), None
        record = {"pid": process.pid, "pgid": process.pid, "start": _start_time(process.pid)}
        (launch.state_dir / _RECORD).write_text(json.dumps(record))
        return ProcessContainer(
            process, launch, argv, env, cwd, mount_namespace=private_mounts, terminal=terminal
        )

    @staticmethod
    async def _start_on_pipes(
        argv: list[str], env: dict[str, str], cwd: str, *, stdin: bool
    ) -> asyncio.subprocess.Process:
        try:
            return await asyncio.create_subprocess_exec(
                *argv,
                env=env,
                cwd=cwd,
                stdin=asyncio.subprocess.PIPE if stdin else asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as error:
            raise StartError("ContainerCannotRun", f"{argv[0]}: {error.strerror}") from error

    @staticmethod
    async def _start_on_terminal(
        argv: list[str], env: dict[str, str], cwd: str
    ) -> tuple[asyncio.subprocess.Process, NonBlockingFd]:
        """On a new pseudo-terminal that is the container's controlling terminal (``setsid
        -c``: a new session, so job control and SIGWINCH work), the kubelet on its master."""
        master, slave = os.openpty()
        set_size(slave, DEFAULT_SIZE)
        if _SETSID is not None:
            argv = [_SETSID, "-c", *argv]
        try:
            process = await asyncio.create_subprocess_exec(
                *argv,
                env=env,
                cwd=cwd,
                stdin=slave,
                stdout=slave,
                stderr=slave,
                start_new_session=_SETSID is None,
            )
        except OSError as error:
            os.close(master)
            raise StartError("ContainerCannotRun", f"{argv[0]}: {error.strerror}") from error
        finally:
            os.close(slave)  # else the master never reads its end
        return process, NonBlockingFd(master)

    def _working_dir(self, launch: Launch) -> str:
        if launch.rootfs is not None:
            inside = launch.rootfs / launch.working_dir.lstrip("/")
            if inside.is_dir():
                return str(inside)
        if launch.working_dir and Path(launch.working_dir).is_dir():
            return launch.working_dir
        scratch = launch.state_dir / "work"
        scratch.mkdir(parents=True, exist_ok=True)
        return str(scratch)

    def cleanup(self, state_root: Path) -> int:
        """Kill process groups an earlier kubelet started and did not stop; see the module doc."""
        killed = 0
        for record_path in state_root.glob(f"**/{_RECORD}"):
            try:
                record = json.loads(record_path.read_text())
                pgid, start = int(record["pgid"]), int(record["start"] or 0)
            except (OSError, ValueError, KeyError, TypeError):
                continue
            for pid in _members(pgid, start):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
                    killed += 1
            record_path.unlink(missing_ok=True)
        if killed:
            logger.warning("killed %d processes left by an earlier run of the kubelet", killed)
        return killed
