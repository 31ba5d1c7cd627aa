"""Resource usage readings: what cAdvisor measures for a real kubelet, read directly.

A container's usage comes from its cgroup when it has one (runc containers), else from
``/proc`` (host-process containers: a process group in its own session). The machine's comes
from ``/proc/stat`` and ``/proc/meminfo``. Every reading is one :class:`Usage`, cumulative
where Kubernetes is cumulative (CPU seconds), instantaneous otherwise (memory, processes).
:class:`RateTracker` turns successive CPU readings into ``usageNanoCores``.

Definitions, and why:

- **cgroup working set** = usage − inactive file cache (``total_inactive_file`` on v1,
  ``inactive_file`` on v2): cAdvisor's definition, the number ``kubectl top``, the HPA and the
  eviction manager use. RSS is ``total_rss`` (v1) or ``anon`` (v2), as cAdvisor reports it.
- **/proc working set** = the sum of the processes' PSS (``smaps_rollup``). PSS charges each
  resident page once across the machine (a page mapped by n processes counts 1/n for each),
  which is what a cgroup does: private memory counts fully, memory shared by the container's
  own processes (a pre-forked server's heap) counts once instead of once per worker, shared
  libraries count their share. Summing RSS would count shared pages once per process and
  overstate a forking server several times over. Page cache the processes read but do not
  map is invisible in ``/proc``, so this is lower than a cgroup would report by the active
  file cache. ``memory_usage`` is the sum of RSS (an upper bound, like the cgroup's usage ≥
  working set); ``memory_rss`` the sum of anonymous PSS. Without ``smaps_rollup`` (older
  kernels, no permission) ``statm`` stands in: working set and usage = resident, RSS =
  resident − shared.
- **/proc CPU** = utime + stime + cutime + cstime of every member: the time of children that
  exited and were reaped inside the container stays counted, so a shell that runs short
  jobs in a loop keeps a rising counter. Processes reaped outside it take their time along;
  :class:`RateTracker` treats a falling counter as a restart.
- **node** (what the kubelet reports for the root cgroup): CPU is user + nice + system +
  irq + softirq + steal from ``/proc/stat`` — what the kernel reports as the root cgroup's
  ``usage_usec`` on cgroup v2. Memory usage is MemTotal − MemFree and the working set is that
  less ``Inactive(file)``, exactly how runc/cAdvisor compute the v2 root cgroup from
  ``/proc/meminfo``. (Not MemTotal − MemAvailable: MemAvailable also counts reclaimable slab
  and subtracts watermarks; the kubelet's ``memory.available`` is capacity − working set.)

Every function here does blocking file I/O: call it through ``asyncio.to_thread``.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

__all__ = [
    "CgroupMounts",
    "CgroupPaths",
    "CpuRate",
    "Filesystem",
    "RateTracker",
    "Usage",
    "boot_time",
    "cgroup_mounts",
    "cgroup_paths_of",
    "du",
    "filesystem",
    "node_usage",
    "read_cgroup",
    "read_process_groups",
    "read_processes",
    "runc_cgroup_paths",
]

_PAGE = os.sysconf("SC_PAGE_SIZE")
_TICKS = os.sysconf("SC_CLK_TCK")
_KI = 1024
_V1_CONTROLLERS = ("cpuacct", "memory", "pids")


@dataclass(frozen=True, slots=True, kw_only=True)
class Usage:
    """One reading; CPU is cumulative, the rest instantaneous. Memory in bytes."""

    timestamp: datetime
    cpu_seconds: float  # user + system, since the container (or machine) started
    memory_working_set: int
    memory_rss: int
    memory_usage: int
    fs_used: int | None = None  # the container's writable layer, when the caller measured it
    processes: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class CgroupPaths:
    """One cgroup's directories: per v1 controller, and in the v2 (unified) hierarchy.

    A v1 directory is preferred where both exist (hybrid hosts keep the controllers in v1);
    on a pure v2 host only ``unified`` is set.
    """

    unified: Path | None = None
    cpuacct: Path | None = None
    memory: Path | None = None
    pids: Path | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CgroupMounts:
    """Where the hierarchies are mounted: ``(mount point, root of the mount)`` each."""

    v1: Mapping[str, tuple[Path, str]]  # controller → mount
    unified: tuple[Path, str] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Filesystem:
    """A filesystem's totals (``statvfs``) and its device, as cAdvisor labels it."""

    device: str
    capacity: int
    available: int
    used: int
    inodes: int
    inodes_free: int


