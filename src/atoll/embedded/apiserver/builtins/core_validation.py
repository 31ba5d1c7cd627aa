"""Validation of core configuration and bookkeeping kinds (kube 1.20 wording).

ConfigMap and Secret (keys, 1 MiB total, the required keys of typed Secrets, ``immutable``),
Namespace finalizers, ResourceQuota and LimitRange quantities, Events (the involved object's
namespace must be the event's), Node taints, Lease and PriorityClass.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from atoll.embedded.apiserver.builtins.checks import (
    GoValue,
    as_list,
    as_map,
    as_str,
    immutable,
    non_negative,
)
from atoll.embedded.apiserver.builtins.names import (
    config_map_key_errors,
    dns1123_subdomain_errors,
    label_value_errors,
    qualified_name_errors,
)
from atoll.embedded.apiserver.builtins.object_meta import finalizer_errors
from atoll.embedded.apiserver.builtins.resources import quantity_of, resource_list_errors
from atoll.errors import FieldError

__all__ = [
    "config_map_errors",
    "event_errors",
    "lease_errors",
    "limit_range_errors",
    "namespace_errors",
    "node_errors",
    "priority_class_errors",
    "resource_quota_errors",
    "secret_errors",
]

Obj = Mapping[str, Any]
MAX_SECRET_SIZE = 1024 * 1024
_IMMUTABLE_SET = "field is immutable when `immutable` is set"
_REDACTED = "<secret contents redacted>"
_QUOTA_RESOURCES = frozenset(
    {
        "pods",
        "services",
        "replicationcontrollers",
        "resourcequotas",
        "secrets",
        "configmaps",
        "persistentvolumeclaims",
        "services.nodeports",
        "services.loadbalancers",
        "cpu",
        "memory",
        "ephemeral-storage",
        "requests.cpu",
        "requests.memory",
        "requests.storage",
        "requests.ephemeral-storage",
        "limits.cpu",
        "limits.memory",
        "limits.ephemeral-storage",
    }
)
_INTEGER_QUOTA_RESOURCES = frozenset(
    {
        "pods",
        "services",
        "replicationcontrollers",
        "resourcequotas",
        "secrets",
        "configmaps",
        "persistentvolumeclaims",
        "services.nodeports",
        "services.loadbalancers",
    }
)
_QUOTA_SCOPES = ("BestEffort", "NotBestEffort", "NotTerminating", "PriorityClass", "Terminating")
_TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
_SYSTEM_PRIORITIES = {"system-cluster-critical": 2000000000, "system-node-critical": 2000001000}


def _decoded_size(value: Any) -> int:
    try:
        return len(base64.b64decode(as_str(value), validate=True))
    except (binascii.Error, ValueError):
        return len(as_str(value))


def _key_errors(path: str, keys: Any) -> list[FieldError]:
    errors: list[FieldError] = []
    for key in as_map(keys):
        errors += [FieldError.invalid(f"{path}[{key}]", key, m) for m in config_map_key_errors(key)]
    return errors


def _immutable_errors(obj: Obj, old: Obj | None, *fields: str) -> list[FieldError]:
    if old is None or old.get("immutable") is not True:
        return []
    errors = []
    if obj.get("immutable") is not True:
        errors.append(FieldError.forbidden("immutable", _IMMUTABLE_SET))
    for name in fields:
        if (obj.get(name) or {}) != (old.get(name) or {}):
            errors.append(FieldError.forbidden(name, _IMMUTABLE_SET))
    return errors


def config_map_errors(obj: Obj, old: Obj | None) -> list[FieldError]:
    data, binary = as_map(obj.get("data")), as_map(obj.get("binaryData"))
    errors = _immutable_errors(obj, old, "data", "binaryData")
    errors += _key_errors("data", data)
    errors += [
        FieldError.invalid(f"data[{key}]", key, "duplicate of key present in binaryData")
        for key in data
        if key in binary
    ]
    errors += _key_errors("binaryData", binary)
    total = sum(len(as_str(v).encode()) for v in data.values())
    total += sum(_decoded_size(v) for v in binary.values())
    if total > MAX_SECRET_SIZE:
        errors.append(FieldError.too_long("", "", MAX_SECRET_SIZE))
    return errors


def _json_problem(encoded: Any) -> str | None:
    """Go's json.Unmarshal error for a base64-encoded docker config, roughly worded."""
    try:
        text = base64.b64decode(as_str(encoded)).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return None  # bad base64 is a decode error, reported by type_errors
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as err:
        if err.pos >= len(text.rstrip()):
            return "unexpected end of JSON input"
        return f"invalid character '{text[err.pos]}' looking for beginning of value"
    if not isinstance(parsed, dict):
        kind = (
            "array"
            if isinstance(parsed, list)
            else "string"
            if isinstance(parsed, str)
            else "number"
        )
        return f"json: cannot unmarshal {kind} into Go value of type map[string]interface {{}}"
    return None


