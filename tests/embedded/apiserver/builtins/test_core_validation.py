"""ConfigMap, Secret, Namespace, quota, limit range, Event, Node, Lease, PriorityClass."""

from __future__ import annotations

import base64
from typing import Any

from atoll.embedded.apiserver.builtins import default, validate


def _messages(
    kind: str, obj: dict[str, Any], old: dict[str, Any] | None = None, *, group: str = ""
) -> list[str]:
    default(group, kind, obj)
    if old is not None:
        default(group, kind, old)
    return [str(e) for e in validate(group, kind, obj, old, namespaced=True)]


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_config_map_keys_and_size() -> None:
    assert _messages("ConfigMap", {"data": {"app.properties": "x", "KEY_1": "y"}}) == []
    messages = _messages(
        "ConfigMap", {"data": {"bad key": "x", "k": "v"}, "binaryData": {"k": "eA=="}}
    )
    assert messages[0].startswith(
        'data[bad key]: Invalid value: "bad key": a valid config key must consist of alphanumeric'
    )
    assert messages[1] == 'data[k]: Invalid value: "k": duplicate of key present in binaryData'
    assert _messages("ConfigMap", {"data": {"a": "x" * (1024 * 1024 + 1)}}) == [
        "Too long: must have at most 1048576 bytes"
    ]


def test_immutable_config_map() -> None:
    old = {"immutable": True, "data": {"a": "1"}}
    assert _messages("ConfigMap", {"immutable": True, "data": {"a": "1"}}, old) == []
    assert _messages("ConfigMap", {"data": {"a": "2"}}, old) == [
        "immutable: Forbidden: field is immutable when `immutable` is set",
        "data: Forbidden: field is immutable when `immutable` is set",
    ]


def test_secret_types() -> None:
    assert _messages("Secret", {"type": "kubernetes.io/tls", "data": {"tls.crt": _b64("c")}}) == [
        "data[tls.key]: Required value"
    ]
    assert _messages("Secret", {"type": "kubernetes.io/dockerconfigjson", "data": {}}) == [
        "data[.dockerconfigjson]: Required value"
    ]
    bad_json = {"type": "kubernetes.io/dockerconfigjson", "data": {".dockerconfigjson": _b64("{")}}
    assert _messages("Secret", bad_json) == [
        'data[.dockerconfigjson]: Invalid value: "<secret contents redacted>": unexpected end of '
        "JSON input"
    ]
    good = {
        "type": "kubernetes.io/dockerconfigjson",
        "data": {".dockerconfigjson": _b64('{"auths": {}}')},
    }
    assert _messages("Secret", good) == []
    assert _messages("Secret", {"type": "kubernetes.io/service-account-token"}) == [
        "metadata.annotations[kubernetes.io/service-account.name]: Required value"
    ]
    assert _messages("Secret", {"type": "kubernetes.io/basic-auth", "data": {}}) == [
        "data[%s][username]: Required value",
        "data[%s][password]: Required value",
    ]


def test_secret_updates() -> None:
    old = {"type": "Opaque", "data": {"a": _b64("1")}, "immutable": True}
    new = {"type": "kubernetes.io/tls", "data": {"a": _b64("2")}, "immutable": True}
    assert _messages("Secret", new, old) == [
        'type: Invalid value: "kubernetes.io/tls": field is immutable',
        "data: Forbidden: field is immutable when `immutable` is set",
        "data[tls.crt]: Required value",
        "data[tls.key]: Required value",
    ]


def test_string_data_merges_before_validation() -> None:
    secret = {"type": "kubernetes.io/tls", "stringData": {"tls.crt": "c", "tls.key": "k"}}
    assert _messages("Secret", secret) == []


def test_namespace_finalizers() -> None:
    assert _messages("Namespace", {"metadata": {"name": "team"}}) == []
    messages = _messages("Namespace", {"spec": {"finalizers": ["custom"]}})
    assert messages == [
        'spec.finalizers: Invalid value: "custom": name is neither a standard finalizer name '
        "nor is it fully qualified"
    ]