# -- cgroups ----------------------------------------------------------------------------


def cgroup_mounts(mountinfo: Path = Path("/proc/self/mountinfo")) -> CgroupMounts:
    """The cgroup hierarchies mounted in this mount namespace."""
    v1: dict[str, tuple[Path, str]] = {}
    unified: tuple[Path, str] | None = None
    for fields, fstype, _source, options in _mounts(mountinfo):
        mount = (Path(fields[4]), fields[3])
        if fstype == "cgroup2":
            unified = unified or mount
        elif fstype == "cgroup":
            for controller in options.split(","):
                v1.setdefault(controller, mount)
    return CgroupMounts(v1=v1, unified=unified)


def cgroup_paths_of(pid: int | str = "self", *, mounts: CgroupMounts | None = None) -> CgroupPaths:
    """The cgroups ``pid`` is in, from ``/proc/<pid>/cgroup``; unset where unknown."""
    mounts = mounts or cgroup_mounts()
    found: dict[str, Path] = {}
    for line in _read(Path(f"/proc/{pid}/cgroup")).splitlines():
        _, controllers, path = line.split(":", 2)
        names = ["unified"] if controllers == "" else controllers.split(",")
        for name in names:
            mount = mounts.unified if name == "unified" else mounts.v1.get(name)
            if mount is not None and (name == "unified" or name in _V1_CONTROLLERS):
                found[name] = _under(mount, path)
    return CgroupPaths(**found)


def runc_cgroup_paths(cgroups_path: str, *, mounts: CgroupMounts | None = None) -> CgroupPaths:
    """Where runc puts a container given ``linux.cgroupsPath`` (cgroupfs or systemd form).

    As libcontainer does: an absolute path is under each hierarchy's mount point, a relative
    one under the caller's own cgroup; ``slice:prefix:name`` is systemd's
    ``<slice path>/<prefix>-<name>.scope``.
    """
    mounts = mounts or cgroup_mounts()
    if cgroups_path.count(":") == 2 and not cgroups_path.startswith("/"):
        slice_name, prefix, name = cgroups_path.split(":")
        cgroups_path = f"/{_slice_path(slice_name or 'system.slice')}/{prefix}-{name}.scope"
    own = cgroup_paths_of("self", mounts=mounts) if not cgroups_path.startswith("/") else None
    found: dict[str, Path] = {}
    for name in (*_V1_CONTROLLERS, "unified"):
        mount = mounts.unified if name == "unified" else mounts.v1.get(name)
        if mount is None:
            continue
        base = mount[0] if own is None else getattr(own, name)
        if base is not None:
            found[name] = base / cgroups_path.lstrip("/")
    return CgroupPaths(**found)


def _slice_path(slice_name: str) -> str:
    """systemd's nesting: ``a-b.slice`` lives in ``a.slice/a-b.slice``."""
    if slice_name == "-.slice":
        return ""  # the root slice
    stem = slice_name.removesuffix(".slice")
    parts = stem.split("-")
    return "/".join("-".join(parts[: i + 1]) + ".slice" for i in range(len(parts)))


def _under(mount: tuple[Path, str], path: str) -> Path:
    """``path`` (as /proc/<pid>/cgroup shows it) inside a mount of the hierarchy."""
    mount_point, root = mount
    relative = os.path.relpath(path, root) if root != "/" else path.lstrip("/")
    return mount_point if relative in ("", ".") else mount_point / relative


