"""Resource usage readings and their presentations (``atoll.embedded.kubelet.stats``/``cadvisor``).

Readings are checked against real processes: a process group burning CPU, one holding 50 MB,
children in the group, and — as root with writable cgroups — a child moved into fresh v1 and
v2 cgroups. Bounds are loose (a busy machine slows everything); nothing sleeps to synchronise.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from kubernetes.utils import parse_quantity as client_parse_quantity
from tests.waiting import eventually

from atoll.embedded.hostinfo import HostInfo
from atoll.embedded.kubelet.cadvisor import (
    CgroupPaths,
    CpuRate,
    Filesystem,
    RateTracker,
    Usage,
    boot_time,
    cgroup_mounts,
    cgroup_paths_of,
    du,
    filesystem,
    node_usage,
    read_cgroup,
    read_process_groups,
    read_processes,
    runc_cgroup_paths,
)
from atoll.embedded.kubelet.stats import (
    ContainerSnapshot,
    NodeSnapshot,
    PodSnapshot,
    cadvisor_text,
    go_duration,
    metrics_list,
    node_metrics,
    pod_metrics,
    summary,
)
from atoll.kube.quantities import parse_quantity

MiB = 1 << 20
# Burn CPU until this process has used `seconds` of it (bounded by wall time, whatever happens).
BURN = (
    "import time\n"
    "end = time.monotonic() + 30\n"
    "while time.process_time() < {seconds} and time.monotonic() < end:\n"
    "    pass\n"
)

Spawn = Callable[..., "subprocess.Popen[str]"]


@pytest.fixture
def spawn() -> Iterator[Spawn]:
    """Start ``python -c code`` in its own session; every group is killed at teardown."""
    started: list[subprocess.Popen[str]] = []

    def start(code: str, *, nice: int = 0) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [sys.executable, "-c", code],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        started.append(process)
        if nice:  # ahead of other work on a shared machine, so a burner really gets a core
            prioritise(process.pid, nice)
        return process

    yield start
    for process in started:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate(timeout=30)


def prioritise(pid: int, nice: int) -> None:
    """Lower the niceness of ``pid`` and of its session's autogroup, where allowed.

    With autogroups (Linux's default for desktops and many VMs) each session is scheduled as
    one group, so a process's own nice value counts only inside its session: a new session
    competes with every other busy session as an equal unless its autogroup is reniced.
    """
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, pid, nice)
    with contextlib.suppress(OSError), open(f"/proc/{pid}/autogroup", "w") as autogroup:
        autogroup.write(str(nice))


def reading(pgid: int) -> Usage:
    usage = read_processes(pgid)
    assert usage is not None, f"process group {pgid} is gone"
    return usage


# -- /proc ------------------------------------------------------------------------------


def test_cpu_of_a_busy_group_tracks_elapsed_time(spawn: Spawn) -> None:
    burner = spawn(BURN.format(seconds=20), nice=-15)
    first = eventually(lambda: (u := reading(burner.pid)).cpu_seconds > 0.05 and u)

    def a_second_later() -> Usage | None:
        usage = reading(burner.pid)
        return usage if usage.timestamp - first.timestamp >= timedelta(seconds=1) else None

    second = eventually(a_second_later)
    elapsed = (second.timestamp - first.timestamp).total_seconds()
    burned = second.cpu_seconds - first.cpu_seconds
    assert 0.5 * elapsed < burned < 1.5 * elapsed + 0.1  # one thread: at most about one core
    assert second.processes == 1

    tracker = RateTracker(timedelta(seconds=1), minimum=timedelta(milliseconds=500))
    assert tracker.observe("burner", first) is None
    rate = tracker.observe("burner", second)
    assert rate is not None
    assert 0.6e9 <= rate.nano_cores <= 1.2e9, rate
    assert rate.window == second.timestamp - first.timestamp


def test_children_in_the_group_are_counted_even_after_they_exit(spawn: Spawn) -> None:
    leader = spawn(
        "import subprocess, sys\n"
        f"subprocess.run([sys.executable, '-c', {BURN.format(seconds=0.8)!r}])\n"
        "sys.stdin.read()\n"
    )
    # While the child burns, the group has two processes and the child's CPU is counted…
    both = eventually(
        lambda: (u := reading(leader.pid)).processes == 2 and u.cpu_seconds > 0.3 and u
    )
    fields = Path(f"/proc/{leader.pid}/stat").read_text().rsplit(")", 1)[1].split()
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
    assert own < both.cpu_seconds - 0.2
    # …and once it has exited and been reaped, its time stays (the leader's cutime).
    alone = eventually(lambda: (u := reading(leader.pid)).processes == 1 and u)
    assert alone.cpu_seconds >= 0.75


def test_memory_of_a_process_holding_50_mb(spawn: Spawn) -> None:
    holder = spawn(
        "import sys\ndata = b'x' * (60 << 20)\nprint('ready', flush=True)\nsys.stdin.read()\n"
    )
    assert holder.stdout is not None
    assert holder.stdout.readline() == "ready\n"
    usage = reading(holder.pid)
    assert usage.memory_working_set >= 50 * MiB
    assert usage.memory_rss >= 50 * MiB
    assert usage.memory_usage >= usage.memory_working_set
    many = read_process_groups({"holder": holder.pid, "none": 0})  # 0: never the kernel's
    assert many["none"] is None
    assert many["holder"] is not None and many["holder"].memory_working_set >= 50 * MiB


def test_a_gone_group_reads_as_none(spawn: Spawn) -> None:
    done = spawn("pass")
    done.communicate(timeout=30)
    assert read_processes(done.pid) is None
    assert read_processes(pids=[done.pid]) is None
    assert read_processes() is None
    assert read_processes(0) is None


def test_explicit_pids_bring_their_descendants(spawn: Spawn) -> None:
    parent = spawn(
        "import subprocess, sys\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import sys; sys.stdin.read()'],"
        " stdin=subprocess.PIPE, start_new_session=True)\n"  # its own group and session
        "print(child.pid, flush=True)\n"
        "sys.stdin.read()\n"
    )
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    assert reading(parent.pid).processes == 2  # the pgid's tree includes the new session
    usage = read_processes(pids=[parent.pid])
    assert usage is not None and usage.processes == 2
    only_child = read_processes(pids=[child])
    assert only_child is not None and only_child.processes == 1


# -- cgroups ----------------------------------------------------------------------------

CHILD_IN_CGROUP = (
    "import sys, time\n"
    "sys.stdin.readline()\n"  # by now the test has moved us into the cgroups
    "data = b'x' * (40 << 20)\n"
    "start = time.process_time()\n"
    "while time.process_time() - start < 0.5: pass\n"
    "print('done', flush=True)\n"
    "sys.stdin.read()\n"
)


@pytest.fixture
def fresh_cgroups() -> Iterator[dict[str, Path]]:
    """A new cgroup in each writable hierarchy we read: v1 cpuacct and memory, and v2."""
    if os.geteuid() != 0:
        pytest.skip("creating cgroups needs root")
    mounts = cgroup_mounts()
    name = f"atoll-test-{uuid.uuid4().hex[:12]}"
    candidates = {c: mounts.v1[c][0] for c in ("cpuacct", "memory") if c in mounts.v1}
    if mounts.unified is not None:
        candidates["unified"] = mounts.unified[0]
    created: dict[str, Path] = {}
    for hierarchy, mount_point in candidates.items():
        try:
            (mount_point / name).mkdir()
        except OSError:
            continue
        created[hierarchy] = mount_point / name
    yield created
    for directory in created.values():
        eventually(lambda d=directory: _removed(d), timeout=10, what=f"rmdir {directory}")


def _removed(directory: Path) -> bool:
    try:
        directory.rmdir()
    except FileNotFoundError:
        return True
    except OSError:
        return False  # a killed child may take a moment to leave
    return True


def run_in(spawn: Spawn, cgroups: dict[str, Path]) -> subprocess.Popen[str]:
    """A child moved into ``cgroups`` that then allocates 40 MB and burns 0.5 s of CPU."""
    child = spawn(CHILD_IN_CGROUP)
    for directory in cgroups.values():
        (directory / "cgroup.procs").write_text(str(child.pid))
    assert child.stdin is not None and child.stdout is not None
    child.stdin.write("go\n")
    child.stdin.flush()
    assert child.stdout.readline() == "done\n"
    return child


def stop(child: subprocess.Popen[str]) -> None:
    os.killpg(child.pid, signal.SIGKILL)
    child.communicate(timeout=30)


def test_reads_a_v1_cgroup(spawn: Spawn, fresh_cgroups: dict[str, Path]) -> None:
    if not {"cpuacct", "memory"} <= fresh_cgroups.keys():
        pytest.skip("no writable cgroup v1 cpuacct and memory hierarchies")
    v1 = {k: fresh_cgroups[k] for k in ("cpuacct", "memory")}
    child = run_in(spawn, v1)
    found = cgroup_paths_of(child.pid)
    assert (found.cpuacct, found.memory) == (v1["cpuacct"], v1["memory"])

    usage = read_cgroup(CgroupPaths(cpuacct=v1["cpuacct"], memory=v1["memory"]))
    assert usage is not None
    assert 0.4 < usage.cpu_seconds < 5
    assert usage.memory_working_set >= 40 * MiB
    assert usage.memory_rss >= 40 * MiB
    assert usage.memory_usage >= usage.memory_working_set
    assert usage.processes == 1
    stop(child)
    for directory in v1.values():
        eventually(lambda d=directory: _removed(d), timeout=10)
    assert read_cgroup(CgroupPaths(cpuacct=v1["cpuacct"], memory=v1["memory"])) is None


def test_reads_cpu_from_a_v2_cgroup(spawn: Spawn, fresh_cgroups: dict[str, Path]) -> None:
    unified = fresh_cgroups.get("unified")
    if unified is None:
        pytest.skip("no writable cgroup v2 hierarchy")
    # On hybrid hosts the memory controller stays in v1: read memory there.
    memory = None if (unified / "memory.current").exists() else fresh_cgroups.get("memory")
    if memory is None and not (unified / "memory.current").exists():
        pytest.skip("no memory controller in v2 and no writable v1 memory hierarchy")
    cgroups = {"unified": unified, **({"memory": memory} if memory is not None else {})}
    child = run_in(spawn, cgroups)
    assert cgroup_paths_of(child.pid).unified == unified
    usage = read_cgroup(CgroupPaths(unified=unified, memory=memory))
    assert usage is not None
    assert 0.4 < usage.cpu_seconds < 5  # cpu.stat usage_usec
    assert usage.memory_working_set >= 40 * MiB
    assert usage.processes == 1
    stop(child)


def test_reads_v1_and_v2_files(tmp_path: Path) -> None:
    v1, v2 = tmp_path / "v1", tmp_path / "v2"
    v1.mkdir(), v2.mkdir()
    (v1 / "cpuacct.usage").write_text("2500000000\n")
    (v1 / "memory.usage_in_bytes").write_text(f"{100 * MiB}\n")
    (v1 / "memory.stat").write_text(
        f"cache 1\nrss 2\ninactive_file 3\ntotal_rss {60 * MiB}\n"
        f"total_inactive_file {30 * MiB}\ntotal_active_file {10 * MiB}\n"
    )
    (v1 / "cgroup.procs").write_text("10\n11\n12\n")
    (v2 / "cpu.stat").write_text("usage_usec 1500000\nuser_usec 1000000\nsystem_usec 500000\n")
    (v2 / "memory.current").write_text(f"{80 * MiB}\n")
    (v2 / "memory.stat").write_text(f"anon {50 * MiB}\nfile 1\ninactive_file {20 * MiB}\n")
    (v2 / "cgroup.procs").write_text("7\n")

    old = read_cgroup(CgroupPaths(cpuacct=v1, memory=v1))
    assert old is not None
    assert (old.cpu_seconds, old.memory_usage) == (2.5, 100 * MiB)
    assert (old.memory_working_set, old.memory_rss, old.processes) == (70 * MiB, 60 * MiB, 3)
    new = read_cgroup(CgroupPaths(unified=v2))
    assert new is not None
    assert (new.cpu_seconds, new.memory_usage) == (1.5, 80 * MiB)
    assert (new.memory_working_set, new.memory_rss, new.processes) == (60 * MiB, 50 * MiB, 1)
    assert read_cgroup(CgroupPaths(unified=tmp_path / "gone")) is None
    assert read_cgroup(CgroupPaths()) is None


MOUNTINFO = """\
23 1 0:21 / /sys rw - sysfs sysfs rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 /kubelet /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
"""


def test_finds_hierarchies_and_where_runc_puts_a_container(tmp_path: Path) -> None:
    mountinfo = tmp_path / "mountinfo"
    mountinfo.write_text(MOUNTINFO)
    mounts = cgroup_mounts(mountinfo)
    assert mounts.v1["cpuacct"] == (Path("/sys/fs/cgroup/cpu,cpuacct"), "/")
    assert mounts.v1["pids"] == (Path("/sys/fs/cgroup/pids"), "/kubelet")
    assert mounts.unified == (Path("/sys/fs/cgroup/unified"), "/")

    absolute = runc_cgroup_paths("/atoll/pod1/ctr", mounts=mounts)
    assert absolute.memory == Path("/sys/fs/cgroup/memory/atoll/pod1/ctr")
    assert absolute.cpuacct == Path("/sys/fs/cgroup/cpu,cpuacct/atoll/pod1/ctr")
    assert absolute.unified == Path("/sys/fs/cgroup/unified/atoll/pod1/ctr")
    systemd = runc_cgroup_paths("kubepods-burstable.slice:atoll:abc", mounts=mounts)
    assert systemd.memory == Path(
        "/sys/fs/cgroup/memory/kubepods.slice/kubepods-burstable.slice/atoll-abc.scope"
    )


def test_finds_its_own_cgroups() -> None:
    own = cgroup_paths_of()
    mounts = cgroup_mounts()
    if "memory" in mounts.v1:
        assert own.memory is not None and (own.memory / "memory.usage_in_bytes").exists()
    if mounts.unified is not None:
        assert own.unified is not None and (own.unified / "cgroup.procs").exists()


# -- the machine and disks --------------------------------------------------------------


def test_node_usage_from_a_fake_proc(tmp_path: Path) -> None:
    (tmp_path / "stat").write_text(
        "cpu  1000 20 300 50000 400 5 6 7 8 0\ncpu0 1 2 3 4 5 6 7 8 9 0\nbtime 1600000000\n"
    )
    (tmp_path / "meminfo").write_text(
        "MemTotal:  8000000 kB\nMemFree:  3000000 kB\nMemAvailable:  6000000 kB\n"
        "AnonPages:  1000000 kB\nInactive(file):  1500000 kB\n"
    )
    for pid in ("1", "42"):
        (tmp_path / pid).mkdir()
    usage = node_usage(proc=tmp_path)
    # user + nice + system + irq + softirq + steal; not idle, iowait, or guest (in user)
    assert usage.cpu_seconds == pytest.approx(
        (1000 + 20 + 300 + 5 + 6 + 7) / os.sysconf("SC_CLK_TCK")
    )
    assert usage.memory_usage == 5_000_000 * 1024
    assert usage.memory_working_set == 3_500_000 * 1024
    assert usage.memory_rss == 1_000_000 * 1024
    assert usage.processes == 2
    assert boot_time(proc=tmp_path) == datetime.fromtimestamp(1_600_000_000, UTC)


def test_node_usage_of_this_machine() -> None:
    usage = node_usage()
    assert usage.cpu_seconds > 0 and usage.processes > 1
    assert 0 < usage.memory_working_set <= usage.memory_usage
    assert boot_time() < usage.timestamp


def test_du_counts_blocks_once_per_inode(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub/data").write_bytes(os.urandom(300 * 1024))
    os.link(tmp_path / "sub/data", tmp_path / "hardlink")
    with open(tmp_path / "sparse", "wb") as sparse:
        sparse.truncate(50 * MiB)
    (tmp_path / "link").symlink_to("sub/data")
    used = du(tmp_path)
    assert 300 * 1024 <= used < 1 * MiB  # neither the hard link nor the sparse hole count twice
    if (du_command := shutil.which("du")) is not None:
        output = subprocess.run([du_command, "-s", "-x", "-B1", str(tmp_path)], capture_output=True)
        assert used == int(output.stdout.split()[0])
    assert du(tmp_path / "missing") == 0


def test_filesystem_of_a_directory(tmp_path: Path) -> None:
    fs = filesystem(tmp_path)
    assert fs.capacity >= fs.used > 0 and fs.capacity >= fs.available
    assert fs.device != "" and fs.inodes >= fs.inodes_free


# -- CPU rates --------------------------------------------------------------------------

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


def at(seconds: float, cpu: float) -> Usage:
    return Usage(
        timestamp=T0 + timedelta(seconds=seconds),
        cpu_seconds=cpu,
        memory_working_set=0,
        memory_rss=0,
        memory_usage=0,
    )


def test_rate_tracker_uses_the_newest_reading_a_window_back() -> None:
    tracker = RateTracker(timedelta(seconds=10))
    assert tracker.observe("c", at(0, 0.0)) is None
    assert tracker.observe("c", at(0.5, 0.5)) is None  # under the 1 s minimum
    young = tracker.observe("c", at(5, 2.5))
    assert young is not None and young.nano_cores == 500_000_000
    assert young.window == timedelta(seconds=5)
    tracker.observe("c", at(10, 5.0))
    later = tracker.observe("c", at(16, 17.0))  # 2 cores from 10 s to 16 s
    assert later is not None
    assert later.window == timedelta(seconds=11)  # from the 5 s reading, the newest ≥ 10 s back
    assert later.nano_cores == round((17.0 - 2.5) / 11 * 1e9)
    assert later.timestamp == T0 + timedelta(seconds=16)
    assert tracker.observe("c", at(16, 99.0)) == later  # not newer: ignored


def test_rate_tracker_restarts_when_the_counter_falls() -> None:
    tracker = RateTracker(timedelta(seconds=10))
    tracker.observe("c", at(0, 50.0))
    assert tracker.observe("c", at(5, 55.0)) is not None
    assert tracker.observe("c", at(10, 1.0)) is None  # a restarted container
    again = tracker.observe("c", at(12, 2.0))
    assert again is not None and again.nano_cores == 500_000_000
    tracker.retain(["other"])
    assert tracker.rate("c") is None


# -- presentations ----------------------------------------------------------------------

HOST = HostInfo(
    hostname="node-a",
    cpus=4,
    memory_bytes=8 * 1024 * MiB,
    storage_bytes=100 * 1024 * MiB,
    hugepages_2mi_bytes=0,
    hugepages_1gi_bytes=0,
    machine_id="0123456789abcdef0123456789abcdef",
    system_uuid="01234567-89AB-CDEF-0123-456789ABCDEF",
    boot_id="b0b0",
    kernel_version="6.1.0",
    os_image="Example OS",
    architecture="amd64",
)
FS = Filesystem(
    device="/dev/vda1",
    capacity=100 * 1024 * MiB,
    available=60 * 1024 * MiB,
    used=40 * 1024 * MiB,
    inodes=1000,
    inodes_free=600,
)


def usage(cpu: float, working_set: int, *, fs_used: int | None = None) -> Usage:
    return Usage(
        timestamp=T0,
        cpu_seconds=cpu,
        memory_working_set=working_set,
        memory_rss=working_set // 2,
        memory_usage=working_set * 2,
        fs_used=fs_used,
        processes=2,
    )


def rate(nano_cores: int, seconds: float = 10) -> CpuRate:
    return CpuRate(nano_cores=nano_cores, window=timedelta(seconds=seconds), timestamp=T0)


def snapshot(*, with_rates: bool = True) -> NodeSnapshot:
    web = ContainerSnapshot(
        name="web",
        usage=usage(12.5, 64 * MiB, fs_used=4096),
        start_time=T0 - timedelta(hours=1),
        container_id="runc://abc123",
        image='registry.local/web:1 "quoted"\\',
        cpu_rate=rate(1_000_000_000) if with_rates else None,
        logs_used=8192,
        memory_limit=128 * MiB,
        cpu_limit_millis=500,
        cpu_request_millis=250,
        cgroup="/atoll/pod-uid-1/abc123",
    )
    sidecar = ContainerSnapshot(
        name="sidecar",
        usage=usage(0.5, 12_345_678),
        start_time=T0 - timedelta(hours=1),
        container_id="process://4242",
        image="busybox",
        cpu_rate=rate(1_234_567) if with_rates else None,
    )
    pod = PodSnapshot(
        namespace="team-a",
        name="web-0",
        uid="pod-uid-1",
        start_time=T0 - timedelta(hours=2),
        containers=(web, sidecar),
        labels={"app": "web"},
    )
    return NodeSnapshot(
        node_name="node-a",
        host=HOST,
        usage=usage(1000.0, 2 * 1024 * MiB),
        start_time=T0 - timedelta(days=1),
        cpu_rate=rate(1_500_000_000, 15) if with_rates else None,
        fs=FS,
        image_fs=FS,
        images_used=5 * 1024 * MiB,
        pods=(pod,),
        labels={"kubernetes.io/hostname": "node-a"},
    )


def test_summary_has_the_kubelet_shape() -> None:
    result = summary(snapshot())
    node = result["node"]
    assert node["nodeName"] == "node-a"
    assert node["startTime"] == "2024-04-30T12:00:00Z"
    assert node["cpu"] == {
        "time": "2024-05-01T12:00:00Z",
        "usageNanoCores": 1_500_000_000,
        "usageCoreNanoSeconds": 1_000_000_000_000,
    }
    assert node["memory"]["availableBytes"] == 6 * 1024 * MiB  # capacity − working set
    assert node["memory"]["workingSetBytes"] == 2 * 1024 * MiB
    assert node["fs"]["usedBytes"] == FS.used and node["fs"]["inodesUsed"] == 400
    assert node["runtime"]["imageFs"]["usedBytes"] == 5 * 1024 * MiB

    (pod,) = result["pods"]
    assert pod["podRef"] == {"name": "web-0", "namespace": "team-a", "uid": "pod-uid-1"}
    web, sidecar = pod["containers"]
    assert set(web) == {"name", "startTime", "cpu", "memory", "rootfs", "logs"}
    assert web["cpu"]["usageCoreNanoSeconds"] == 12_500_000_000
    assert web["memory"] == {
        "time": "2024-05-01T12:00:00Z",
        "availableBytes": 64 * MiB,
        "usageBytes": 128 * MiB,
        "workingSetBytes": 64 * MiB,
        "rssBytes": 32 * MiB,
    }
    assert web["rootfs"]["usedBytes"] == 4096 and web["rootfs"]["capacityBytes"] == FS.capacity
    assert web["logs"]["usedBytes"] == 8192
    assert "availableBytes" not in sidecar["memory"]  # no limit
    assert "rootfs" not in sidecar
    # The pod is the sum of its containers.
    assert pod["cpu"]["usageNanoCores"] == 1_001_234_567
    assert pod["cpu"]["usageCoreNanoSeconds"] == 13_000_000_000
    assert pod["memory"]["workingSetBytes"] == 64 * MiB + 12_345_678
    assert "availableBytes" not in pod["memory"]  # the sidecar has no limit
    assert pod["ephemeral-storage"]["usedBytes"] == 4096 + 8192

    no_rates = summary(snapshot(with_rates=False))
    assert "usageNanoCores" not in no_rates["node"]["cpu"]
    assert "usageNanoCores" not in no_rates["pods"][0]["cpu"]


def test_pod_metrics_as_metrics_server_returns_them() -> None:
    (item,) = pod_metrics(snapshot(), now=T0 + timedelta(seconds=3))
    assert item == {
        "kind": "PodMetrics",
        "apiVersion": "metrics.k8s.io/v1beta1",
        "metadata": {
            "name": "web-0",
            "namespace": "team-a",
            "creationTimestamp": "2024-05-01T12:00:03Z",
            "labels": {"app": "web"},
        },
        "timestamp": "2024-05-01T12:00:00Z",
        "window": "10s",
        "containers": [
            {"name": "web", "usage": {"cpu": "1", "memory": "64Mi"}},
            {"name": "sidecar", "usage": {"cpu": "1234567n", "memory": "12345678"}},
        ],
    }
    assert pod_metrics(snapshot(), timedelta(seconds=15))[0]["window"] == "15s"
    assert pod_metrics(snapshot(with_rates=False)) == []  # no window yet: no metrics

    listed = metrics_list("PodMetricsList", pod_metrics(snapshot()))
    assert listed["kind"] == "PodMetricsList" and "kind" not in listed["items"][0]


def test_node_metrics() -> None:
    item = node_metrics(snapshot(), now=T0)
    assert item is not None
    assert item["metadata"] == {
        "name": "node-a",
        "creationTimestamp": "2024-05-01T12:00:00Z",
        "labels": {"kubernetes.io/hostname": "node-a"},
    }
    assert (item["kind"], item["window"], item["timestamp"]) == (
        "NodeMetrics",
        "15s",
        "2024-05-01T12:00:00Z",
    )
    assert item["usage"] == {"cpu": "1500m", "memory": "2Gi"}
    assert node_metrics(snapshot(with_rates=False)) is None


@pytest.mark.parametrize(
    ("nano_cores", "working_set"),
    [(0, 0), (1, 1023), (999_999, 4096), (1_234_567, 12_345_678), (2_000_000_000, 3 << 30)],
)
def test_metrics_quantities_parse_back_exactly(nano_cores: int, working_set: int) -> None:
    container = ContainerSnapshot(
        name="c",
        usage=usage(1.0, working_set),
        start_time=T0,
        cpu_rate=rate(nano_cores),
    )
    pod = PodSnapshot(namespace="n", name="p", uid="u", start_time=T0, containers=(container,))
    node = NodeSnapshot(node_name="n", host=HOST, usage=usage(1, 1), start_time=T0, pods=(pod,))
    quantities = pod_metrics(node)[0]["containers"][0]["usage"]
    for parse in (parse_quantity, client_parse_quantity):
        assert parse(quantities["cpu"]) == Decimal(nano_cores) / 10**9
        assert parse(quantities["memory"]) == working_set
    assert re.fullmatch(r"[0-9]+(n|u|m|)", quantities["cpu"])  # nanocores, canonical
    assert re.fullmatch(r"[0-9]+(Ki|Mi|Gi|)", quantities["memory"])  # bytes, BinarySI


def test_go_durations() -> None:
    cases = {
        timedelta(0): "0s",
        timedelta(seconds=10): "10s",
        timedelta(seconds=10, microseconds=52_000): "10.052s",
        timedelta(seconds=90): "1m30s",
        timedelta(minutes=1): "1m0s",
        timedelta(hours=1, seconds=3): "1h0m3s",
        timedelta(milliseconds=500): "500ms",
        timedelta(microseconds=1_500): "1.5ms",
        timedelta(microseconds=7): "7µs",
    }
    assert {span: go_duration(span) for span in cases} == cases


# -- Prometheus text --------------------------------------------------------------------

_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)')


def parse_exposition(text: str) -> tuple[dict[str, tuple[str, str]], list[tuple[Any, ...]]]:
    """A small parser for the text format: ``({family: (type, help)}, [samples])``."""
    families: dict[str, list[str]] = {}
    samples: list[tuple[Any, ...]] = []
    unescape = {"\\\\": "\\", '\\"': '"', "\\n": "\n"}
    for line in text.splitlines():
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            _, keyword, name, rest = line.split(" ", 3)
            families.setdefault(name, ["", ""])[keyword == "HELP"] = rest
            continue
        match = _SAMPLE.match(line)
        assert match is not None, f"not a sample line: {line!r}"
        name, raw_labels, value, stamp = match.groups()
        labels = {
            key: re.sub(r"\\[\\\"n]", lambda m: unescape[m.group(0)], raw)
            for key, raw in _LABEL.findall(raw_labels or "")
        }
        assert name in families, f"{name} has no HELP/TYPE before it"
        samples.append((name, labels, float(value), int(stamp) if stamp else None))
    return {name: (kind, help_text) for name, (kind, help_text) in families.items()}, samples


def test_cadvisor_text_has_cadvisors_names_and_labels() -> None:
    text = cadvisor_text(snapshot())
    families, samples = parse_exposition(text)
    assert families["container_cpu_usage_seconds_total"][0] == "counter"
    assert families["container_memory_working_set_bytes"] == (
        "gauge",
        "Current working set in bytes.",
    )
    base = {"container", "id", "image", "name", "namespace", "pod"}
    for name, labels, _, _ in samples:
        if name.startswith("machine_"):
            assert set(labels) == {"boot_id", "machine_id", "system_uuid"}
        elif name == "container_cpu_usage_seconds_total":
            assert set(labels) == base | {"cpu"} and labels["cpu"] == "total"
        elif name == "container_fs_usage_bytes":
            assert set(labels) == base | {"device"}
        else:
            assert set(labels) == base, (name, labels)

    def value(name: str, **wanted: str) -> float:
        (found,) = [
            v for n, labels, v, _ in samples if n == name and wanted.items() <= labels.items()
        ]
        return found

    web = {"container": "web", "pod": "web-0", "namespace": "team-a"}
    assert value("container_cpu_usage_seconds_total", **web) == 12.5
    assert value("container_memory_working_set_bytes", **web) == 64 * MiB
    assert value("container_spec_memory_limit_bytes", **web) == 128 * MiB
    assert value("container_spec_cpu_quota", **web) == 50_000
    assert value("container_spec_cpu_shares", **web) == 256
    assert value("container_fs_usage_bytes", **web) == 4096
    assert value("container_start_time_seconds", **web) == (T0 - timedelta(hours=1)).timestamp()
    labels = next(
        lbl for n, lbl, _, _ in samples if n == "container_memory_rss" and lbl["container"] == "web"
    )
    assert labels["id"] == "/atoll/pod-uid-1/abc123" and labels["name"] == "abc123"
    assert labels["image"] == 'registry.local/web:1 "quoted"\\'  # escaped and read back
    sidecar = {"container": "sidecar", "pod": "web-0"}
    assert value("container_memory_working_set_bytes", **sidecar) == 12_345_678
    assert value("container_memory_rss", id="/kubepods/podpod-uid-1/4242") == 12_345_678 // 2
    # The pod-level series (container="") sums its containers; the root is id="/".
    pod = {"container": "", "pod": "web-0", "id": "/kubepods/podpod-uid-1"}
    assert value("container_cpu_usage_seconds_total", **pod) == 13.0
    assert value("container_memory_working_set_bytes", id="/") == 2 * 1024 * MiB
    assert value("container_fs_usage_bytes", id="/", device="/dev/vda1") == FS.used
    assert value("machine_cpu_cores") == 4 and value("machine_memory_bytes") == 8 * 1024 * MiB
    # Readings carry their timestamp in milliseconds, as cAdvisor's do; spec metrics do not.
    stamps = {n: s for n, _, _, s in samples}
    assert stamps["container_memory_usage_bytes"] == int(T0.timestamp() * 1000)
    assert stamps["container_start_time_seconds"] is None
    # Go's float formatting, like client_golang.
    assert re.search(
        r'container_memory_working_set_bytes\{container="web",[^}]*\} 6\.7108864e\+07 ', text
    )