def test_resource_quota() -> None:
    quota = {"spec": {"hard": {"pods": "10", "requests.cpu": "4", "limits.memory": "8Gi"}}}
    assert _messages("ResourceQuota", quota) == []
    bad = {
        "spec": {
            "hard": {"pods": "1.5", "cpu": "-1", "widgets": "1", "memory": "lots"},
            "scopes": ["Old"],
        }
    }
    assert _messages("ResourceQuota", bad) == [
        'spec.hard[cpu]: Invalid value: "-1": must be greater than or equal to 0',
        'spec.hard[memory]: Invalid value: "lots": must be a valid quantity',
        'spec.hard[pods]: Invalid value: "1500m": must be an integer',
        'spec.hard[widgets]: Invalid value: "widgets": must be a standard resource for quota',
        'spec.scopes[0]: Unsupported value: "Old": supported values: "BestEffort", '
        '"NotBestEffort", "NotTerminating", "PriorityClass", "Terminating"',
    ]


def test_limit_range() -> None:
    good = {
        "spec": {"limits": [{"type": "Container", "min": {"cpu": "100m"}, "max": {"cpu": "2"}}]}
    }
    assert _messages("LimitRange", good) == []
    bad = {
        "spec": {
            "limits": [
                {
                    "type": "Container",
                    "min": {"cpu": "2"},
                    "max": {"cpu": "1"},
                    "default": {"cpu": "1"},
                },
                {"type": "Pod", "default": {"cpu": "1"}, "maxLimitRequestRatio": {"cpu": "500m"}},
            ]
        }
    }
    assert _messages("LimitRange", bad) == [
        "spec.limits[0].min[cpu]: Invalid value: 2: min value 2 is greater than max value 1",
        "spec.limits[0].defaultRequest[cpu]: Invalid value: 1: min value 2 is greater than "
        "default request value 1",
        "spec.limits[0].default[cpu]: Invalid value: 2: min value 2 is greater than default "
        "value 1",
        "spec.limits[1].default: Forbidden: may not be specified when `type` is 'Pod'",
        "spec.limits[1].maxLimitRequestRatio[cpu]: Invalid value: 500m: ratio 500m is less than 1",
    ]


def test_events() -> None:
    event = {
        "metadata": {"name": "e", "namespace": "default"},
        "involvedObject": {"namespace": "default"},
    }
    assert _messages("Event", event) == []
    event["involvedObject"]["namespace"] = "other"
    assert _messages("Event", event) == [
        'involvedObject.namespace: Invalid value: "other": does not match event.namespace'
    ]
    cluster_scoped = {
        "metadata": {"name": "e", "namespace": "default"},
        "involvedObject": {"kind": "Node"},
    }
    assert _messages("Event", cluster_scoped) == []
    new_style = {
        "metadata": {"name": "e", "namespace": "default"},
        "eventTime": "2021-01-01T00:00:00.000000Z",
        "regarding": {"namespace": "default"},
    }
    assert _messages("Event", new_style, group="events.k8s.io") == [
        "reportingController: Required value",
        "reportingInstance: Required value",
        "action: Required value",
        "reason: Required value",
    ]


def test_node_taints() -> None:
    node = {
        "spec": {
            "taints": [
                {"key": "k", "effect": "NoSchedule"},
                {"key": "k", "effect": "NoSchedule"},
                {"key": "x"},
            ]
        }
    }
    assert _messages("Node", node) == [
        "spec.taints[1]: Duplicate value: k=:NoSchedule: taints must be unique by key and "
        "effect pair",
        "spec.taints[2].effect: Required value",
    ]


def test_lease() -> None:
    lease = {"spec": {"leaseDurationSeconds": 0, "leaseTransitions": -1}}
    assert _messages("Lease", lease, group="coordination.k8s.io") == [
        "spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0",
        "spec.leaseTransitions: Invalid value: -1: must be greater than or equal to 0",
    ]


def test_priority_class() -> None:
    group = "scheduling.k8s.io"
    assert (
        _messages("PriorityClass", {"metadata": {"name": "high"}, "value": 1000}, group=group) == []
    )
    too_high = {"metadata": {"name": "high"}, "value": 2000000000}
    assert _messages("PriorityClass", too_high, group=group) == [
        "value: Forbidden: maximum allowed value of a user defined priority is 1000000000"
    ]
    system = {"metadata": {"name": "system-node-critical"}, "value": 2000001000}
    assert _messages("PriorityClass", system, group=group) == []
    fake = {"metadata": {"name": "system-mine"}, "value": 1}
    assert _messages("PriorityClass", fake, group=group) == [
        "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for "
        "system use only. error: system-mine is not a known system priority class"
    ]
    changed = {"metadata": {"name": "high"}, "value": 5}
    old = {"metadata": {"name": "high"}, "value": 1000}
    assert _messages("PriorityClass", changed, old, group=group) == [
        "value: Forbidden: may not be changed in an update."
    ]