def read_cgroup(paths: CgroupPaths) -> Usage | None:
    """A cgroup's usage (v1 or v2 files, per controller); None once the cgroup is gone."""
    timestamp = datetime.now(UTC)
    try:
        cpu = _cgroup_cpu(paths)
        usage, working_set, rss = _cgroup_memory(paths)
        processes = _cgroup_processes(paths)
    except (OSError, ValueError, KeyError):  # gone (ENOENT; ENODEV when removed mid-read)
        return None
    return Usage(
        timestamp=timestamp,
        cpu_seconds=cpu,
        memory_working_set=working_set,
        memory_rss=rss,
        memory_usage=usage,
        processes=processes,
    )


def _cgroup_cpu(paths: CgroupPaths) -> float:
    if paths.cpuacct is not None:
        return int(_read(paths.cpuacct / "cpuacct.usage")) / 1e9
    if paths.unified is not None:
        return _keyed(_read(paths.unified / "cpu.stat"))["usage_usec"] / 1e6
    raise FileNotFoundError("no cpuacct or unified cgroup")


def _cgroup_memory(paths: CgroupPaths) -> tuple[int, int, int]:
    """``(usage, working set, rss)``."""
    if paths.memory is not None:
        usage = int(_read(paths.memory / "memory.usage_in_bytes"))
        stat = _keyed(_read(paths.memory / "memory.stat"))
        inactive, rss = stat.get("total_inactive_file", 0), stat.get("total_rss", 0)
    elif paths.unified is not None:
        usage = int(_read(paths.unified / "memory.current"))
        stat = _keyed(_read(paths.unified / "memory.stat"))
        inactive, rss = stat.get("inactive_file", 0), stat.get("anon", 0)
    else:
        raise FileNotFoundError("no memory or unified cgroup")
    return usage, max(usage - inactive, 0), rss


def _cgroup_processes(paths: CgroupPaths) -> int:
    directory = paths.pids or paths.memory or paths.cpuacct or paths.unified
    assert directory is not None  # the CPU and memory readings needed one
    return len(_read(directory / "cgroup.procs").split())


# -- process groups ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Process:
    pid: int
    ppid: int
    group: int
    session: int
    ticks: int  # utime + stime + cutime + cstime


def read_processes(pgid: int | None = None, pids: Iterable[int] = ()) -> Usage | None:
    """The usage of a host-process container; None when none of its processes is left.

    Members: every process whose process group or session is ``pgid`` (the container runs
    in its own session, so a child that starts its own group still counts), the ``pids``,
    and all their descendants.
    """
    timestamp = datetime.now(UTC)
    table = {process.pid: process for process in _process_table()}
    return _usage_of(table, _members(table, pgid, set(pids)), timestamp)


def read_process_groups(pgids: Mapping[str, int]) -> dict[str, Usage | None]:
    """:func:`read_processes` for many containers (key → pgid) from one scan of ``/proc``."""
    timestamp = datetime.now(UTC)
    table = {process.pid: process for process in _process_table()}
    index = _Index(table)  # built once per scan, not once per container
    return {
        key: _usage_of(table, _members(table, pgid, set(), index), timestamp)
        for key, pgid in pgids.items()
    }


class _Index:
    """The process table's children and group/session members, for many lookups."""

    def __init__(self, table: Mapping[int, _Process]) -> None:
        self.children: dict[int, list[int]] = {}
        self.grouped: dict[int, set[int]] = {}
        for process in table.values():
            self.children.setdefault(process.ppid, []).append(process.pid)
            self.grouped.setdefault(process.group, set()).add(process.pid)
            self.grouped.setdefault(process.session, set()).add(process.pid)


def _usage_of(table: Mapping[int, _Process], members: list[int], at: datetime) -> Usage | None:
    if not members:
        return None
    rss = anon = pss = 0
    for pid in members:
        resident, anonymous, proportional = _memory_of(pid)
        rss, anon, pss = rss + resident, anon + anonymous, pss + proportional
    return Usage(
        timestamp=at,
        cpu_seconds=sum(table[pid].ticks for pid in members) / _TICKS,
        memory_working_set=pss,
        memory_rss=anon,
        memory_usage=rss,
        processes=len(members),
    )


