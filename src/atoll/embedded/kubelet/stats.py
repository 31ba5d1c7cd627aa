"""The kubelet's resource usage, presented three ways from one snapshot.

The kubelet collects a :class:`NodeSnapshot` (readings from :mod:`.cadvisor`, CPU rates from
its :class:`RateTracker`, names and limits from the pod specs) and serves it as:

- :func:`summary` — ``/stats/summary``, the shape of ``k8s.io/kubelet/pkg/apis/stats/v1alpha1``
  (``Summary{node, pods}``): what metrics-server, the eviction manager and monitoring agents read;
- :func:`pod_metrics` / :func:`node_metrics` — ``metrics.k8s.io/v1beta1`` objects as
  metrics-server returns them (for ``kubectl top`` and the HPA): CPU in nanocores and memory
  (the working set) as canonical quantities (``"1234567n"``, ``"1m"``, ``"53248Ki"``), the
  timestamp of the newer reading and the window between the two readings;
- :func:`cadvisor_text` — Prometheus text as a kubelet's ``/metrics/cadvisor`` serves it:
  cAdvisor's metric names, the kubelet's label set (``container, id, image, name, namespace,
  pod``), a pod-level series per pod (``container=""``), the machine root (``id="/"``) and
  ``machine_*`` gauges; samples carry their reading's timestamp, as cAdvisor's do.

All of these are pure functions of the snapshot; the readings and the rate tracker are in
:mod:`.cadvisor`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from ...kube.quantities import canonical_quantity
from ..hostinfo import HostInfo
from .cadvisor import CpuRate, Filesystem, Usage

__all__ = [
    "METRICS_GROUP_VERSION",
    "ContainerSnapshot",
    "NodeSnapshot",
    "PodSnapshot",
    "cadvisor_text",
    "go_duration",
    "metrics_list",
    "node_metrics",
    "pod_metrics",
    "summary",
]

Object = dict[str, Any]

METRICS_GROUP_VERSION = "metrics.k8s.io/v1beta1"
_CPU_PERIOD = 100_000  # µs, the kubelet's CFS period


@dataclass(frozen=True, slots=True, kw_only=True)
class ContainerSnapshot:
    """One running container: its latest reading and what its spec says."""

    name: str
    usage: Usage
    start_time: datetime
    container_id: str = ""  # "<runtime>://<id>", as containerStatuses show it
    image: str = ""
    cpu_rate: CpuRate | None = None
    logs_used: int | None = None  # bytes of its log files
    memory_limit: int | None = None  # bytes
    cpu_limit_millis: int | None = None
    cpu_request_millis: int | None = None
    cgroup: str = ""  # cAdvisor's "id" label; "" → /kubepods/pod<uid>/<id>


@dataclass(frozen=True, slots=True, kw_only=True)
class PodSnapshot:
    """One pod. Without a pod-level reading, its usage is the sum of its containers'."""

    namespace: str
    name: str
    uid: str
    start_time: datetime
    containers: tuple[ContainerSnapshot, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    usage: Usage | None = None  # the pod cgroup's, when there is one
    cpu_rate: CpuRate | None = None
    cgroup: str = ""  # "" → /kubepods/pod<uid>


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeSnapshot:
    """The node: the machine's reading, its facts and filesystems, and every pod."""

    node_name: str
    host: HostInfo
    usage: Usage
    start_time: datetime  # boot time
    cpu_rate: CpuRate | None = None
    fs: Filesystem | None = None  # holding the kubelet's directory (and logs)
    image_fs: Filesystem | None = None  # holding images and writable layers
    images_used: int | None = None  # bytes of images on image_fs
    pods: tuple[PodSnapshot, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)


# -- /stats/summary ---------------------------------------------------------------------


def summary(snapshot: NodeSnapshot) -> Object:
    """``/stats/summary``: ``{"node": NodeStats, "pods": [PodStats]}``."""
    usage = snapshot.usage
    node: Object = {
        "nodeName": snapshot.node_name,
        "startTime": _time(snapshot.start_time),
        "cpu": _cpu_stats(usage, snapshot.cpu_rate),
        "memory": _memory_stats(usage, limit=snapshot.host.memory_bytes),
    }
    if snapshot.fs is not None:
        node["fs"] = _fs_stats(snapshot.fs, snapshot.fs.used, usage.timestamp, node_level=True)
    if snapshot.image_fs is not None and snapshot.images_used is not None:
        image_fs = _fs_stats(snapshot.image_fs, snapshot.images_used, usage.timestamp)
        node["runtime"] = {"imageFs": image_fs}
    return {"node": node, "pods": [_pod_stats(pod, snapshot) for pod in snapshot.pods]}


def _pod_stats(pod: PodSnapshot, node: NodeSnapshot) -> Object:
    stats: Object = {
        "podRef": {"name": pod.name, "namespace": pod.namespace, "uid": pod.uid},
        "startTime": _time(pod.start_time),
        "containers": [_container_stats(container, node) for container in pod.containers],
    }
    usage = _pod_usage(pod)
    if usage is not None:
        stats["cpu"] = _cpu_stats(usage, _pod_rate(pod))
        stats["memory"] = _memory_stats(usage, limit=_pod_memory_limit(pod))
        stats["process_stats"] = {"process_count": usage.processes}
    used = [
        amount
        for container in pod.containers
        for amount in (container.usage.fs_used, container.logs_used)
        if amount is not None
    ]
    if used and usage is not None:
        fs = node.fs or node.image_fs
        stats["ephemeral-storage"] = _fs_stats(fs, sum(used), usage.timestamp)
    return stats


def _container_stats(container: ContainerSnapshot, node: NodeSnapshot) -> Object:
    usage = container.usage
    stats: Object = {
        "name": container.name,
        "startTime": _time(container.start_time),
        "cpu": _cpu_stats(usage, container.cpu_rate),
        "memory": _memory_stats(usage, limit=container.memory_limit),
    }
    if usage.fs_used is not None:
        stats["rootfs"] = _fs_stats(node.image_fs or node.fs, usage.fs_used, usage.timestamp)
    if container.logs_used is not None:
        stats["logs"] = _fs_stats(node.fs or node.image_fs, container.logs_used, usage.timestamp)
    return stats


def _cpu_stats(usage: Usage, rate: CpuRate | None) -> Object:
    stats: Object = {"time": _time(usage.timestamp)}
    if rate is not None:
        stats["usageNanoCores"] = max(rate.nano_cores, 0)
    stats["usageCoreNanoSeconds"] = round(usage.cpu_seconds * 1e9)
    return stats


def _memory_stats(usage: Usage, *, limit: int | None) -> Object:
    """``availableBytes`` is limit − working set, and only where there is a limit."""
    stats: Object = {"time": _time(usage.timestamp)}
    if limit:
        stats["availableBytes"] = max(limit - usage.memory_working_set, 0)
    stats["usageBytes"] = usage.memory_usage
    stats["workingSetBytes"] = usage.memory_working_set
    stats["rssBytes"] = usage.memory_rss
    return stats


def _fs_stats(
    fs: Filesystem | None, used: int, at: datetime, *, node_level: bool = False
) -> Object:
    stats: Object = {"time": _time(at)}
    if fs is not None:
        stats["availableBytes"] = fs.available
        stats["capacityBytes"] = fs.capacity
    stats["usedBytes"] = used
    if fs is not None:
        stats["inodesFree"] = fs.inodes_free
        stats["inodes"] = fs.inodes
        if node_level:
            stats["inodesUsed"] = fs.inodes - fs.inodes_free
    return stats


def _pod_usage(pod: PodSnapshot) -> Usage | None:
    """The pod cgroup's reading, else the containers' sum (whose CPU counter drops when a
    container restarts and its own counter starts again; a pod cgroup's does not)."""
    if pod.usage is not None or not pod.containers:
        return pod.usage
    usages = [container.usage for container in pod.containers]
    fs = [usage.fs_used for usage in usages if usage.fs_used is not None]
    return Usage(
        timestamp=max(usage.timestamp for usage in usages),
        cpu_seconds=sum(usage.cpu_seconds for usage in usages),
        memory_working_set=sum(usage.memory_working_set for usage in usages),
        memory_rss=sum(usage.memory_rss for usage in usages),
        memory_usage=sum(usage.memory_usage for usage in usages),
        fs_used=sum(fs) if fs else None,
        processes=sum(usage.processes for usage in usages),
    )


def _pod_rate(pod: PodSnapshot) -> CpuRate | None:
    rates = [container.cpu_rate for container in pod.containers]
    if pod.cpu_rate is not None or not rates or None in rates:
        return pod.cpu_rate
    known = [rate for rate in rates if rate is not None]
    return CpuRate(
        nano_cores=sum(rate.nano_cores for rate in known),
        window=max(rate.window for rate in known),
        timestamp=min(rate.timestamp for rate in known),
    )


def _pod_memory_limit(pod: PodSnapshot) -> int | None:
    """The pod cgroup's limit: the sum of its containers', if every one has one."""
    limits = [container.memory_limit for container in pod.containers]
    if not limits or None in limits:
        return None
    return sum(limit for limit in limits if limit is not None)


# -- metrics.k8s.io ---------------------------------------------------------------------


def pod_metrics(
    snapshot: NodeSnapshot, window: timedelta | None = None, *, now: datetime | None = None
) -> list[Object]:
    """A ``PodMetrics`` per pod whose every container has a CPU rate (as metrics-server).

    ``timestamp`` and ``window`` are those of the earliest container reading, unless
    ``window`` is given.
    """
    created = _time(now or datetime.now(UTC))
    items: list[Object] = []
    for pod in snapshot.pods:
        rates = [container.cpu_rate for container in pod.containers]
        known = [rate for rate in rates if rate is not None]
        if not known or len(known) < len(rates):
            continue  # no window yet for some container: metrics-server skips the pod
        earliest = min(known, key=lambda rate: rate.timestamp)
        containers = [
            {"name": container.name, "usage": _resource_usage(rate, container.usage)}
            for container, rate in zip(pod.containers, known, strict=True)
        ]
        items.append(
            {
                "kind": "PodMetrics",
                "apiVersion": METRICS_GROUP_VERSION,
                "metadata": _metadata(pod.name, pod.namespace, pod.labels, created),
                "timestamp": _time(earliest.timestamp),
                "window": go_duration(window or earliest.window),
                "containers": containers,
            }
        )
    return items


def node_metrics(
    snapshot: NodeSnapshot, window: timedelta | None = None, *, now: datetime | None = None
) -> Object | None:
    """The node's ``NodeMetrics``; None until the node has a CPU rate."""
    rate = snapshot.cpu_rate
    if rate is None:
        return None
    created = _time(now or datetime.now(UTC))
    return {
        "kind": "NodeMetrics",
        "apiVersion": METRICS_GROUP_VERSION,
        "metadata": _metadata(snapshot.node_name, None, snapshot.labels, created),
        "timestamp": _time(rate.timestamp),
        "window": go_duration(window or rate.window),
        "usage": _resource_usage(rate, snapshot.usage),
    }


def metrics_list(
    kind: Literal["PodMetricsList", "NodeMetricsList"], items: Sequence[Object]
) -> Object:
    """A list of metrics objects; items carry no kind/apiVersion, as in any typed list."""
    stripped = [
        {k: v for k, v in item.items() if k not in ("kind", "apiVersion")} for item in items
    ]
    return {"kind": kind, "apiVersion": METRICS_GROUP_VERSION, "metadata": {}, "items": stripped}


def _metadata(name: str, namespace: str | None, labels: Mapping[str, str], created: str) -> Object:
    metadata: Object = {"name": name}
    if namespace is not None:
        metadata["namespace"] = namespace
    metadata["creationTimestamp"] = created
    if labels:
        metadata["labels"] = dict(labels)
    return metadata


def _resource_usage(rate: CpuRate, usage: Usage) -> dict[str, str]:
    """CPU as a nanocore quantity (DecimalSI), memory as bytes (BinarySI), canonical."""
    memory = usage.memory_working_set
    return {
        "cpu": canonical_quantity(f"{max(rate.nano_cores, 0)}n"),
        "memory": canonical_quantity(f"{memory // 1024}Ki") if memory % 1024 == 0 else str(memory),
    }


def go_duration(span: timedelta) -> str:
    """Go's ``time.Duration.String()``: ``15s``, ``10.5s``, ``1m0s``, ``1h2m3s``, ``500ms``."""
    ns = ((span.days * 86_400 + span.seconds) * 1_000_000 + span.microseconds) * 1_000
    sign, ns = ("-" if ns < 0 else ""), abs(ns)
    if ns == 0:
        return "0s"
    if ns < 1_000_000_000:
        unit, size = next((u, s) for u, s in (("ms", 10**6), ("µs", 10**3), ("ns", 1)) if ns >= s)
        return sign + _decimal(ns, size) + unit
    hours, rest = divmod(ns, 3_600 * 10**9)
    minutes, rest = divmod(rest, 60 * 10**9)
    text = _decimal(rest, 10**9) + "s"
    if hours:
        return f"{sign}{hours}h{minutes}m{text}"
    return f"{sign}{minutes}m{text}" if minutes else sign + text


def _decimal(value: int, size: int) -> str:
    whole, fraction = divmod(value, size)
    digits = f"{fraction:0{len(str(size)) - 1}d}".rstrip("0") if size > 1 else ""
    return f"{whole}.{digits}" if digits else str(whole)


def _time(moment: datetime) -> str:
    """``metav1.Time``: RFC 3339 in UTC, whole seconds."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- /metrics/cadvisor ------------------------------------------------------------------

_FAMILIES: dict[str, tuple[str, str]] = {
    "container_cpu_usage_seconds_total": ("counter", "Cumulative cpu time consumed in seconds."),
    "container_fs_usage_bytes": (
        "gauge",
        "Number of bytes that are consumed by the container on this filesystem.",
    ),
    "container_memory_rss": ("gauge", "Size of RSS in bytes."),
    "container_memory_usage_bytes": (
        "gauge",
        "Current memory usage in bytes, including all memory regardless of when it was accessed",
    ),
    "container_memory_working_set_bytes": ("gauge", "Current working set in bytes."),
    "container_processes": ("gauge", "Number of processes running inside the container."),
    "container_spec_cpu_period": ("gauge", "CPU period of the container."),
    "container_spec_cpu_quota": ("gauge", "CPU quota of the container."),
    "container_spec_cpu_shares": ("gauge", "CPU share of the container."),
    "container_spec_memory_limit_bytes": ("gauge", "Memory limit for the container."),
    "container_start_time_seconds": (
        "gauge",
        "Start time of the container since unix epoch in seconds.",
    ),
    "machine_cpu_cores": ("gauge", "Number of logical CPU cores."),
    "machine_memory_bytes": ("gauge", "Amount of memory installed on the machine."),
}

_Sample = tuple[str, dict[str, str], float, int | None]  # family, labels, value, timestamp ms


@dataclass(frozen=True, slots=True)
class _Spec:
    memory_limit: int | None
    cpu_limit_millis: int | None
    cpu_request_millis: int | None


def cadvisor_text(snapshot: NodeSnapshot) -> str:
    """``/metrics/cadvisor`` in the Prometheus text format (version 0.0.4)."""
    samples = _machine_samples(snapshot)
    root = _labels(id="/")
    samples += _usage_samples(root, snapshot.usage, snapshot.start_time)
    for fs in {f.device: f for f in (snapshot.fs, snapshot.image_fs) if f is not None}.values():
        samples.append(("container_fs_usage_bytes", {**root, "device": fs.device}, fs.used, None))
    for pod in snapshot.pods:
        samples += _pod_samples(pod, snapshot)
    return _exposition(samples)


def _pod_samples(pod: PodSnapshot, node: NodeSnapshot) -> list[_Sample]:
    samples: list[_Sample] = []
    pod_id = pod.cgroup or f"/kubepods/pod{pod.uid}"
    pod_labels = _labels(id=pod_id, namespace=pod.namespace, pod=pod.name)
    usage = _pod_usage(pod)
    if usage is not None:
        requests = [c.cpu_request_millis or 0 for c in pod.containers]
        limits = [c.cpu_limit_millis for c in pod.containers]
        cpu_limit = None if None in limits else sum(limit or 0 for limit in limits)
        spec = _Spec(_pod_memory_limit(pod), cpu_limit, sum(requests))
        samples += _usage_samples(pod_labels, usage, pod.start_time, spec)
    device = next((fs.device for fs in (node.image_fs, node.fs) if fs is not None), "")
    for container in pod.containers:
        runtime_id = container.container_id.partition("://")[2] or container.container_id
        labels = {
            **pod_labels,
            "container": container.name,
            "id": container.cgroup or f"{pod_id}/{runtime_id}",
            "image": container.image,
            "name": runtime_id,
        }
        spec = _Spec(
            container.memory_limit, container.cpu_limit_millis, container.cpu_request_millis
        )
        samples += _usage_samples(labels, container.usage, container.start_time, spec, device)
    return samples


def _usage_samples(
    labels: dict[str, str],
    usage: Usage,
    started: datetime,
    spec: _Spec | None = None,
    device: str = "",
) -> list[_Sample]:
    at = round(usage.timestamp.timestamp() * 1000)
    samples: list[_Sample] = [
        ("container_memory_rss", labels, usage.memory_rss, at),
        ("container_memory_usage_bytes", labels, usage.memory_usage, at),
        ("container_memory_working_set_bytes", labels, usage.memory_working_set, at),
        ("container_processes", labels, usage.processes, at),
        ("container_start_time_seconds", labels, started.timestamp(), None),
    ]
    if usage.cpu_seconds > 0:  # cAdvisor leaves a zero counter out
        cpu_labels = {**labels, "cpu": "total"}
        samples.append(("container_cpu_usage_seconds_total", cpu_labels, usage.cpu_seconds, at))
    if usage.fs_used is not None:
        fs_labels = {**labels, "device": device}
        samples.append(("container_fs_usage_bytes", fs_labels, usage.fs_used, at))
    if spec is not None:
        samples += _spec_samples(labels, spec)
    return samples


def _spec_samples(labels: dict[str, str], spec: _Spec) -> list[_Sample]:
    """As the kubelet sets the cgroup: shares from requests, quota from limits (0: none)."""
    shares = max((spec.cpu_request_millis or 0) * 1024 // 1000, 2)
    samples: list[_Sample] = [
        ("container_spec_cpu_period", labels, _CPU_PERIOD, None),
        ("container_spec_cpu_shares", labels, shares, None),
        ("container_spec_memory_limit_bytes", labels, spec.memory_limit or 0, None),
    ]
    if spec.cpu_limit_millis:
        quota = max(spec.cpu_limit_millis * _CPU_PERIOD // 1000, 1000)
        samples.append(("container_spec_cpu_quota", labels, quota, None))
    return samples


def _machine_samples(snapshot: NodeSnapshot) -> list[_Sample]:
    host = snapshot.host
    labels = {
        "boot_id": host.boot_id,
        "machine_id": host.machine_id,
        "system_uuid": host.system_uuid,
    }
    return [
        ("machine_cpu_cores", labels, host.cpus, None),
        ("machine_memory_bytes", labels, host.memory_bytes, None),
    ]


def _labels(*, id: str, namespace: str = "", pod: str = "") -> dict[str, str]:
    """The kubelet's cAdvisor label set, blank where it does not apply."""
    return {"container": "", "id": id, "image": "", "name": "", "namespace": namespace, "pod": pod}


def _exposition(samples: Sequence[_Sample]) -> str:
    """Families sorted by name, samples by label values, as client_golang writes them."""
    by_family: dict[str, list[_Sample]] = {}
    for sample in samples:
        by_family.setdefault(sample[0], []).append(sample)
    lines: list[str] = []
    for name in sorted(by_family):
        kind, help_text = _FAMILIES[name]
        lines += [f"# HELP {name} {_escape_help(help_text)}", f"# TYPE {name} {kind}"]
        rows = sorted(by_family[name], key=lambda s: [s[1][k] for k in sorted(s[1])])
        for _, labels, value, at in rows:
            pairs = ",".join(f'{k}="{_escape_label(labels[k])}"' for k in sorted(labels))
            stamp = "" if at is None else f" {at}"
            lines.append(f"{name}{{{pairs}}} {_go_float(float(value))}{stamp}")
    return "\n".join(lines) + "\n" if lines else ""


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _go_float(value: float) -> str:
    """Go's ``strconv.FormatFloat(v, 'g', -1, 64)``, as Prometheus' text writer uses it."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "0"
    sign, digits, exponent = Decimal(repr(value)).normalize().as_tuple()
    assert isinstance(exponent, int)
    text = "".join(map(str, digits))
    point = len(text) + exponent  # digits before the decimal point
    prefix = "-" if sign else ""
    scientific = point - 1 < -4 or point - 1 >= 6  # shortest 'g' switches at exponent 6
    if scientific:
        mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
        power = point - 1
        return f"{prefix}{mantissa}e{'-' if power < 0 else '+'}{abs(power):02d}"
    if point <= 0:
        return f"{prefix}0.{'0' * -point}{text}"
    if point >= len(text):
        return prefix + text + "0" * (point - len(text))
    return f"{prefix}{text[:point]}.{text[point:]}"
