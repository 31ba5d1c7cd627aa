"""The runc runtime: a container is an OCI container run by ``runc``, from a pulled image.

Each container gets a bundle in its state directory: ``config.json`` (written here: the
image's and the pod's process, containerd's default capabilities, masked and read-only
paths, the volume bind mounts, and ``resources.limits`` as cgroup limits) and a writable
root filesystem — an overlay on the image's extracted layers (the image stays shared and
untouched), or a copy where overlay mounts fail.

``runc run --keep`` stays in the foreground as the kubelet's child: its exit status is the
container's, its stdout and stderr are the container's (pipes, no terminal), and signals
sent to it are forwarded to the container. ``--keep`` leaves the stopped container's
cgroup in place until the kubelet has read whether the kernel OOM-killed it; ``runc
delete`` then removes it. Containers join their pod's network namespace (``Launch.netns``;
the host's network without one) and get their own PID, IPC, UTS and mount namespaces; the
pod's /etc/hosts and /etc/resolv.conf come as mounts, else this machine's are bound.

``kubectl exec`` is ``runc exec`` (``exec_spec``): the container's environment, working
directory and user, its filesystem; with a terminal, ``runc exec --tty`` relays between
the terminal it is given and one it makes inside the container, and forwards resizes.

After ``kill -9`` of the kubelet, ``cleanup`` kills and deletes every container its state
root still lists: none outlives the kubelet that started it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
import signal
import subprocess
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .cadvisor import runc_cgroup_paths
from .runtime import Container, ExecSpec, Exit, Launch, OutputPumps, StartError
from .terminals import NonBlockingFd

__all__ = ["RuncContainer", "RuncRuntime", "runc_available"]

logger = logging.getLogger(__name__)

RUNC = shutil.which("runc") or ("/usr/sbin/runc" if Path("/usr/sbin/runc").exists() else None)
_SETPRIV = shutil.which("setpriv")
_CGROUP_PARENT = "/atoll"
_CAPABILITIES = [  # containerd's and Docker's default set
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
]
_MASKED = [
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
]
_READ_ONLY = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
_BASE_MOUNTS: list[dict[str, Any]] = [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {
        "destination": "/dev",
        "type": "tmpfs",
        "source": "tmpfs",
        "options": ["nosuid", "strictatime", "mode=755", "size=65536k"],
    },
    {
        "destination": "/dev/pts",
        "type": "devpts",
        "source": "devpts",
        "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
    },
    {
        "destination": "/dev/shm",
        "type": "tmpfs",
        "source": "shm",
        "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
    },
    {
        "destination": "/dev/mqueue",
        "type": "mqueue",
        "source": "mqueue",
        "options": ["nosuid", "noexec", "nodev"],
    },
    {
        "destination": "/sys",
        "type": "sysfs",
        "source": "sysfs",
        "options": ["nosuid", "noexec", "nodev", "ro"],
    },
    {
        "destination": "/sys/fs/cgroup",
        "type": "cgroup",
        "source": "cgroup",
        "options": ["nosuid", "noexec", "nodev", "relatime", "ro"],
    },
]
_HOST_FILES = ("/etc/resolv.conf", "/etc/hosts")
# runc's own default. Raising (or even restating) the limit needs CAP_SYS_RESOURCE, which
# sandboxed hosts like this project's build machines do not grant (research/devops-chain §5).
_NOFILE = {"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}


def runc_available() -> bool:
    """Whether this kubelet can run OCI containers: root, and a runc binary."""
    return RUNC is not None and os.geteuid() == 0


def _user(rootfs: Path, user: str) -> dict[str, int]:
    """The image's ``USER`` (``name``, ``uid``, ``uid:gid``, ``name:group``) as ids."""
    if not user:
        return {"uid": 0, "gid": 0}
    name, _, group = user.partition(":")

    def lookup(file: str, key: str) -> int | None:
        if key.isdigit():
            return int(key)
        with contextlib.suppress(OSError):
            for line in (rootfs / "etc" / file).read_text().splitlines():
                fields = line.split(":")
                if fields and fields[0] == key and len(fields) > 2:
                    return int(fields[2])
        return None

    uid = lookup("passwd", name)
    if uid is None:
        raise StartError("CreateContainerConfigError", f"unable to find user {name}")
    gid: int | None = lookup("group", group) if group else None
    if gid is None:
        gid = uid
        with contextlib.suppress(OSError, ValueError):
            for line in (rootfs / "etc/passwd").read_text().splitlines():
                fields = line.split(":")
                if len(fields) > 3 and fields[2] == str(uid):
                    gid = int(fields[3])
                    break
    return {"uid": uid, "gid": gid}