def _process_table(proc: Path = Path("/proc")) -> Iterator[_Process]:
    for entry in os.scandir(proc):
        if not entry.name.isdigit():
            continue
        try:
            text = _read(Path(entry.path) / "stat")
        except OSError:
            continue  # exited while we looked
        fields = text.rsplit(")", 1)[1].split()  # the command may hold spaces and parens
        yield _Process(
            pid=int(entry.name),
            ppid=int(fields[1]),
            group=int(fields[2]),
            session=int(fields[3]),
            ticks=sum(int(value) for value in fields[11:15]),
        )


def _members(
    table: Mapping[int, _Process], pgid: int | None, pids: set[int], index: _Index | None = None
) -> list[int]:
    index = index or _Index(table)
    roots = {pid for pid in pids if pid in table}
    if pgid:  # never 0: the kernel's threads have group and session 0
        roots |= index.grouped.get(pgid, set())
    members, stack = set(roots), list(roots)
    while stack:
        for child in index.children.get(stack.pop(), ()):
            if child not in members:
                members.add(child)
                stack.append(child)
    return sorted(members)


def _memory_of(pid: int) -> tuple[int, int, int]:
    """``(rss, anonymous, pss)`` in bytes; zeros for a process that is gone."""
    try:
        rollup = _keyed(_read(Path(f"/proc/{pid}/smaps_rollup")), scale=_KI)
    except OSError:
        rollup = {}
    if "Pss" in rollup:
        anonymous = rollup.get("Pss_Anon", rollup.get("Anonymous", 0))
        return rollup.get("Rss", 0), anonymous, rollup["Pss"]
    try:
        _size, resident, shared, *_ = (
            int(v) * _PAGE for v in _read(Path(f"/proc/{pid}/statm")).split()
        )
    except (OSError, ValueError):
        return 0, 0, 0
    return resident, max(resident - shared, 0), resident


# -- the machine ------------------------------------------------------------------------


def node_usage(*, proc: Path = Path("/proc")) -> Usage:
    """The whole machine, as the kubelet reports its root cgroup (see the module docstring)."""
    timestamp = datetime.now(UTC)
    cpu = _read(proc / "stat").splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in cpu[:8])
    meminfo = _keyed(_read(proc / "meminfo"), scale=_KI)
    usage = meminfo["MemTotal"] - meminfo["MemFree"]
    return Usage(
        timestamp=timestamp,
        cpu_seconds=(user + nice + system + irq + softirq + steal) / _TICKS,
        memory_working_set=max(usage - meminfo.get("Inactive(file)", 0), 0),
        memory_rss=meminfo.get("AnonPages", 0),
        memory_usage=usage,
        processes=sum(1 for entry in os.scandir(proc) if entry.name.isdigit()),
    )


def boot_time(*, proc: Path = Path("/proc")) -> datetime:
    """When the machine booted (``btime`` of ``/proc/stat``): the node's ``startTime``."""
    for line in _read(proc / "stat").splitlines():
        if line.startswith("btime "):
            return datetime.fromtimestamp(int(line.split()[1]), UTC)
    raise ValueError("no btime in /proc/stat")


# -- disks ------------------------------------------------------------------------------


def du(path: Path) -> int:
    """Bytes allocated under ``path``, like ``du -s -x -B1``; 0 if it does not exist.

    Each inode counts once (hard links), other filesystems mounted inside are skipped, and
    files vanishing mid-walk are ignored. It walks every entry: fine for a container's
    writable directory or logs every 10–15 s; throttle it in the caller for big trees.
    """
    try:
        top = os.lstat(path)
    except FileNotFoundError:
        return 0
    total, seen, stack = top.st_blocks * 512, {top.st_ino}, [str(path)]
    while stack:
        try:
            entries = list(os.scandir(stack.pop()))
        except OSError:
            continue
        for entry in entries:
            try:
                stat = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.st_dev != top.st_dev or stat.st_ino in seen:
                continue
            seen.add(stat.st_ino)
            total += stat.st_blocks * 512
            if entry.is_dir(follow_symlinks=False):
                stack.append(entry.path)
    return total


