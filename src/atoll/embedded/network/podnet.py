"""Pod sandboxes: a network namespace per pod, a veth pair into this node's bridge.

As root, each pod gets what a CNI bridge plugin gives it: a named network namespace
(``/run/netns/<bridge>-<uid>``), a veth pair whose host end is enslaved to the bridge (one
per cluster, ``atoll0`` by default, holding the gateway: the first address of the pod
range) and whose pod end is the pod's ``eth0`` with its own address. Pods reach each other
over the bridge and this machine through the gateway; nothing is forwarded anywhere else
(IP forwarding is left as it is and no NAT is set up), so a pod can only ever talk to
addresses on this machine.

Service ClusterIPs live in 127.0.0.0/8 (so this machine reaches them without privileges).
Inside a pod's namespace that whole range is its own loopback; the pod's local table is
therefore narrowed to 127.0.0.0/8 *minus* the service range, the service range is routed to
the gateway, and ``route_localnet`` lets those packets cross the veth. The Service proxy's
one socket per Service port on this machine then serves every pod too, and sees the pod's
own address as the client (ClientIP affinity works).

Without root (or without the ``ip`` command) pods share this machine's network: the pod IP
is the node's, and two pods declaring the same port collide (the kubelet warns with an
Event). Addresses are handed out in order and not reused until the range wraps, so a
restarted pod rarely sees its predecessor's address reused by another; a pod recreated
after a kubelet restart asks for its previous address back.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import ipaddress
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import IO

__all__ = ["NetworkUnavailable", "PodNetwork", "Sandbox"]

logger = logging.getLogger(__name__)

_IP = shutil.which("ip")
_NSENTER = shutil.which("nsenter")
NETNS_DIR = Path("/run/netns")
LOCK_DIR = Path("/run/atoll")
_LOOPBACK = ipaddress.IPv4Network("127.0.0.0/8")


class NetworkUnavailable(RuntimeError):
    """Pod networking cannot be set up here (not root, no ``ip``, or the range is bad)."""


@dataclass(frozen=True, slots=True)
class Sandbox:
    """One pod's network: its address and namespace (None: this machine's network)."""

    ip: str
    netns: Path | None
    gateway: str | None = None

    @property
    def host_network(self) -> bool:
        return self.netns is None


async def _run(argv: list[str], stdin: str = "") -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.PIPE if stdin else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await process.communicate(stdin.encode() if stdin else None)
    return process.returncode or 0, err.decode(errors="replace").strip()


def local_routes(service_cidr: str) -> list[str]:
    """127.0.0.0/8 without the service range: what stays a pod's own loopback."""
    services = ipaddress.ip_network(service_cidr, strict=False)
    if not isinstance(services, ipaddress.IPv4Network) or not services.subnet_of(_LOOPBACK):
        return [str(_LOOPBACK)]
    return sorted(str(net) for net in _LOOPBACK.address_exclude(services))


