"""What this machine looks like to Kubernetes: capacity and system info for its Node.

A kubelet reads these from cAdvisor and the container runtime; the embedded cluster reads
the same sources directly: the CPU count, ``MemTotal`` and huge pages of ``/proc/meminfo``,
the size of the filesystem holding the data directory (ephemeral storage), ``uname`` for
the kernel and architecture, ``/etc/os-release`` for the OS image, and the machine, system
and boot IDs from ``/etc/machine-id``, ``/sys/class/dmi/id/product_uuid`` and
``/proc/sys/kernel/random/boot_id``.

Every source may be missing (containers, other Unixes, unreadable DMI files): each one falls
back to a sensible value instead of failing, because a Node with a plausible capacity is
better than no Node. ``read_host_info`` does blocking file I/O: call it through
``asyncio.to_thread``.

Allocatable follows a kubelet run with its default hard eviction thresholds: all the CPUs,
memory less 100Mi (``memory.available<100Mi``) and ephemeral storage less 10 %
(``nodefs.available<10%``).
"""

from __future__ import annotations

import os
import platform
import socket
import uuid
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "CONTAINER_RUNTIME_VERSION",
    "KUBELET_VERSION",
    "MAX_PODS",
    "HostInfo",
    "go_architecture",
    "read_host_info",
]

KUBELET_VERSION = "v1.20.2"  # the Kubernetes version the embedded API server reports
CONTAINER_RUNTIME_VERSION = "atoll://0.1.0"
MAX_PODS = 110  # the kubelet's default --max-pods

_KI = 1024
_EVICTION_MEMORY = 100 * _KI * _KI  # memory.available<100Mi
_EVICTION_DISK_FRACTION = 0.10  # nodefs.available<10%
_FALLBACK_MEMORY = 1024 * _KI * _KI * _KI  # 1Gi when /proc/meminfo is unreadable