def filesystem(path: Path, *, mountinfo: Path = Path("/proc/self/mountinfo")) -> Filesystem:
    """The filesystem holding ``path``: its totals and device (``/dev/vda1``, ``overlay``…)."""
    stat = os.statvfs(path)
    device_id = os.stat(path).st_dev
    wanted = f"{os.major(device_id)}:{os.minor(device_id)}"
    device = next((source for f, _, source, _ in _mounts(mountinfo) if f[2] == wanted), "")
    return Filesystem(
        device=device,
        capacity=stat.f_blocks * stat.f_frsize,
        available=stat.f_bavail * stat.f_frsize,
        used=(stat.f_blocks - stat.f_bfree) * stat.f_frsize,
        inodes=stat.f_files,
        inodes_free=stat.f_ffree,
    )


# -- CPU rates --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class CpuRate:
    """Average CPU use between two readings ``window`` apart, the later at ``timestamp``."""

    nano_cores: int
    window: timedelta
    timestamp: datetime


class RateTracker:
    """Cumulative CPU readings per key (a container, a pod, the node) → ``usageNanoCores``.

    Like metrics-server, the rate is the difference of two readings over the time between
    them: the newest and the newest one at least ``window`` older (or the oldest kept while
    the key is younger than that, once they are ``minimum`` apart). A counter that falls
    means the container restarted: its history starts again.
    """

    def __init__(
        self,
        window: timedelta = timedelta(seconds=10),
        *,
        minimum: timedelta = timedelta(seconds=1),
    ) -> None:
        self.window = window
        self.minimum = min(minimum, window)
        self._samples: dict[str, deque[tuple[datetime, float]]] = {}

    def observe(self, key: str, usage: Usage) -> CpuRate | None:
        """Record a reading; return the rate it gives (None until there is a window)."""
        samples = self._samples.setdefault(key, deque())
        if samples and usage.timestamp <= samples[-1][0]:
            return self.rate(key)  # not newer than what we have
        if samples and usage.cpu_seconds < samples[-1][1]:
            samples.clear()
        samples.append((usage.timestamp, usage.cpu_seconds))
        while len(samples) > 2 and usage.timestamp - samples[1][0] >= self.window:
            samples.popleft()
        return self.rate(key)

    def rate(self, key: str) -> CpuRate | None:
        samples = self._samples.get(key)
        if not samples or len(samples) < 2:
            return None
        (first, first_cpu), (last, last_cpu) = samples[0], samples[-1]
        span = last - first
        if span < self.minimum:
            return None
        cores = (last_cpu - first_cpu) / span.total_seconds()
        return CpuRate(nano_cores=round(cores * 1e9), window=span, timestamp=last)

    def retain(self, keys: Iterable[str]) -> None:
        """Forget every key not in ``keys`` (containers that are gone)."""
        keep = set(keys)
        for key in [key for key in self._samples if key not in keep]:
            del self._samples[key]


# -- small readers ----------------------------------------------------------------------


def _read(path: Path) -> str:
    with open(path) as file:
        return file.read()


def _keyed(text: str, *, scale: int = 1) -> dict[str, int]:
    """``name value`` or ``Name: value kB`` lines as a dict (values × ``scale`` for kB)."""
    values: dict[str, int] = {}
    for line in text.splitlines():
        name, _, rest = line.partition(":") if ":" in line else line.partition(" ")
        parts = rest.split()
        if parts and parts[0].isdigit():
            values[name.strip()] = int(parts[0]) * (scale if parts[1:2] == ["kB"] else 1)
    return values


def _mounts(mountinfo: Path) -> Iterator[tuple[list[str], str, str, str]]:
    """mountinfo lines: ``(fields before " - ", fstype, source, super options)``."""
    for line in _read(mountinfo).splitlines():
        before, _, after = line.partition(" - ")
        fstype, source, options = [*after.split(), "", "", ""][:3]
        yield before.split(), fstype, source, options