class PodNetwork:
    """The bridge, and each pod's sandbox on it; see the module doc."""

    def __init__(self, *, bridge: str, cidr: str, service_cidr: str) -> None:
        network = ipaddress.ip_network(cidr, strict=False)
        if not isinstance(network, ipaddress.IPv4Network) or network.num_addresses < 8:
            raise NetworkUnavailable(f"pod range {cidr!r}: an IPv4 range of /29 or larger")
        if network.overlaps(_LOOPBACK):
            raise NetworkUnavailable(f"pod range {cidr!r} overlaps 127.0.0.0/8")
        if len(bridge) > 15 or not bridge.replace("-", "").isalnum():
            raise NetworkUnavailable(f"bridge name {bridge!r}: at most 15 letters and digits")
        self.bridge = bridge
        self.network = network
        self.gateway = str(network.network_address + 1)
        self.service_cidr = service_cidr
        self._hosts = [str(ip) for ip in network.hosts()][1:]  # the first is the gateway's
        self._hosts_set = frozenset(self._hosts)
        self._next = 0
        self._by_uid: dict[str, Sandbox] = {}
        self._used: set[str] = set()
        self._lock_file: IO[bytes] | None = None
        self._guard = asyncio.Lock()

    @staticmethod
    def supported() -> bool:
        return os.geteuid() == 0 and _IP is not None and _NSENTER is not None

    # -- the bridge ------------------------------------------------------------------------

    async def setup(self) -> None:
        """Create (or adopt) the bridge and drop sandboxes an earlier run left behind."""
        if not self.supported():
            raise NetworkUnavailable("pod networking needs root and the ip and nsenter commands")
        self._lock()
        assert _IP is not None
        await self._remove_leftovers()
        code, _ = await _run([_IP, "link", "show", self.bridge])
        if code != 0:
            code, err = await _run([_IP, "link", "add", self.bridge, "type", "bridge"])
            if code != 0:
                raise NetworkUnavailable(f"cannot create bridge {self.bridge}: {err}")
        prefix = self.network.prefixlen
        commands = f"addr replace {self.gateway}/{prefix} dev {self.bridge}\n"
        commands += f"link set {self.bridge} up\n"
        code, err = await _run([_IP, "-batch", "-"], commands)
        if code != 0:
            raise NetworkUnavailable(f"cannot configure bridge {self.bridge}: {err}")
        _write_sysctl(f"net/ipv4/conf/{self.bridge}/route_localnet", "1")
        logger.info(
            "pod network %s on bridge %s (gateway %s)", self.network, self.bridge, self.gateway
        )

    async def close(self) -> None:
        """Remove every sandbox and the bridge (the kubelet has stopped every pod)."""
        for uid in list(self._by_uid):
            await self.release(uid)
        if _IP is not None:
            await _run([_IP, "link", "del", self.bridge])
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    def _lock(self) -> None:
        LOCK_DIR.mkdir(parents=True, exist_ok=True)
        handle = open(LOCK_DIR / f"{self.bridge}.lock", "a+b")  # noqa: SIM115 - held until close
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise NetworkUnavailable(
                f"bridge {self.bridge} belongs to another running cluster; give this one "
                "its own (ATOLL_CLUSTER__BRIDGE and ATOLL_CLUSTER__POD_CIDR)"
            ) from None
        self._lock_file = handle

    async def _remove_leftovers(self) -> None:
        prefix = f"{self.bridge}-"
        for path in NETNS_DIR.glob(f"{prefix}*") if NETNS_DIR.is_dir() else ():
            assert _IP is not None
            await _run([_IP, "netns", "del", path.name])

    # -- sandboxes -------------------------------------------------------------------------

    def host_sandbox(self, host_ip: str) -> Sandbox:
        return Sandbox(ip=host_ip, netns=None)

    async def create(self, uid: str, *, previous_ip: str | None = None) -> Sandbox:
        """The pod's sandbox (the same one when asked again for the same uid)."""
        async with self._guard:
            found = self._by_uid.get(uid)
            if found is not None:
                return found
            ip = self._allocate(previous_ip)
            name = self._netns_name(uid)
            try:
                await self._plumb(name, uid, ip)
            except BaseException:
                self._used.discard(ip)
                assert _IP is not None
                await asyncio.shield(_run([_IP, "netns", "del", name]))
                raise
            sandbox = Sandbox(ip=ip, netns=NETNS_DIR / name, gateway=self.gateway)
            self._by_uid[uid] = sandbox
            return sandbox

    async def release(self, uid: str) -> None:
        """Remove the pod's namespace (its veth pair goes with it) and free its address."""
        async with self._guard:
            sandbox = self._by_uid.pop(uid, None)
            if sandbox is None or sandbox.netns is None:
                return
            assert _IP is not None
            code, err = await _run([_IP, "netns", "del", sandbox.netns.name])
            if code != 0:
                logger.warning("removing network namespace %s: %s", sandbox.netns.name, err)
            self._used.discard(sandbox.ip)

    def sandbox(self, uid: str) -> Sandbox | None:
        return self._by_uid.get(uid)

    def _allocate(self, previous: str | None) -> str:
        if previous and previous in self._hosts_set and previous not in self._used:
            self._used.add(previous)
            return previous
        for step in range(len(self._hosts)):
            candidate = self._hosts[(self._next + step) % len(self._hosts)]
            if candidate not in self._used:
                self._next = (self._next + step + 1) % len(self._hosts)
                self._used.add(candidate)
                return candidate
        raise NetworkUnavailable(f"the pod range {self.network} has no free address left")

    def _netns_name(self, uid: str) -> str:
        return f"{self.bridge}-{uid}"

    def _veth_name(self, uid: str) -> str:
        digest = hashlib.sha256(f"{self.bridge}/{uid}".encode()).hexdigest()
        return f"veth{digest[:11]}"  # 15 characters, the kernel's limit

    async def _plumb(self, name: str, uid: str, ip: str) -> None:
        assert _IP is not None and _NSENTER is not None
        host_end = self._veth_name(uid)
        pod_end = f"p{host_end[1:]}"
        host_side = (
            f"netns add {name}\n"
            f"link add {host_end} type veth peer name {pod_end} netns {name}\n"
            f"link set {host_end} master {self.bridge} up\n"
        )
        code, err = await _run([_IP, "-batch", "-"], host_side)
        if code != 0:
            raise NetworkUnavailable(f"cannot create the sandbox of pod {uid}: {err}")
        prefix = self.network.prefixlen
        pod_side = [
            f"link set {pod_end} name eth0",
            f"addr add {ip}/{prefix} dev eth0",
            "link set lo up",
            "link set eth0 up",
            f"route add default via {self.gateway} dev eth0",
            "route del local 127.0.0.0/8 dev lo table local",
            *(
                f"route add local {net} dev lo table local"
                for net in local_routes(self.service_cidr)
            ),
            f"route add {self.service_cidr} via {self.gateway} dev eth0",
        ]
        sysctls = " && ".join(
            f"echo 1 > /proc/sys/net/ipv4/conf/{device}/route_localnet"
            for device in ("all", "eth0")
        )
        script = f"{_IP} -batch - && {sysctls}"
        code, err = await _run(
            [_NSENTER, f"--net={NETNS_DIR / name}", "sh", "-c", script], "\n".join(pod_side) + "\n"
        )
        if code != 0:
            raise NetworkUnavailable(f"cannot configure the sandbox of pod {uid}: {err}")


def _write_sysctl(key: str, value: str) -> None:
    with contextlib.suppress(OSError):
        Path("/proc/sys", key).write_text(value)
