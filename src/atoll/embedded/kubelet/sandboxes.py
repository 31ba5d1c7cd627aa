"""Each pod's sandbox as its containers see it: an address, a network, /etc/hosts and
/etc/resolv.conf.

A pod gets its own network namespace from ``PodNetwork`` when the node has one and the pod
does not ask for ``hostNetwork``; otherwise it shares this machine's network and address,
and two such pods declaring the same port collide — said in a Warning Event, since only one
of them will manage to listen.

The two files are written into the pod's directory and mounted over the container's own,
as the kubelet does: ``hosts`` names the pod (``<hostname>[.<subdomain>.<ns>.svc.<domain>]``)
and adds ``hostAliases``; ``resolv.conf`` follows ``dnsPolicy`` — ``ClusterFirst`` points
at the cluster DNS with the usual search path and ``ndots:5``, ``Default`` (and
``ClusterFirst`` on the host network) copies this machine's, ``None`` takes only
``dnsConfig`` — and ``dnsConfig`` adds nameservers, searches and options.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..network.podnet import PodNetwork
from .runtime import Mount

__all__ = ["ClusterDnsConfig", "PodSandbox", "Sandboxes", "hosts_file", "resolv_conf"]

logger = logging.getLogger(__name__)

Object = dict[str, Any]
OnEvent = Callable[[Object, str, str, str], Awaitable[None]]
HOST_RESOLV_CONF = Path("/etc/resolv.conf")
_MAX_SEARCHES = 32  # the kubelet's limit (MaxDNSSearchPaths)


@dataclass(frozen=True, slots=True)
class ClusterDnsConfig:
    """Where pods' cluster DNS answers (None: no cluster DNS on this node) and its domain."""

    nameserver: str | None = None
    domain: str = "cluster.local"


@dataclass(frozen=True, slots=True)
class PodSandbox:
    ip: str
    netns: Path | None  # None: this machine's network
    mounts: Sequence[Mount] = field(default_factory=tuple)


def _host_resolv_conf() -> tuple[list[str], list[str], list[str]]:
    """(nameservers, searches, options) of this machine's resolv.conf."""
    servers: list[str] = []
    searches: list[str] = []
    options: list[str] = []
    try:
        text = HOST_RESOLV_CONF.read_text()
    except OSError:
        return servers, searches, options
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) < 2:
            continue
        if fields[0] == "nameserver":
            servers.append(fields[1])
        elif fields[0] in ("search", "domain"):
            searches = fields[1:]
        elif fields[0] == "options":
            options.extend(fields[1:])
    return servers, searches, options


def resolv_conf(pod: Object, dns: ClusterDnsConfig, *, host_network: bool) -> str:
    """The pod's resolv.conf; see the module doc."""
    spec = pod.get("spec") or {}
    namespace = (pod.get("metadata") or {}).get("namespace") or "default"
    policy = spec.get("dnsPolicy") or "ClusterFirst"
    if policy == "ClusterFirst" and host_network:
        policy = "Default"
    servers: list[str] = []
    searches: list[str] = []
    options: list[str] = []
    if policy in ("ClusterFirst", "ClusterFirstWithHostNet") and dns.nameserver:
        servers = [dns.nameserver]
        searches = [f"{namespace}.svc.{dns.domain}", f"svc.{dns.domain}", dns.domain]
        options = ["ndots:5"]
    elif policy != "None":
        servers, searches, options = _host_resolv_conf()
    config = spec.get("dnsConfig") or {}
    servers += [str(s) for s in config.get("nameservers") or () if s not in servers]
    searches += [str(s) for s in config.get("searches") or () if s not in searches]
    merged = {o.partition(":")[0]: o for o in options}
    for option in config.get("options") or ():
        name = str(option.get("name") or "")
        if name:
            value = option.get("value")
            merged[name] = f"{name}:{value}" if value not in (None, "") else name
    lines = [f"nameserver {s}" for s in servers[:3]]
    if searches:
        lines.append("search " + " ".join(searches[:_MAX_SEARCHES]))
    if merged:
        lines.append("options " + " ".join(merged.values()))
    return "\n".join(lines) + "\n"


