"""The Node of this machine: registration, status, readiness taint and Lease heartbeats.

What a kubelet's node status manager does, done by a controller: it creates (or adopts) the
Node ``<node_name>`` with the well-known labels, reports capacity, allocatable, addresses and
``nodeInfo`` read from the host (``atoll.embedded.hostinfo``), and the four conditions a
kubelet reports. Until a kubelet runs pods (``ControllerOptions.kubelet``), Ready is False
(``KubeletNotReady``) and the node carries the ``node.kubernetes.io/not-ready:NoSchedule``
taint that kube's node lifecycle controller would add, so the scheduler leaves pods Pending
and unbound (kubectl's test/cmd set-up relies on that: such pods are deleted at once).

Heartbeats follow the kubelet's split since 1.17: the Lease in ``kube-node-lease`` is renewed
every 10 s (cheap, and nobody but the Lease informer hears it), while the Node status is
written only when something other than a heartbeat changed, or every 40 s — each Node write
wakes every Node informer in the cluster, and CPU at rest matters.

Reconcile is level-based: the single key is the node name; every pass compares the cached
Node and Lease with what they should be, writes only the differences and asks to be woken
when the next heartbeat is due. Labels and taints written by others are kept.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from atoll.controllers.clocks import Clock
from atoll.controllers.results import Result
from atoll.controllers.runtime import ControllerContext
from atoll.errors import AlreadyExists, Conflict
from atoll.kube.client import Object, ResourceType
from atoll.kube.informers import Informer

from ..hostinfo import HostInfo, read_host_info
from . import ControllerFactory, ControllerOptions
from .scheduling_predicates import NOT_READY_TAINT_KEY

__all__ = [
    "CONTROLLERS",
    "LEASES",
    "LEASE_NAMESPACE",
    "NODES",
    "NOT_READY_TAINT_KEY",
    "NodeController",
    "desired_conditions",
    "desired_taints",
    "node_labels",
    "status_differs",
]

logger = logging.getLogger(__name__)

NODES = ResourceType("", "v1", "nodes", "Node", False)
LEASES = ResourceType("coordination.k8s.io", "v1", "leases", "Lease", True)
LEASE_NAMESPACE = "kube-node-lease"

LEASE_DURATION_SECONDS = 40  # the kubelet's nodeLeaseDurationSeconds
LEASE_RENEW_SECONDS = 10.0  # a quarter of the duration, as the kubelet renews
STATUS_REPORT_SECONDS = 40.0  # heartbeat-only status writes at most this often
_SLACK = 0.5  # renew a little early rather than wake up a hair too soon, twice
_FIELD_MANAGER = "atoll-node"

# (type, reason when healthy, message when healthy) of the pressure conditions.
_PRESSURE = (
    ("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
    ("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    ("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
)
_READY = ("True", "KubeletReady", "kubelet is posting ready status")
_NOT_READY = ("False", "KubeletNotReady", "container runtime is down: the kubelet is off")


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _micro_stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def node_labels(node_name: str, host: HostInfo) -> dict[str, str]:
    """The labels a kubeadm 1.20 control-plane node carries (ROLES: control-plane,master)."""
    return {
        "beta.kubernetes.io/arch": host.architecture,
        "beta.kubernetes.io/os": "linux",
        "kubernetes.io/arch": host.architecture,
        "kubernetes.io/hostname": node_name,
        "kubernetes.io/os": "linux",
        "node-role.kubernetes.io/control-plane": "",
        "node-role.kubernetes.io/master": "",
    }


def desired_taints(current: list[dict[str, Any]], *, ready: bool) -> list[dict[str, Any]]:
    """``current`` with the not-ready NoSchedule taint added or removed; others untouched."""
    kept = [
        t
        for t in current
        if not (t.get("key") == NOT_READY_TAINT_KEY and t.get("effect") == "NoSchedule")
    ]
    if not ready:
        kept.append({"key": NOT_READY_TAINT_KEY, "effect": "NoSchedule"})
    return kept


def desired_conditions(
    previous: list[dict[str, Any]], *, ready: bool, now: datetime
) -> list[dict[str, Any]]:
    """The four kubelet conditions; a transition time moves only when the status does."""
    before = {c.get("type"): c for c in previous if isinstance(c, dict)}
    rows = [(kind, "False", reason, message) for kind, reason, message in _PRESSURE]
    rows.append(("Ready", *(_READY if ready else _NOT_READY)))
    conditions = []
    for kind, status, reason, message in rows:
        old = before.get(kind) or {}
        same = old.get("status") == status and old.get("lastTransitionTime")
        conditions.append(
            {
                "type": kind,
                "status": status,
                "lastHeartbeatTime": _stamp(now),
                "lastTransitionTime": old["lastTransitionTime"] if same else _stamp(now),
                "reason": reason,
                "message": message,
            }
        )
    return conditions


def _without_heartbeats(conditions: Any) -> list[dict[str, Any]]:
    if not isinstance(conditions, list):
        return []
    return [
        {k: v for k, v in c.items() if k != "lastHeartbeatTime"}
        for c in conditions
        if isinstance(c, dict)
    ]


def status_differs(current: dict[str, Any], desired: dict[str, Any]) -> bool:
    """True when ``desired`` says something ``current`` does not, heartbeats aside.

    Resource maps are compared on our keys only: extended resources others advertise stay.
    """
    for field, value in desired.items():
        have = current.get(field)
        if field == "conditions":
            if _without_heartbeats(have) != _without_heartbeats(value):
                return True
        elif field in ("capacity", "allocatable"):
            have = have if isinstance(have, dict) else {}
            if any(have.get(k) != v for k, v in value.items()):
                return True
        elif have != value:
            return True
    return False


def _ready_status(node: Object | None) -> str | None:
    for condition in ((node or {}).get("status") or {}).get("conditions") or ():
        if isinstance(condition, dict) and condition.get("type") == "Ready":
            return str(condition.get("status"))
    return None


@dataclass(slots=True)
class _Heartbeats:
    """When we last wrote each heartbeat: the cache may not have seen our write yet."""

    status: datetime | None = None
    lease: datetime | None = None


class NodeController:
    """Keeps ``Node/<node_name>`` and its Lease true to this machine; see the module doc."""

    name = "node"

    def __init__(self, options: ControllerOptions) -> None:
        self.node_name = options.node_name
        self.ready = options.kubelet
        self.kubelet_port = options.kubelet_port
        self._max_pods = options.max_pods
        self.clock: Clock = options.clock
        # ControllerOptions has no data directory yet: measure the filesystem we run from.
        self._storage_path: Path = getattr(options, "data_dir", None) or Path(".")
        self._host: HostInfo | None = None
        self._beats = _Heartbeats()
        self._ctx: ControllerContext | None = None
        self._nodes: Informer | None = None
        self._leases: Informer | None = None

    async def setup(self, ctx: ControllerContext) -> None:
        self._ctx = ctx
        self._host = await asyncio.to_thread(
            functools.partial(read_host_info, self._storage_path, max_pods=self._max_pods)
        )
        self._nodes = ctx.informers.informer(NODES)
        self._leases = ctx.informers.informer(LEASES, namespace=LEASE_NAMESPACE)
        for informer in (self._nodes, self._leases):
            informer.add_handler(
                on_add=self._enqueue_if_ours,
                on_update=lambda _old, new: self._enqueue_if_ours(new),
                on_delete=self._enqueue_if_ours,
            )
        ctx.queue.add(self.node_name)  # register even if no Node event ever comes

    def _enqueue_if_ours(self, obj: Object) -> None:
        if (obj.get("metadata") or {}).get("name") == self.node_name and self._ctx is not None:
            self._ctx.queue.add(self.node_name)

    async def reconcile(self, key: str) -> Result:
        if key != self.node_name:
            return Result()
        now = self.clock.now()
        node = await self._ensure_node(now)
        try:
            node = await self._ensure_spec(node)
        except Conflict:  # someone changed the Node since our cache saw it: look again
            return Result(requeue=True)
        await self._ensure_status(node, now)
        await self._ensure_lease(node, now)
        return Result(requeue_after=self._next_wake(now))

    # -- the Node ----------------------------------------------------------------------

    def _context(self) -> tuple[ControllerContext, HostInfo]:
        if self._ctx is None or self._host is None:
            raise RuntimeError("NodeController.reconcile before setup")
        return self._ctx, self._host

    def _desired_status(self, node: Object | None, now: datetime) -> dict[str, Any]:
        _, host = self._context()
        previous = ((node or {}).get("status") or {}).get("conditions") or []
        return {
            "capacity": host.capacity(),
            "allocatable": host.allocatable(),
            "conditions": desired_conditions(previous, ready=self.ready, now=now),
            "addresses": [
                {"type": "InternalIP", "address": "127.0.0.1"},
                {"type": "Hostname", "address": host.hostname},
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": self.kubelet_port}},
            "nodeInfo": host.node_info(),
        }

    async def _ensure_node(self, now: datetime) -> Object:
        """The cached Node, or a new one registered now (adopting one created meanwhile)."""
        ctx, host = self._context()
        assert self._nodes is not None
        cached = self._nodes.get(self.node_name)
        if cached is not None:
            return cached
        body = {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": self.node_name,
                "labels": node_labels(self.node_name, host),
                "annotations": {"node.alpha.kubernetes.io/ttl": "0"},
            },
            "spec": {"taints": desired_taints([], ready=self.ready)},
            "status": self._desired_status(None, now),
        }
        try:
            created = await ctx.client.create(NODES, body, field_manager=_FIELD_MANAGER)
        except AlreadyExists:  # someone registered it first (kubectl's test harness does)
            return await ctx.client.get(NODES, self.node_name)
        self._beats.status = now
        ctx.logger.info("registered node %s", self.node_name)
        message = f"Node {self.node_name} event: Registered Node {self.node_name} in Controller"
        await ctx.events.normal(self._event_subject(), "RegisteredNode", message=message)
        await self._record_readiness(None)
        return created

    async def _ensure_spec(self, node: Object) -> Object:
        """Add missing labels and set the readiness taint, keeping what others wrote."""
        ctx, host = self._context()
        meta = node.get("metadata") or {}
        labels = meta.get("labels") or {}
        missing = {k: v for k, v in node_labels(self.node_name, host).items() if k not in labels}
        taints = list((node.get("spec") or {}).get("taints") or [])
        wanted = desired_taints(taints, ready=self.ready)
        if not missing and wanted == taints:
            return node
        patch: dict[str, Any] = {"metadata": {"resourceVersion": meta.get("resourceVersion")}}
        if missing:
            patch["metadata"]["labels"] = missing
        if wanted != taints:
            patch["spec"] = {"taints": wanted or None}
        # The resourceVersion makes this a compare-and-swap: a taint kubectl adds meanwhile
        # fails it with Conflict, and the retry starts from the newer Node.
        return await ctx.client.patch(NODES, self.node_name, patch, field_manager=_FIELD_MANAGER)

    async def _ensure_status(self, node: Object, now: datetime) -> None:
        ctx, _ = self._context()
        current = node.get("status") or {}
        desired = self._desired_status(node, now)
        if not status_differs(current, desired) and not self._status_due(node, now):
            return
        await ctx.client.patch(
            NODES,
            self.node_name,
            {"status": desired},
            subresource="status",
            field_manager=_FIELD_MANAGER,
        )
        self._beats.status = now
        await self._record_readiness(_ready_status(node))

    def _event_subject(self) -> Object:
        """The Node as Events name it: the kubelet uses the node name as its uid, and
        ``kubectl describe node`` looks Events up that way."""
        return {
            "kind": "Node",
            "apiVersion": "v1",
            "metadata": {"name": self.node_name, "uid": self.node_name},
        }

    async def _record_readiness(self, before: str | None) -> None:
        """NodeReady / NodeNotReady when the Ready condition changes, as the kubelet says."""
        ctx, _ = self._context()
        after = _READY[0] if self.ready else _NOT_READY[0]
        if before == after:
            return
        word = "NodeReady" if self.ready else "NodeNotReady"
        message = f"Node {self.node_name} status is now: {word}"
        await ctx.events.normal(self._event_subject(), word, message=message)

    def _last_status_heartbeat(self, node: Object) -> datetime | None:
        stamps = [
            _parse_time(c.get("lastHeartbeatTime"))
            for c in (node.get("status") or {}).get("conditions") or ()
            if isinstance(c, dict) and c.get("type") == "Ready"
        ]
        known = [s for s in (*stamps, self._beats.status) if s is not None]
        return max(known) if known else None

    def _status_due(self, node: Object, now: datetime) -> bool:
        last = self._last_status_heartbeat(node)
        return last is None or (now - last).total_seconds() >= STATUS_REPORT_SECONDS - _SLACK

    # -- the Lease ---------------------------------------------------------------------

    def _lease_body(self, node: Object, now: datetime) -> dict[str, Any]:
        meta = node.get("metadata") or {}
        return {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {
                "name": self.node_name,
                "namespace": LEASE_NAMESPACE,
                "ownerReferences": [
                    {
                        "apiVersion": "v1",
                        "kind": "Node",
                        "name": self.node_name,
                        "uid": meta.get("uid", ""),
                    }
                ],
            },
            "spec": {
                "holderIdentity": self.node_name,
                "leaseDurationSeconds": LEASE_DURATION_SECONDS,
                "renewTime": _micro_stamp(now),
            },
        }

    async def _ensure_lease(self, node: Object, now: datetime) -> None:
        ctx, _ = self._context()
        assert self._leases is not None
        lease = self._leases.get(f"{LEASE_NAMESPACE}/{self.node_name}")
        body = self._lease_body(node, now)
        if lease is None:
            try:
                await ctx.client.create(LEASES, body, field_manager=_FIELD_MANAGER)
            except AlreadyExists:
                pass  # our cache lags; renew it instead
            else:
                self._beats.lease = now
                return
        elif not self._lease_due(lease, body, now):
            return
        patch = {"metadata": {"ownerReferences": body["metadata"]["ownerReferences"]}}
        patch["spec"] = body["spec"]
        await ctx.client.patch(
            LEASES,
            self.node_name,
            patch,
            namespace=LEASE_NAMESPACE,
            field_manager=_FIELD_MANAGER,
        )
        self._beats.lease = now

    def _lease_due(self, lease: Object, body: dict[str, Any], now: datetime) -> bool:
        spec = lease.get("spec") or {}
        wanted = body["spec"]
        if spec.get("holderIdentity") != wanted["holderIdentity"]:
            return True
        if spec.get("leaseDurationSeconds") != wanted["leaseDurationSeconds"]:
            return True
        owners = (lease.get("metadata") or {}).get("ownerReferences") or []
        if [o.get("uid") for o in owners] != [body["metadata"]["ownerReferences"][0]["uid"]]:
            return True
        last = self._last_lease_renewal(lease)
        return last is None or (now - last).total_seconds() >= LEASE_RENEW_SECONDS - _SLACK

    def _last_lease_renewal(self, lease: Object | None) -> datetime | None:
        renewed = _parse_time(((lease or {}).get("spec") or {}).get("renewTime"))
        known = [s for s in (renewed, self._beats.lease) if s is not None]
        return max(known) if known else None

    # -- timing ------------------------------------------------------------------------

    def _next_wake(self, now: datetime) -> float:
        """Seconds until the earlier of the next Lease renewal and the next status report."""
        assert self._nodes is not None and self._leases is not None
        lease = self._leases.get(f"{LEASE_NAMESPACE}/{self.node_name}")
        node = self._nodes.get(self.node_name) or {}
        renewed = self._last_lease_renewal(lease) or now
        reported = self._last_status_heartbeat(node) or now
        due = min(
            renewed + timedelta(seconds=LEASE_RENEW_SECONDS),
            reported + timedelta(seconds=STATUS_REPORT_SECONDS),
        )
        return max((due - now).total_seconds(), _SLACK)


CONTROLLERS: list[ControllerFactory] = [NodeController]