def _typed_secret_errors(obj: Obj) -> list[FieldError]:
    kind, data = obj.get("type") or "Opaque", as_map(obj.get("data"))
    annotations = as_map(as_map(obj.get("metadata")).get("annotations"))
    errors: list[FieldError] = []
    if kind == "kubernetes.io/service-account-token":
        if not as_str(annotations.get("kubernetes.io/service-account.name")):
            errors.append(
                FieldError.required("metadata.annotations[kubernetes.io/service-account.name]")
            )
    elif kind in ("kubernetes.io/dockercfg", "kubernetes.io/dockerconfigjson"):
        key = ".dockercfg" if kind == "kubernetes.io/dockercfg" else ".dockerconfigjson"
        if key not in data:
            errors.append(FieldError.required(f"data[{key}]"))
        elif (problem := _json_problem(data[key])) is not None:
            errors.append(FieldError.invalid(f"data[{key}]", _REDACTED, problem))
    elif kind == "kubernetes.io/basic-auth":
        if "username" not in data and "password" not in data:
            errors.append(FieldError.required("data[%s][username]"))
            errors.append(FieldError.required("data[%s][password]"))
    elif kind == "kubernetes.io/ssh-auth":
        if not data.get("ssh-privatekey"):
            errors.append(FieldError.required("data[%s][ssh-privatekey]"))
    elif kind == "kubernetes.io/tls":
        errors += [
            FieldError.required(f"data[{k}]") for k in ("tls.crt", "tls.key") if k not in data
        ]
    return errors


def secret_errors(obj: Obj, old: Obj | None) -> list[FieldError]:
    errors: list[FieldError] = []
    if old is not None:
        errors += immutable("type", obj.get("type"), old=old.get("type"))
    errors += _immutable_errors(obj, old, "data")
    data = as_map(obj.get("data"))
    errors += _key_errors("data", data)
    if sum(_decoded_size(v) for v in data.values()) > MAX_SECRET_SIZE:
        errors.append(FieldError.too_long("data", "", MAX_SECRET_SIZE))
    return errors + _typed_secret_errors(obj)


def namespace_errors(obj: Obj, old: Obj | None) -> list[FieldError]:
    return finalizer_errors("spec.finalizers", as_map(obj.get("spec")).get("finalizers"))


def _quota_value_errors(name: str, value: Any, *, where: str) -> list[FieldError]:
    errors: list[FieldError] = []
    if (
        "/" not in name
        and name not in _QUOTA_RESOURCES
        and not name.startswith(("requests.hugepages-", "hugepages-"))
    ):
        errors.append(FieldError.invalid(where, name, "must be a standard resource for quota"))
    amount = quantity_of(value)
    integral = name in _INTEGER_QUOTA_RESOURCES or name.startswith("count/")
    if amount is not None and integral and amount != amount.to_integral_value():
        errors.append(FieldError.invalid(where, str(value), "must be an integer"))
    return errors


def resource_quota_errors(obj: Obj, old: Obj | None) -> list[FieldError]:
    spec = as_map(obj.get("spec"))
    hard = as_map(spec.get("hard"))
    errors = resource_list_errors(hard, "spec.hard")
    for name, value in hard.items():
        errors += _quota_value_errors(name, value, where=f"spec.hard[{name}]")
    for i, scope in enumerate(as_list(spec.get("scopes"))):
        if scope not in _QUOTA_SCOPES:
            errors.append(FieldError.not_supported(f"spec.scopes[{i}]", scope, _QUOTA_SCOPES))
    return errors