def hosts_file(pod: Object, ip: str, *, domain: str) -> str:
    """The pod's /etc/hosts, as the kubelet writes it."""
    spec = pod.get("spec") or {}
    meta = pod.get("metadata") or {}
    hostname = str(spec.get("hostname") or meta.get("name") or "pod")
    lines = [
        "# Kubernetes-managed hosts file.",
        "127.0.0.1\tlocalhost",
        "::1\tlocalhost ip6-localhost ip6-loopback",
        "fe00::0\tip6-localnet",
        "fe00::0\tip6-mcastprefix",
        "fe00::1\tip6-allnodes",
        "fe00::2\tip6-allrouters",
    ]
    subdomain = spec.get("subdomain")
    if subdomain:
        fqdn = f"{hostname}.{subdomain}.{meta.get('namespace', 'default')}.svc.{domain}"
        lines.append(f"{ip}\t{fqdn}\t{hostname}")
    else:
        lines.append(f"{ip}\t{hostname}")
    aliases = spec.get("hostAliases") or []
    if aliases:
        lines.append("")
        lines.append("# Entries added by HostAliases.")
        for alias in aliases:
            names = [str(n) for n in alias.get("hostnames") or ()]
            if alias.get("ip") and names:
                lines.append(f"{alias['ip']}\t" + "\t".join(names))
    return "\n".join(lines) + "\n"


def _declared_ports(pod: Object) -> set[tuple[int, str]]:
    ports: set[tuple[int, str]] = set()
    spec = pod.get("spec") or {}
    for container in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]:
        for port in container.get("ports") or ():
            number = port.get("hostPort") or port.get("containerPort")
            if isinstance(number, int):
                ports.add((number, str(port.get("protocol") or "TCP")))
    return ports


class Sandboxes:
    """The sandboxes of this node's pods; see the module doc."""

    def __init__(
        self,
        network: PodNetwork | None,
        *,
        host_ip: str,
        dns: ClusterDnsConfig,
        on_event: OnEvent,
    ) -> None:
        self.network = network
        self.host_ip = host_ip
        self.dns = dns
        self._on_event = on_event
        self._host_ports: dict[tuple[int, str], str] = {}  # (port, protocol) -> pod uid
        self._names: dict[str, str] = {}  # pod uid -> ns/name, for the collision message

    async def create(self, pod: Object, pod_dir: Path) -> PodSandbox:
        meta, spec = pod["metadata"], pod.get("spec") or {}
        uid = str(meta["uid"])
        host_network = bool(spec.get("hostNetwork")) or self.network is None
        if host_network:
            await self._claim_ports(pod)
            ip, netns = self.host_ip, None
        else:
            assert self.network is not None
            previous = (pod.get("status") or {}).get("podIP")
            sandbox = await self.network.create(uid, previous_ip=previous)
            ip, netns = sandbox.ip, sandbox.netns
        etc = pod_dir / "etc"
        etc.mkdir(parents=True, exist_ok=True)
        mounts: list[Mount] = []
        if not host_network:
            (etc / "hosts").write_text(hosts_file(pod, ip, domain=self.dns.domain))
            mounts.append(Mount(source=etc / "hosts", target="/etc/hosts"))
        if not host_network or spec.get("dnsPolicy") in ("ClusterFirstWithHostNet", "None"):
            (etc / "resolv.conf").write_text(resolv_conf(pod, self.dns, host_network=host_network))
            mounts.append(Mount(source=etc / "resolv.conf", target="/etc/resolv.conf"))
        return PodSandbox(ip=ip, netns=netns, mounts=tuple(mounts))

    async def release(self, pod: Object) -> None:
        uid = str(pod["metadata"]["uid"])
        for port, owner in list(self._host_ports.items()):
            if owner == uid:
                del self._host_ports[port]
        self._names.pop(uid, None)
        if self.network is not None:
            await self.network.release(uid)

    async def _claim_ports(self, pod: Object) -> None:
        meta = pod["metadata"]
        uid = str(meta["uid"])
        self._names[uid] = f"{meta.get('namespace')}/{meta.get('name')}"
        for port in sorted(_declared_ports(pod)):
            owner = self._host_ports.setdefault(port, uid)
            if owner == uid:
                continue
            message = (
                f"port {port[0]}/{port[1]} is also declared by pod {self._names.get(owner)}, "
                "which shares this machine's network with this one: only one of them can "
                "listen on it"
            )
            await self._on_event(pod, "Warning", "HostPortConflict", message)
