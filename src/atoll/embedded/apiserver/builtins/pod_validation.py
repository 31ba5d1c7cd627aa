"""PodSpec validation (kube 1.20's ValidatePodSpec and ValidatePodUpdate, the parts that matter).

Checked: containers (required, names unique DNS-1123 labels across init and regular
containers, image required, pull and termination-message policies, ports, env names and
sources, volume mounts that name defined volumes, resources), volumes (names, exactly one
source, the common sources' required fields and file modes), restart and DNS policies,
tolerations, probes, and the names a pod refers to. Pod updates may change only images,
``activeDeadlineSeconds`` and tolerations, as in kube.

Not checked: security contexts, affinity, topology spread, DNS config, host port conflicts.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from atoll.embedded.apiserver.builtins.checks import (
    as_int,
    as_list,
    as_map,
    as_str,
    labels_errors,
)
from atoll.embedded.apiserver.builtins.names import (
    dns1123_label_errors,
    dns1123_subdomain_errors,
    env_var_name_errors,
    port_name_errors,
    port_number_errors,
)
from atoll.embedded.apiserver.builtins.object_meta import annotations_errors
from atoll.embedded.apiserver.builtins.resources import resource_requirements_errors
from atoll.errors import FieldError

__all__ = ["pod_spec_errors", "pod_template_errors", "pod_update_errors"]

_PULL_POLICIES = ("Always", "IfNotPresent", "Never")
_PROTOCOLS = ("SCTP", "TCP", "UDP")
_RESTART_POLICIES = ("Always", "OnFailure", "Never")
_DNS_POLICIES = ("ClusterFirstWithHostNet", "ClusterFirst", "Default", "None")
_HANDLERS = ("exec", "httpGet", "tcpSocket", "grpc")
_FIELD_PATHS = (
    "metadata.annotations",
    "metadata.labels",
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.podIP",
    "status.podIPs",
)
_ENV_SOURCES = ("fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef")
_FILE_MODE_ERROR = "must be a number between 0 and 0777 (octal), both inclusive"
_REQUIRED_IN_SOURCE = {
    "configMap": "name",
    "secret": "secretName",
    "persistentVolumeClaim": "claimName",
    "hostPath": "path",
    "nfs": "server",
}
_UPDATE_FORBIDDEN = (
    "pod updates may not change fields other than `spec.containers[*].image`, "
    "`spec.initContainers[*].image`, `spec.activeDeadlineSeconds` or `spec.tolerations` "
    "(only additions to existing tolerations)"
)


def _enum(path: str, value: Any, *, allowed: tuple[str, ...]) -> list[FieldError]:
    if not value:
        return [FieldError.required(path)]
    return [] if value in allowed else [FieldError.not_supported(path, value, allowed)]


def _volume_errors(volumes: Any, path: str) -> tuple[list[FieldError], set[str]]:
    errors: list[FieldError] = []
    names: set[str] = set()
    for i, volume in enumerate(map(as_map, as_list(volumes))):
        where = f"{path}[{i}]"
        errors += _volume_source_errors(volume, where)
        name = as_str(volume.get("name"))
        if not name:
            errors.append(FieldError.required(f"{where}.name"))
        else:
            errors += [
                FieldError.invalid(f"{where}.name", name, m) for m in dns1123_label_errors(name)
            ]
        if name in names:
            errors.append(FieldError.duplicate(f"{where}.name", name))
        names.add(name)
    return errors, names


def _volume_source_errors(volume: Mapping[str, Any], where: str) -> list[FieldError]:
    sources = [key for key, value in volume.items() if key != "name" and value is not None]
    if not sources:
        return [FieldError.required(where, "must specify a volume type")]
    errors = [
        FieldError.forbidden(f"{where}.{extra}", "may not specify more than 1 volume type")
        for extra in sources[1:]
    ]
    for key in sources:
        source = as_map(volume.get(key))
        required = _REQUIRED_IN_SOURCE.get(key)
        if required and not as_str(source.get(required)):
            errors.append(FieldError.required(f"{where}.{key}.{required}"))
        mode = source.get("defaultMode")
        if isinstance(mode, int) and not 0 <= mode <= 0o777:
            errors.append(FieldError.invalid(f"{where}.{key}.defaultMode", mode, _FILE_MODE_ERROR))
    return errors


def _port_errors(ports: Any, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    names: set[str] = set()
    for i, port in enumerate(map(as_map, as_list(ports))):
        where = f"{path}[{i}]"
        name = as_str(port.get("name"))
        if name:
            errors += [FieldError.invalid(f"{where}.name", name, m) for m in port_name_errors(name)]
            if name in names:
                errors.append(FieldError.duplicate(f"{where}.name", name))
            names.add(name)
        number = as_int(port.get("containerPort"))
        if number == 0:
            errors.append(FieldError.required(f"{where}.containerPort"))
        errors += [
            FieldError.invalid(f"{where}.containerPort", number, m)
            for m in (port_number_errors(number) if number else [])
        ]
        host = as_int(port.get("hostPort"))
        errors += [
            FieldError.invalid(f"{where}.hostPort", host, m)
            for m in (port_number_errors(host) if host else [])
        ]
        errors += _enum(f"{where}.protocol", port.get("protocol"), allowed=_PROTOCOLS)
    return errors


def _env_errors(env: Any, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    for i, var in enumerate(map(as_map, as_list(env))):
        where = f"{path}[{i}]"
        name = as_str(var.get("name"))
        if not name:
            errors.append(FieldError.required(f"{where}.name"))
        else:
            errors += [
                FieldError.invalid(f"{where}.name", name, m) for m in env_var_name_errors(name)
            ]
        if var.get("valueFrom") is not None:
            errors += _env_source_errors(var, f"{where}.valueFrom")
    return errors


def _env_source_errors(var: Mapping[str, Any], where: str) -> list[FieldError]:
    source = as_map(var.get("valueFrom"))
    present = [key for key in _ENV_SOURCES if source.get(key) is not None]
    errors: list[FieldError] = []
    if not present:
        errors.append(
            FieldError.invalid(
                where,
                "",
                "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or "
                "`secretKeyRef`",
            )
        )
    elif len(present) > 1:
        errors.append(
            FieldError.invalid(where, "", "may not have more than one field specified at a time")
        )
    if as_str(var.get("value")):
        errors.append(
            FieldError.invalid(where, "", "may not be specified when `value` is not empty")
        )
    field_path = as_str(as_map(source.get("fieldRef")).get("fieldPath"))
    if "fieldRef" in present and field_path.split("[", 1)[0] not in _FIELD_PATHS:
        errors.append(
            FieldError.not_supported(f"{where}.fieldRef.fieldPath", field_path, _FIELD_PATHS)
        )
    return errors


def _mount_errors(mounts: Any, path: str, *, volumes: set[str]) -> list[FieldError]:
    errors: list[FieldError] = []
    seen: set[str] = set()
    for i, mount in enumerate(map(as_map, as_list(mounts))):
        where = f"{path}[{i}]"
        name = as_str(mount.get("name"))
        if not name:
            errors.append(FieldError.required(f"{where}.name"))
        elif name not in volumes:
            errors.append(FieldError("NotFound", f"{where}.name", name))
        mount_path = as_str(mount.get("mountPath"))
        if not mount_path:
            errors.append(FieldError.required(f"{where}.mountPath"))
        elif mount_path in seen:
            errors.append(FieldError.invalid(f"{where}.mountPath", mount_path, "must be unique"))
        seen.add(mount_path)
    return errors


def _probe_errors(container: Mapping[str, Any], where: str) -> list[FieldError]:
    errors: list[FieldError] = []
    for key in ("livenessProbe", "readinessProbe", "startupProbe"):
        probe = container.get(key)
        if probe is None:
            continue
        probe = as_map(probe)
        handlers = [h for h in _HANDLERS if probe.get(h) is not None]
        if not handlers:
            errors.append(FieldError.required(f"{where}.{key}", "must specify a handler type"))
        elif len(handlers) > 1:
            errors.append(
                FieldError.forbidden(
                    f"{where}.{key}.{handlers[1]}", "may not specify more than 1 handler type"
                )
            )
        threshold = probe.get("successThreshold")
        if key != "readinessProbe" and isinstance(threshold, int) and threshold != 1:
            errors.append(
                FieldError.invalid(f"{where}.{key}.successThreshold", threshold, "must be 1")
            )
    return errors


def _container_errors(
    container: Mapping[str, Any], where: str, *, volumes: set[str]
) -> list[FieldError]:
    errors: list[FieldError] = []
    image = as_str(container.get("image"))
    if not image:
        errors.append(FieldError.required(f"{where}.image"))
    elif image != image.strip():
        errors.append(
            FieldError.invalid(
                f"{where}.image", image, "must not have leading or trailing whitespace"
            )
        )
    policy = container.get("terminationMessagePolicy")
    if policy not in ("File", "FallbackToLogsOnError"):
        detail = "must be 'File' or 'FallbackToLogsOnError'"
        errors.append(
            FieldError.required(f"{where}.terminationMessagePolicy", detail)
            if not policy
            else FieldError.invalid(f"{where}.terminationMessagePolicy", policy, detail)
        )
    errors += _enum(
        f"{where}.imagePullPolicy", container.get("imagePullPolicy"), allowed=_PULL_POLICIES
    )
    errors += _port_errors(container.get("ports"), f"{where}.ports")
    errors += _env_errors(container.get("env"), f"{where}.env")
    errors += _mount_errors(container.get("volumeMounts"), f"{where}.volumeMounts", volumes=volumes)
    errors += _probe_errors(container, where)
    errors += resource_requirements_errors(container.get("resources"), f"{where}.resources")
    return errors


def _containers_errors(
    spec: Mapping[str, Any], path: str, *, volumes: set[str]
) -> list[FieldError]:
    errors: list[FieldError] = []
    if not as_list(spec.get("containers")):
        errors.append(FieldError.required(f"{path}.containers"))
    names: set[str] = set()
    for key in ("containers", "initContainers"):
        for i, container in enumerate(map(as_map, as_list(spec.get(key)))):
            where = f"{path}.{key}[{i}]"
            name = as_str(container.get("name"))
            if not name:
                errors.append(FieldError.required(f"{where}.name"))
            else:
                errors += [
                    FieldError.invalid(f"{where}.name", name, m) for m in dns1123_label_errors(name)
                ]
            if name and name in names:
                errors.append(FieldError.duplicate(f"{where}.name", name))
            names.add(name)
            errors += _container_errors(container, where, volumes=volumes)
    return errors


def _toleration_errors(tolerations: Any, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    for i, toleration in enumerate(map(as_map, as_list(tolerations))):
        where = f"{path}[{i}]"
        operator = toleration.get("operator") or "Equal"
        effect = toleration.get("effect") or ""
        if operator not in ("Equal", "Exists"):
            errors.append(
                FieldError.not_supported(f"{where}.operator", operator, ("Equal", "Exists"))
            )
        elif operator == "Exists" and as_str(toleration.get("value")):
            errors.append(
                FieldError.invalid(
                    f"{where}.operator",
                    toleration.get("value"),
                    "value must be empty when `operator` is 'Exists'",
                )
            )
        if effect and effect not in ("NoSchedule", "PreferNoSchedule", "NoExecute"):
            errors.append(
                FieldError.not_supported(
                    f"{where}.effect", effect, ("NoSchedule", "PreferNoSchedule", "NoExecute")
                )
            )
        if toleration.get("tolerationSeconds") is not None and effect != "NoExecute":
            errors.append(
                FieldError.invalid(
                    f"{where}.effect",
                    effect,
                    "effect must be 'NoExecute' when `tolerationSeconds` is set",
                )
            )
    return errors


def _referenced_name_errors(spec: Mapping[str, Any], path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    for key, check in (
        ("serviceAccountName", dns1123_subdomain_errors),
        ("nodeName", dns1123_subdomain_errors),
        ("hostname", dns1123_label_errors),
        ("subdomain", dns1123_label_errors),
    ):
        value = as_str(spec.get(key))
        if value:
            errors += [FieldError.invalid(f"{path}.{key}", value, m) for m in check(value)]
    deadline = spec.get("activeDeadlineSeconds")
    if isinstance(deadline, int) and not 1 <= deadline <= 2**32 - 1:
        errors.append(
            FieldError.invalid(
                f"{path}.activeDeadlineSeconds",
                deadline,
                "must be between 1 and 4294967295, inclusive",
            )
        )
    return errors


def pod_spec_errors(
    spec: Any, path: str = "spec", *, extra_volumes: Iterable[str] = ()
) -> list[FieldError]:
    """ValidatePodSpec at ``path`` (``spec`` for Pods, ``spec.template.spec`` in workloads).

    ``extra_volumes`` are further names mounts may use (a StatefulSet's claim templates).
    """
    spec = as_map(spec)
    errors, volumes = _volume_errors(spec.get("volumes"), f"{path}.volumes")
    volumes.update(extra_volumes)
    errors += _containers_errors(spec, path, volumes=volumes)
    errors += _enum(f"{path}.restartPolicy", spec.get("restartPolicy"), allowed=_RESTART_POLICIES)
    errors += _enum(f"{path}.dnsPolicy", spec.get("dnsPolicy"), allowed=_DNS_POLICIES)
    errors += labels_errors(f"{path}.nodeSelector", spec.get("nodeSelector"))
    errors += _referenced_name_errors(spec, path)
    errors += _toleration_errors(spec.get("tolerations"), f"{path}.tolerations")
    return errors


def pod_template_errors(
    template: Any, path: str, *, extra_volumes: Iterable[str] = ()
) -> list[FieldError]:
    """ValidatePodTemplateSpec: template labels and annotations, then its PodSpec."""
    if template is None:
        return [FieldError.required(path)]
    template = as_map(template)
    metadata = as_map(template.get("metadata"))
    errors = labels_errors(f"{path}.metadata.labels", metadata.get("labels"))
    errors += annotations_errors(f"{path}.metadata.annotations", metadata.get("annotations"))
    spec_errors = pod_spec_errors(template.get("spec"), f"{path}.spec", extra_volumes=extra_volumes)
    return errors + spec_errors


def pod_update_errors(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    """ValidatePodUpdate: the new spec is valid and changes only what pods may change."""
    new_spec, old_spec = as_map(new.get("spec")), as_map(old.get("spec"))
    errors = pod_spec_errors(new_spec)
    for key in ("containers", "initContainers"):
        if len(as_list(new_spec.get(key))) != len(as_list(old_spec.get(key))):
            return [
                *errors,
                FieldError.forbidden(f"spec.{key}", "pod updates may not add or remove containers"),
            ]
    masked = copy.deepcopy(dict(new_spec))
    for key in ("containers", "initContainers"):
        for mine, theirs in zip(as_list(masked.get(key)), as_list(old_spec.get(key)), strict=True):
            if isinstance(mine, dict):
                mine["image"] = as_map(theirs).get("image")
    for key in ("activeDeadlineSeconds", "tolerations"):
        masked.pop(key, None)
        if key in old_spec:
            masked[key] = old_spec[key]
    if masked != dict(old_spec):
        errors.append(FieldError.forbidden("spec", _UPDATE_FORBIDDEN))
    return errors