def _shown(value: Any) -> GoValue:
    return GoValue(value if isinstance(value, str) else str(value))


def _limit_order_errors(item: Obj, where: str) -> list[FieldError]:
    tables = {k: as_map(item.get(k)) for k in ("min", "max", "default", "defaultRequest")}
    values = {k: {n: quantity_of(v) for n, v in t.items()} for k, t in tables.items()}
    rules = (  # (lower, upper, reported field, reported value, message)
        ("min", "max", "min", "min", "min value {lo} is greater than max value {hi}"),
        (
            "min",
            "defaultRequest",
            "defaultRequest",
            "defaultRequest",
            "min value {lo} is greater than default request value {hi}",
        ),
        (
            "defaultRequest",
            "max",
            "defaultRequest",
            "defaultRequest",
            "default request value {lo} is greater than max value {hi}",
        ),
        (
            "defaultRequest",
            "default",
            "defaultRequest",
            "defaultRequest",
            "default request value {lo} is greater than default limit value {hi}",
        ),
        ("min", "default", "default", "min", "min value {lo} is greater than default value {hi}"),
        ("default", "max", "default", "max", "default value {lo} is greater than max value {hi}"),
    )
    errors: list[FieldError] = []
    for lower, upper, field, shown, message in rules:
        for name, low in values[lower].items():
            high = values[upper].get(name)
            if low is None or high is None or low <= high:
                continue
            text = message.format(lo=tables[lower][name], hi=tables[upper][name])
            errors.append(
                FieldError.invalid(f"{where}.{field}[{name}]", _shown(tables[shown][name]), text)
            )
    return errors


def limit_range_errors(obj: Obj, old: Obj | None) -> list[FieldError]:
    errors: list[FieldError] = []
    seen: set[str] = set()
    for i, item in enumerate(map(as_map, as_list(as_map(obj.get("spec")).get("limits")))):
        where = f"spec.limits[{i}]"
        kind = as_str(item.get("type"))
        if kind in seen:
            errors.append(FieldError.duplicate(f"{where}.type", kind))
        seen.add(kind)
        for table in ("max", "min", "default", "defaultRequest", "maxLimitRequestRatio"):
            errors += resource_list_errors(item.get(table), f"{where}.{table}")
        if kind == "Pod":
            for table in ("default", "defaultRequest"):
                if as_map(item.get(table)):
                    errors.append(
                        FieldError.forbidden(
                            f"{where}.{table}", "may not be specified when `type` is 'Pod'"
                        )
                    )
        errors += _limit_order_errors(item, where)
        for name, ratio in as_map(item.get("maxLimitRequestRatio")).items():
            value = quantity_of(ratio)
            if value is not None and value < Decimal(1):
                errors.append(
                    FieldError.invalid(
                        f"{where}.maxLimitRequestRatio[{name}]",
                        _shown(ratio),
                        f"ratio {ratio} is less than 1",
                    )
                )
    return errors


def _new_style_event_errors(obj: Obj) -> list[FieldError]:
    errors: list[FieldError] = []
    controller = as_str(obj.get("reportingController") or obj.get("reportingComponent"))
    if not controller:
        errors.append(FieldError.required("reportingController"))
    errors += (
        [
            FieldError.invalid("reportingController", controller, m)
            for m in qualified_name_errors(controller)
        ]
        if controller
        else []
    )
    for name, limit in (("reportingInstance", 128), ("action", 128), ("reason", 128)):
        value = as_str(obj.get(name))
        if not value:
            errors.append(FieldError.required(name))
        elif len(value) > limit:
            errors.append(FieldError.invalid(name, "", f"can have at most {limit} characters"))
    note = as_str(obj.get("note") or obj.get("message"))
    if len(note) > 1024:
        errors.append(FieldError.invalid("note", "", "can have at most 1024 characters"))
    return errors


