"""Reading this machine's capacity and system info (``atoll.embedded.hostinfo``).

(Lives beside the node controller's tests, its only user.)
"""

from __future__ import annotations

from pathlib import Path

from atoll.embedded.hostinfo import MAX_PODS, go_architecture, read_host_info
from atoll.kube.quantities import parse_quantity


def test_reads_a_fake_root(tmp_path: Path) -> None:
    (tmp_path / "proc/sys/kernel/random").mkdir(parents=True)
    (tmp_path / "etc").mkdir()
    (tmp_path / "proc/meminfo").write_text(
        "MemTotal:        8000000 kB\nMemFree:  100 kB\n"
        "HugePages_Total:       4\nHugepagesize:       2048 kB\n"
    )
    (tmp_path / "proc/sys/kernel/random/boot_id").write_text("b0b0-boot\n")
    (tmp_path / "etc/machine-id").write_text("0123456789abcdef0123456789abcdef\n")
    (tmp_path / "etc/os-release").write_text('NAME="X"\nPRETTY_NAME="Example OS 1"\n')

    host = read_host_info(tmp_path, root=tmp_path)

    assert host.memory_bytes == 8_000_000 * 1024
    assert host.hugepages_2mi_bytes == 4 * 2 * 2**20
    assert host.boot_id == "b0b0-boot"
    assert host.machine_id == "0123456789abcdef0123456789abcdef"
    assert host.system_uuid == "01234567-89AB-CDEF-0123-456789ABCDEF"
    assert host.os_image == "Example OS 1"
    capacity, allocatable = host.capacity(), host.allocatable()
    assert capacity["memory"] == "8000000Ki"
    assert parse_quantity(capacity["hugepages-2Mi"]) == 8 * 2**20
    assert capacity["pods"] == str(MAX_PODS)
    # Allocatable: memory less huge pages and the 100Mi eviction reserve; disk less 10 %.
    memory = parse_quantity(allocatable["memory"])
    assert memory == (8_000_000 - 8192 - 100 * 1024) * 1024
    assert parse_quantity(allocatable["ephemeral-storage"]) < parse_quantity(
        capacity["ephemeral-storage"]
    )
    assert set(host.node_info()) == {
        "architecture",
        "bootID",
        "containerRuntimeVersion",
        "kernelVersion",
        "kubeProxyVersion",
        "kubeletVersion",
        "machineID",
        "operatingSystem",
        "osImage",
        "systemUUID",
    }


def test_missing_sources_fall_back(tmp_path: Path) -> None:
    host = read_host_info(tmp_path / "nowhere", root=tmp_path)
    assert host.memory_bytes > 0
    assert host.storage_bytes > 0  # the nearest existing parent's filesystem
    assert host.machine_id and host.system_uuid and host.boot_id
    assert host.os_image
    assert all(host.node_info().values())


def test_architectures_use_go_names() -> None:
    assert go_architecture("x86_64") == "amd64"
    assert go_architecture("aarch64") == "arm64"
    assert go_architecture("ppc64le") == "ppc64le"