def _config(launch: Launch, rootfs: Path) -> dict[str, Any]:
    mounts = [dict(m) for m in _BASE_MOUNTS]
    given = {mount.target for mount in launch.mounts}
    for host_file in _HOST_FILES:
        if Path(host_file).exists() and host_file not in given:
            mounts.append(
                {
                    "destination": host_file,
                    "type": "bind",
                    "source": host_file,
                    "options": ["rbind", "ro"],
                }
            )
    if launch.termination_log is not None:
        message_file, target = launch.termination_log
        message_file.parent.mkdir(parents=True, exist_ok=True)
        message_file.touch()
        mounts.append(
            {
                "destination": target,
                "type": "bind",
                "source": str(message_file),
                "options": ["rbind", "rw"],
            }
        )
    for mount in launch.mounts:
        source = mount.source / mount.sub_path if mount.sub_path else mount.source
        options = ["rbind", "rprivate", "ro" if mount.read_only else "rw"]
        mounts.append(
            {"destination": mount.target, "type": "bind", "source": str(source), "options": options}
        )
    resources: dict[str, Any] = {"pids": {"limit": 4096}}
    if launch.memory_limit:
        resources["memory"] = {"limit": launch.memory_limit}
    if launch.cpu_limit_millis:
        resources["cpu"] = {"quota": launch.cpu_limit_millis * 100, "period": 100_000}
    env = [f"{k}={v}" for k, v in launch.env.items()]
    if not any(item.startswith("PATH=") for item in env):
        env.append("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
    return {
        "ociVersion": "1.0.2",
        "process": {
            "terminal": False,
            "user": _user(rootfs, launch.user),
            "args": list(launch.argv),
            "env": env,
            "cwd": launch.working_dir or "/",
            "capabilities": {k: _CAPABILITIES for k in ("bounding", "effective", "permitted")},
            "rlimits": [_NOFILE],
            "noNewPrivileges": False,
        },
        "root": {"path": str(rootfs), "readonly": False},
        "hostname": launch.labels.get("hostname", "pod"),
        "mounts": mounts,
        "linux": {
            "resources": resources,
            "cgroupsPath": f"{_CGROUP_PARENT}/{launch.name}",
            "namespaces": [
                *({"type": t} for t in ("pid", "ipc", "uts", "mount")),
                *([{"type": "network", "path": str(launch.netns)}] if launch.netns else []),
            ],
            "maskedPaths": _MASKED,
            "readonlyPaths": _READ_ONLY,
        },
    }


def _writable_root(image_root: Path, bundle: Path) -> Path:
    """An overlay of ``image_root`` (read-only, shared) with a private upper layer."""
    merged, upper, work = bundle / "rootfs", bundle / "upper", bundle / "work"
    for directory in (merged, upper, work):
        directory.mkdir(parents=True, exist_ok=True)
    options = f"lowerdir={image_root},upperdir={upper},workdir={work}"
    done = subprocess.run(
        ["mount", "-t", "overlay", "overlay", "-o", options, str(merged)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        logger.info("overlay mount failed (%s); copying the image", done.stderr.decode().strip())
        shutil.rmtree(merged)
        shutil.copytree(image_root, merged, symlinks=True)
    return merged


def _release_root(bundle: Path) -> None:
    subprocess.run(["umount", "-l", str(bundle / "rootfs")], capture_output=True, check=False)


def _oom_killed(name: str) -> bool:
    """Whether the kernel OOM-killed something in the container's (kept) memory cgroup."""
    paths = runc_cgroup_paths(f"{_CGROUP_PARENT}/{name}")
    for directory, file, key in (
        (paths.memory, "memory.oom_control", "oom_kill"),
        (paths.unified, "memory.events", "oom_kill"),
    ):
        if directory is None:
            continue
        with contextlib.suppress(OSError, ValueError):
            for line in (directory / file).read_text().splitlines():
                field, _, value = line.partition(" ")
                if field == key and int(value) > 0:
                    return True
    return False


class RuncContainer:
    def __init__(self, process: asyncio.subprocess.Process, launch: Launch, root: Path) -> None:
        self._process = process
        self._launch = launch
        self._root = root  # runc's state root
        self._started_at = datetime.now(UTC)
        self._exit: Exit | None = None
        self._pumps = OutputPumps(process, launch.on_output)

    @property
    def container_id(self) -> str:
        return f"runc://{self._launch.name}"

    @property
    def pid(self) -> int:
        """The container's init process as the host sees it (runc's own pid until known)."""
        with contextlib.suppress(OSError, ValueError):
            return int((self._launch.state_dir / "bundle" / "pid").read_text())
        return self._process.pid

    @property
    def started_at(self) -> datetime:
        return self._started_at

    @property
    def stdin(self) -> asyncio.StreamWriter | None:
        return self._process.stdin

    @property
    def terminal(self) -> NonBlockingFd | None:
        return None  # ``tty: true`` runs on pipes under runc (a console socket is not made)

    async def wait(self) -> Exit:
        if self._exit is not None:
            return self._exit
        code = await self._process.wait()
        await self._pumps.drain()
        oom = await asyncio.to_thread(_oom_killed, self._launch.name)
        await _runc(self._root, "delete", "--force", self._launch.name)
        await asyncio.to_thread(_release_root, self._launch.state_dir / "bundle")
        if code < 0:
            code = 128 - code
        self._exit = Exit(
            code, datetime.now(UTC), signal=code - 128 if code > 128 else None, oom_killed=oom
        )
        return self._exit

    def signal(self, signum: int) -> None:
        # runc forwards signals it gets to the container's init; KILL cannot be forwarded.
        if signum == signal.SIGKILL:
            asyncio.get_running_loop().create_task(
                _runc(self._root, "kill", "--all", self._launch.name, "KILL")
            )
            return
        with contextlib.suppress(ProcessLookupError):
            self._process.send_signal(signum)

    async def exec(self, argv: Sequence[str], *, timeout: float) -> tuple[int, bytes]:
        assert RUNC is not None
        process = await asyncio.create_subprocess_exec(
            RUNC,
            "--root",
            str(self._root),
            "exec",
            self._launch.name,
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            output, _ = await asyncio.wait_for(process.communicate(), timeout)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise
        return process.returncode or 0, output

    def exec_spec(self, argv: Sequence[str], *, tty: bool) -> ExecSpec:
        assert RUNC is not None
        if not argv:
            raise StartError("ContainerCannotRun", "no command specified")
        prefix = [_SETPRIV, "--pdeathsig", "KILL", "--"] if _SETPRIV is not None else []
        runc = [RUNC, "--root", str(self._root), "exec", *(["--tty"] if tty else [])]
        return ExecSpec([*prefix, *runc, self._launch.name, *argv])


async def _runc(root: Path, *args: str) -> tuple[int, bytes]:
    assert RUNC is not None
    process = await asyncio.create_subprocess_exec(
        RUNC,
        "--root",
        str(root),
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    return process.returncode or 0, output


class RuncRuntime:
    """Starts containers with ``runc run --keep``; see the module doc."""

    name = "runc"

    def __init__(self, state_root: Path) -> None:
        self.root = state_root  # runc's --root: one per kubelet
        self.root.mkdir(parents=True, exist_ok=True)

    async def start(self, launch: Launch) -> Container:
        if RUNC is None:
            raise StartError("RunContainerError", "runc is not installed")
        if launch.rootfs is None:
            raise StartError("RunContainerError", "the runc runtime needs a pulled image")
        bundle = launch.state_dir / "bundle"
        bundle.mkdir(parents=True, exist_ok=True)
        rootfs = await asyncio.to_thread(_writable_root, launch.rootfs, bundle)
        config = _config(launch, rootfs)
        (bundle / "config.json").write_text(json.dumps(config))
        await _runc(self.root, "delete", "--force", launch.name)  # a leftover of the same name
        argv = [RUNC, "--root", str(self.root), "run", "--keep", "--bundle", str(bundle)]
        argv += ["--pid-file", str(bundle / "pid"), launch.name]
        if _SETPRIV is not None:
            argv = [_SETPRIV, "--pdeathsig", "KILL", "--", *argv]
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE if launch.stdin else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        return RuncContainer(process, launch, self.root)

    def cleanup(self, state_root: Path) -> int:
        """Kill and delete every container an earlier kubelet left in our runc root."""
        if RUNC is None:
            return 0
        listed = subprocess.run(
            [RUNC, "--root", str(self.root), "list", "--format", "json"],
            capture_output=True,
            check=False,
        )
        try:
            containers = json.loads(listed.stdout or b"null") or []
        except ValueError:
            containers = []
        for container in containers:
            name = container.get("id", "")
            subprocess.run(
                [RUNC, "--root", str(self.root), "kill", "--all", name, "KILL"],
                capture_output=True,
                check=False,
            )
            subprocess.run(
                [RUNC, "--root", str(self.root), "delete", "--force", name],
                capture_output=True,
                check=False,
            )
            bundle = Path(container.get("bundle", ""))
            if bundle.name == "bundle":
                _release_root(bundle)
        return len(containers)
