"""API defaulting of the built-in kinds, as kube-apiserver 1.20 applies it on decode.

One function per kind, registered in :data:`DEFAULTERS` under ``(group, kind)``; each changes
the object in place and is idempotent, because the store applies it on every create and
update. Pod specs (Pods and workload templates) are defaulted by :mod:`.pod_defaults`.

Two defaults come from kube's create strategies rather than its defaulting functions, because
clients rely on them right after a create: a Job's generated ``controller-uid`` selector and
pod labels (this needs ``metadata.uid``, so the caller assigns the uid before defaulting), and
a Namespace's ``kubernetes`` finalizer. Secret ``stringData`` is merged into ``data`` here too,
as kube's v1 conversion does, so it is never stored.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from atoll.embedded.apiserver.builtins.pod_defaults import default_pod, default_pod_template

__all__ = ["DEFAULTERS"]

Obj = dict[str, Any]


def _sub(parent: Obj, key: str) -> Obj:
    """``parent[key]`` as a dict, created when missing or null."""
    value = parent.get(key)
    if not isinstance(value, dict):
        value = parent[key] = {}
    return value


def _dicts(parent: Any, key: str) -> list[Obj]:
    value = parent.get(key) if isinstance(parent, dict) else None
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _template_labels(spec: Obj) -> Any:
    template = spec.get("template")
    metadata = template.get("metadata") if isinstance(template, dict) else None
    return metadata.get("labels") if isinstance(metadata, dict) else None


def _deployment(obj: Obj) -> None:
    spec = _sub(obj, "spec")
    spec.setdefault("replicas", 1)
    strategy = _sub(spec, "strategy")
    if not strategy.get("type"):
        strategy["type"] = "RollingUpdate"
    if strategy["type"] == "RollingUpdate":
        rolling = _sub(strategy, "rollingUpdate")
        rolling.setdefault("maxUnavailable", "25%")
        rolling.setdefault("maxSurge", "25%")
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    default_pod_template(spec.get("template"))


def _replica_set(obj: Obj) -> None:
    spec = _sub(obj, "spec")
    spec.setdefault("replicas", 1)
    default_pod_template(spec.get("template"))


def _replication_controller(obj: Obj) -> None:
    spec = _sub(obj, "spec")
    labels = _template_labels(spec)
    if labels:
        if not spec.get("selector"):
            spec["selector"] = dict(labels)
        metadata = _sub(obj, "metadata")
        if not metadata.get("labels"):
            metadata["labels"] = dict(labels)
    spec.setdefault("replicas", 1)
    default_pod_template(spec.get("template"))


def _daemon_set(obj: Obj) -> None:
    spec = _sub(obj, "spec")
    strategy = _sub(spec, "updateStrategy")
    if not strategy.get("type"):
        strategy["type"] = "RollingUpdate"
    if strategy["type"] == "RollingUpdate":
        rolling = _sub(strategy, "rollingUpdate")
        rolling.setdefault("maxUnavailable", 1)
        rolling.setdefault("maxSurge", 0)
    spec.setdefault("revisionHistoryLimit", 10)
    default_pod_template(spec.get("template"))


def _stateful_set(obj: Obj) -> None:
    spec = _sub(obj, "spec")
    if not spec.get("podManagementPolicy"):
        spec["podManagementPolicy"] = "OrderedReady"
    strategy = _sub(spec, "updateStrategy")
    if not strategy.get("type"):
        strategy["type"] = "RollingUpdate"
        _sub(strategy, "rollingUpdate")
    rolling = strategy.get("rollingUpdate")
    if strategy["type"] == "RollingUpdate" and isinstance(rolling, dict):
        rolling.setdefault("partition", 0)
    spec.setdefault("replicas", 1)
    spec.setdefault("revisionHistoryLimit", 10)
    default_pod_template(spec.get("template"))
    for claim in _dicts(spec, "volumeClaimTemplates"):
        _persistent_volume_claim(claim)


def _job(obj: Obj) -> None:
    spec = _sub(obj, "spec")
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
    spec.setdefault("parallelism", 1)
    spec.setdefault("backoffLimit", 6)
    labels = _template_labels(spec)
    metadata = _sub(obj, "metadata")
    if labels and not metadata.get("labels"):
        metadata["labels"] = dict(labels)
    if spec.get("manualSelector") is not True:
        _generate_job_selector(metadata, spec)
    default_pod_template(spec.get("template"))


def _generate_job_selector(metadata: Obj, spec: Obj) -> None:
    """The job strategy's generateSelector: pods labelled with the Job's uid and name."""
    uid = metadata.get("uid")
    if not isinstance(uid, str) or not uid:
        return
    template_labels = _sub(_sub(spec, "template"), "metadata")
    labels = _sub(template_labels, "labels")
    labels.setdefault("controller-uid", uid)
    labels.setdefault("job-name", str(metadata.get("name") or ""))
    selector = _sub(spec, "selector")
    _sub(selector, "matchLabels").setdefault("controller-uid", uid)


def _cron_job(obj: Obj) -> None:
    spec = _sub(obj, "spec")
    if not spec.get("concurrencyPolicy"):
        spec["concurrencyPolicy"] = "Allow"
    spec.setdefault("suspend", False)
    spec.setdefault("successfulJobsHistoryLimit", 3)
    spec.setdefault("failedJobsHistoryLimit", 1)
    job_template = spec.get("jobTemplate")
    if isinstance(job_template, dict) and isinstance(job_template.get("spec"), dict):
        default_pod_template(job_template["spec"].get("template"))


def _pod_template(obj: Obj) -> None:
    default_pod_template(obj.get("template"))


def _service(obj: Obj) -> None:
    spec = _sub(obj, "spec")
    if not spec.get("sessionAffinity"):
        spec["sessionAffinity"] = "None"
    if spec["sessionAffinity"] == "None":
        spec.pop("sessionAffinityConfig", None)
    elif spec["sessionAffinity"] == "ClientIP":
        client_ip = _sub(_sub(spec, "sessionAffinityConfig"), "clientIP")
        client_ip.setdefault("timeoutSeconds", 10800)
    if not spec.get("type"):
        spec["type"] = "ClusterIP"
    for port in _dicts(spec, "ports"):
        if not port.get("protocol"):
            port["protocol"] = "TCP"
        if port.get("targetPort") in (None, 0, ""):
            port["targetPort"] = port.get("port")
    if spec["type"] in ("NodePort", "LoadBalancer") and not spec.get("externalTrafficPolicy"):
        spec["externalTrafficPolicy"] = "Cluster"


def _secret(obj: Obj) -> None:
    if not obj.get("type"):
        obj["type"] = "Opaque"
    string_data = obj.pop("stringData", None)
    if isinstance(string_data, dict) and string_data:
        data = _sub(obj, "data")
        for key, value in string_data.items():
            data[key] = base64.b64encode(str(value).encode()).decode()


def _namespace(obj: Obj) -> None:
    spec = _sub(obj, "spec")
    if "finalizers" not in spec:
        spec["finalizers"] = ["kubernetes"]
    status = _sub(obj, "status")
    if not status.get("phase"):
        status["phase"] = "Active"


def _persistent_volume_claim(obj: Obj) -> None:
    spec = _sub(obj, "spec")
    if not spec.get("volumeMode"):
        spec["volumeMode"] = "Filesystem"
    status = _sub(obj, "status")
    if not status.get("phase"):
        status["phase"] = "Pending"


def _persistent_volume(obj: Obj) -> None:
    spec = _sub(obj, "spec")
    if not spec.get("persistentVolumeReclaimPolicy"):
        spec["persistentVolumeReclaimPolicy"] = "Retain"
    if not spec.get("volumeMode"):
        spec["volumeMode"] = "Filesystem"
    status = _sub(obj, "status")
    if not status.get("phase"):
        status["phase"] = "Pending"


def _node(obj: Obj) -> None:
    status = obj.get("status")
    if isinstance(status, dict) and status.get("allocatable") is None:
        capacity = status.get("capacity")
        if isinstance(capacity, dict):
            status["allocatable"] = dict(capacity)


def _endpoints(obj: Obj) -> None:
    for subset in _dicts(obj, "subsets"):
        for port in _dicts(subset, "ports"):
            if not port.get("protocol"):
                port["protocol"] = "TCP"


def _endpoint_slice(obj: Obj) -> None:
    for port in _dicts(obj, "ports"):
        port.setdefault("name", "")
        if not port.get("protocol"):
            port["protocol"] = "TCP"


def _limit_range(obj: Obj) -> None:
    spec = obj.get("spec")
    for item in _dicts(spec, "limits"):
        if item.get("type") != "Container":
            continue
        default = dict(item.get("default") or {})
        request = dict(item.get("defaultRequest") or {})
        for key, value in (item.get("max") or {}).items():
            default.setdefault(key, value)
        for key, value in default.items():
            request.setdefault(key, value)
        for key, value in (item.get("min") or {}).items():
            request.setdefault(key, value)
        if default:
            item["default"] = default
        if request:
            item["defaultRequest"] = request


def _network_policy(obj: Obj) -> None:
    spec = _sub(obj, "spec")
    for rule in (*_dicts(spec, "ingress"), *_dicts(spec, "egress")):
        for port in _dicts(rule, "ports"):
            if not port.get("protocol"):
                port["protocol"] = "TCP"
    if not spec.get("policyTypes"):
        spec["policyTypes"] = ["Ingress", "Egress"] if spec.get("egress") else ["Ingress"]


def _ingress(obj: Obj) -> None:
    if str(obj.get("apiVersion", "")).endswith("/v1"):
        return  # networking.k8s.io/v1 requires pathType instead of defaulting it
    for rule in _dicts(obj.get("spec"), "rules"):
        for path in _dicts(rule.get("http"), "paths"):
            if not path.get("pathType"):
                path["pathType"] = "ImplementationSpecific"


def _storage_class(obj: Obj) -> None:
    if not obj.get("reclaimPolicy"):
        obj["reclaimPolicy"] = "Delete"
    if not obj.get("volumeBindingMode"):
        obj["volumeBindingMode"] = "Immediate"


def _priority_class(obj: Obj) -> None:
    if not obj.get("preemptionPolicy"):
        obj["preemptionPolicy"] = "PreemptLowerPriority"


def _role_binding(obj: Obj) -> None:
    role_ref = obj.get("roleRef")
    if isinstance(role_ref, dict) and not role_ref.get("apiGroup"):
        role_ref["apiGroup"] = "rbac.authorization.k8s.io"
    for subject in _dicts(obj, "subjects"):
        if subject.get("apiGroup"):
            continue
        if subject.get("kind") == "ServiceAccount":
            subject["apiGroup"] = ""
        elif subject.get("kind") in ("User", "Group"):
            subject["apiGroup"] = "rbac.authorization.k8s.io"


def _scale_up_rules() -> Obj:
    return {
        "stabilizationWindowSeconds": 0,
        "selectPolicy": "Max",
        "policies": [
            {"type": "Pods", "value": 4, "periodSeconds": 15},
            {"type": "Percent", "value": 100, "periodSeconds": 15},
        ],
    }


def _scale_down_rules() -> Obj:
    return {
        "selectPolicy": "Max",
        "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}],
    }


def _horizontal_pod_autoscaler(obj: Obj) -> None:
    spec = _sub(obj, "spec")
    spec.setdefault("minReplicas", 1)
    version = str(obj.get("apiVersion", "autoscaling/v1")).rsplit("/", 1)[-1]
    if version == "v1":
        return
    if not spec.get("metrics"):
        resource: Obj = {"name": "cpu"}
        if version == "v2beta1":
            resource["targetAverageUtilization"] = 80
        else:
            resource["target"] = {"type": "Utilization", "averageUtilization": 80}
        spec["metrics"] = [{"type": "Resource", "resource": resource}]
    behavior = spec.get("behavior")
    if isinstance(behavior, dict):
        for key, rules in (("scaleUp", _scale_up_rules()), ("scaleDown", _scale_down_rules())):
            current = behavior.get(key)
            if not isinstance(current, dict):
                behavior[key] = rules
                continue
            for field, value in rules.items():
                if current.get(field) is None:
                    current[field] = value


DEFAULTERS: dict[tuple[str, str], Callable[[Obj], None]] = {
    ("", "Pod"): default_pod,
    ("", "PodTemplate"): _pod_template,
    ("", "ReplicationController"): _replication_controller,
    ("", "Service"): _service,
    ("", "Secret"): _secret,
    ("", "Namespace"): _namespace,
    ("", "PersistentVolumeClaim"): _persistent_volume_claim,
    ("", "PersistentVolume"): _persistent_volume,
    ("", "Node"): _node,
    ("", "Endpoints"): _endpoints,
    ("", "LimitRange"): _limit_range,
    ("apps", "Deployment"): _deployment,
    ("apps", "ReplicaSet"): _replica_set,
    ("apps", "DaemonSet"): _daemon_set,
    ("apps", "StatefulSet"): _stateful_set,
    ("batch", "Job"): _job,
    ("batch", "CronJob"): _cron_job,
    ("autoscaling", "HorizontalPodAutoscaler"): _horizontal_pod_autoscaler,
    ("networking.k8s.io", "NetworkPolicy"): _network_policy,
    ("networking.k8s.io", "Ingress"): _ingress,
    ("extensions", "Ingress"): _ingress,
    ("discovery.k8s.io", "EndpointSlice"): _endpoint_slice,
    ("storage.k8s.io", "StorageClass"): _storage_class,
    ("scheduling.k8s.io", "PriorityClass"): _priority_class,
    ("rbac.authorization.k8s.io", "RoleBinding"): _role_binding,
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"): _role_binding,
}