def event_errors(obj: Obj, old: Obj | None) -> list[FieldError]:
    """Core and events.k8s.io Events; paths use the core names (``involvedObject``), as kube's
    shared validation does for both."""
    namespace = as_str(as_map(obj.get("metadata")).get("namespace"))
    involved = as_map(obj.get("involvedObject") or obj.get("regarding"))
    involved_namespace = as_str(involved.get("namespace"))
    errors: list[FieldError] = []
    mismatch = FieldError.invalid(
        "involvedObject.namespace", involved_namespace, "does not match event.namespace"
    )
    if obj.get("eventTime"):
        errors += _new_style_event_errors(obj)
        if not involved_namespace and namespace not in ("default", "kube-system"):
            errors.append(mismatch)
    elif involved_namespace != namespace and (
        involved_namespace or namespace not in ("", "default")
    ):
        errors.append(mismatch)
    errors += [
        FieldError.invalid("namespace", namespace, m) for m in dns1123_subdomain_errors(namespace)
    ]
    return errors


def node_errors(obj: Obj, old: Obj | None) -> list[FieldError]:
    errors: list[FieldError] = []
    seen: set[tuple[str, str]] = set()
    for i, taint in enumerate(map(as_map, as_list(as_map(obj.get("spec")).get("taints")))):
        where = f"spec.taints[{i}]"
        key, value, effect = (
            as_str(taint.get("key")),
            as_str(taint.get("value")),
            as_str(taint.get("effect")),
        )
        errors += [FieldError.invalid(f"{where}.key", key, m) for m in qualified_name_errors(key)]
        problems = label_value_errors(value)
        if problems:
            errors.append(FieldError.invalid(f"{where}.value", value, ";".join(problems)))
        if not effect:
            errors.append(FieldError.required(f"{where}.effect"))
        elif effect not in _TAINT_EFFECTS:
            errors.append(FieldError.not_supported(f"{where}.effect", effect, _TAINT_EFFECTS))
        if (key, effect) in seen:
            errors.append(
                FieldError(
                    "Duplicate",
                    where,
                    GoValue(f"{key}={value}:{effect}"),
                    "taints must be unique by key and effect pair",
                )
            )
        seen.add((key, effect))
    return errors


def lease_errors(obj: Obj, old: Obj | None) -> list[FieldError]:
    spec = as_map(obj.get("spec"))
    errors: list[FieldError] = []
    duration = spec.get("leaseDurationSeconds")
    if isinstance(duration, int) and duration <= 0:
        errors.append(
            FieldError.invalid("spec.leaseDurationSeconds", duration, "must be greater than 0")
        )
    return errors + non_negative("spec.leaseTransitions", spec.get("leaseTransitions"))


def priority_class_errors(obj: Obj, old: Obj | None) -> list[FieldError]:
    name = as_str(as_map(obj.get("metadata")).get("name"))
    value = obj.get("value") if isinstance(obj.get("value"), int) else 0
    errors: list[FieldError] = []
    if name.startswith("system-"):
        expected = _SYSTEM_PRIORITIES.get(name)
        if expected is None or value != expected:
            problem = (
                f"{name} is not a known system priority class"
                if expected is None
                else f"value of {name} PriorityClass must be {expected}"
            )
            errors.append(
                FieldError.forbidden(
                    "metadata.name",
                    "priority class names with 'system-' prefix are reserved for system use only. "
                    f"error: {problem}",
                )
            )
    elif isinstance(value, int) and value > 1000000000:
        errors.append(
            FieldError.forbidden(
                "value", "maximum allowed value of a user defined priority is 1000000000"
            )
        )
    policy = obj.get("preemptionPolicy")
    if policy is not None and policy not in ("PreemptLowerPriority", "Never"):
        errors.append(
            FieldError.not_supported("preemptionPolicy", policy, ("PreemptLowerPriority", "Never"))
        )
    if old is not None:
        if obj.get("value") != old.get("value"):
            errors.append(FieldError.forbidden("value", "may not be changed in an update."))
        errors += immutable("preemptionPolicy", policy, old=old.get("preemptionPolicy"))
    return errors