# Go's GOARCH names for what ``uname -m`` says.
_ARCHITECTURES = {
    "x86_64": "amd64",
    "amd64": "amd64",
    "aarch64": "arm64",
    "arm64": "arm64",
    "armv7l": "arm",
    "armv6l": "arm",
    "i386": "386",
    "i686": "386",
    "ppc64le": "ppc64le",
    "s390x": "s390x",
    "riscv64": "riscv64",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class HostInfo:
    """The facts a Node reports about its machine; quantities are in base units."""

    hostname: str
    cpus: int
    memory_bytes: int
    storage_bytes: int
    hugepages_2mi_bytes: int
    hugepages_1gi_bytes: int
    machine_id: str
    system_uuid: str
    boot_id: str
    kernel_version: str
    os_image: str
    architecture: str  # Go's name: amd64, arm64, …
    max_pods: int = MAX_PODS

    def capacity(self) -> dict[str, str]:
        """``status.capacity`` as a kubelet reports it."""
        return {
            "cpu": str(self.cpus),
            "ephemeral-storage": f"{self.storage_bytes // _KI}Ki",
            "hugepages-1Gi": _bytes(self.hugepages_1gi_bytes),
            "hugepages-2Mi": _bytes(self.hugepages_2mi_bytes),
            "memory": f"{self.memory_bytes // _KI}Ki",
            "pods": str(self.max_pods),
        }

    def allocatable(self) -> dict[str, str]:
        """``status.allocatable``: capacity less the kubelet's default eviction reserve."""
        hugepages = self.hugepages_1gi_bytes + self.hugepages_2mi_bytes
        memory = max(self.memory_bytes - hugepages - _EVICTION_MEMORY, 0)
        storage = int(self.storage_bytes * (1 - _EVICTION_DISK_FRACTION))
        return {
            **self.capacity(),
            "ephemeral-storage": str(storage),
            "memory": f"{memory // _KI}Ki",
        }

    def node_info(self) -> dict[str, str]:
        """``status.nodeInfo``: all ten NodeSystemInfo fields (typed clients require each)."""
        return {
            "architecture": self.architecture,
            "bootID": self.boot_id,
            "containerRuntimeVersion": CONTAINER_RUNTIME_VERSION,
            "kernelVersion": self.kernel_version,
            "kubeProxyVersion": KUBELET_VERSION,
            "kubeletVersion": KUBELET_VERSION,
            "machineID": self.machine_id,
            "operatingSystem": "linux",
            "osImage": self.os_image,
            "systemUUID": self.system_uuid,
        }


def _bytes(amount: int) -> str:
    return "0" if amount == 0 else f"{amount // _KI}Ki"


def go_architecture(machine: str) -> str:
    """``x86_64`` → ``amd64``; unknown names pass through lower-cased."""
    return _ARCHITECTURES.get(machine.lower(), machine.lower() or "amd64")


def read_host_info(
    storage_path: Path, *, root: Path = Path("/"), max_pods: int = MAX_PODS
) -> HostInfo:
    """Read this machine's facts; ``root`` lets tests point at a fake ``/proc`` and ``/etc``."""
    meminfo = _meminfo(root / "proc/meminfo")
    machine_id = _read_id(root / "etc/machine-id") or _read_id(root / "var/lib/dbus/machine-id")
    machine_id = machine_id or uuid.uuid5(uuid.NAMESPACE_DNS, socket.gethostname()).hex
    uname = platform.uname()
    huge_page = meminfo.get("Hugepagesize", 2048 * _KI)
    huge_total = meminfo.get("HugePages_Total", 0) * huge_page  # a count of pages
    return HostInfo(
        hostname=socket.gethostname(),
        cpus=os.cpu_count() or 1,
        memory_bytes=meminfo.get("MemTotal", _FALLBACK_MEMORY),
        storage_bytes=_filesystem_size(storage_path),
        hugepages_2mi_bytes=huge_total if huge_page == 2 * _KI * _KI else 0,
        hugepages_1gi_bytes=huge_total if huge_page == _KI * _KI * _KI else 0,
        machine_id=machine_id,
        system_uuid=_system_uuid(root, machine_id),
        boot_id=_read_id(root / "proc/sys/kernel/random/boot_id") or str(uuid.uuid4()),
        kernel_version=uname.release or "unknown",
        os_image=_os_image(root) or f"{uname.system or 'Linux'} {uname.release}".strip(),
        architecture=go_architecture(uname.machine),
        max_pods=max_pods,
    )


def _meminfo(path: Path) -> dict[str, int]:
    """``/proc/meminfo`` in bytes (``kB`` lines) or counts (``HugePages_*`` lines)."""
    values: dict[str, int] = {}
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return values
    for line in lines:
        name, _, rest = line.partition(":")
        parts = rest.split()
        if not parts or not parts[0].isdigit():
            continue
        scale = _KI if len(parts) > 1 and parts[1] == "kB" else 1
        values[name.strip()] = int(parts[0]) * scale
    return values


def _filesystem_size(path: Path) -> int:
    """Total size of the filesystem holding ``path`` (or its nearest existing parent)."""
    for candidate in (path, *path.resolve().parents):
        try:
            stat = os.statvfs(candidate)
        except OSError:
            continue
        return stat.f_blocks * stat.f_frsize
    return 0


def _read_id(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""


def _system_uuid(root: Path, machine_id: str) -> str:
    """DMI's product UUID (root-only on most machines), else one derived from the machine ID."""
    found = _read_id(root / "sys/class/dmi/id/product_uuid")
    if found:
        return found.upper()
    try:
        return str(uuid.UUID(hex=machine_id)).upper()
    except ValueError:
        return str(uuid.uuid5(uuid.NAMESPACE_OID, machine_id)).upper()


def _os_image(root: Path) -> str:
    """``PRETTY_NAME`` of os-release, as the kubelet reports it."""
    for path in (root / "etc/os-release", root / "usr/lib/os-release"):
        try:
            lines = path.read_text().splitlines()
        except OSError:
            continue
        for line in lines:
            key, _, value = line.partition("=")
            if key.strip() == "PRETTY_NAME":
                return value.strip().strip("\"'")
    return ""
