"""A container's environment, built as the kubelet builds it.

Order, later wins: the image's ``Env``; the service variables of the pod's namespace
(``enableServiceLinks``, default on, plus the ``kubernetes`` service); ``envFrom`` sources in
order; ``env`` entries in order. ``$(VAR)`` in ``env`` values, ``command`` and ``args``
expands to a variable defined earlier (``$$`` is a literal ``$``; an unknown reference stays
as written), exactly as Kubernetes expands them.

A missing ConfigMap, Secret or key that is not ``optional`` fails the container with
``CreateContainerConfigError`` and the kubelet's message (``configmap "x" not found``).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from typing import Any, Protocol

from atoll.kube.quantities import parse_quantity

from .runtime import StartError

__all__ = [
    "ConfigSource",
    "EnvError",
    "PodFacts",
    "build_env",
    "expand",
    "field_ref",
    "resource_ref",
    "service_env",
]

Object = dict[str, Any]
_C_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class ConfigSource(Protocol):
    """Where the kubelet reads ConfigMaps, Secrets and Services (the API, or its caches)."""

    async def config_map(self, namespace: str, name: str) -> Object | None: ...

    async def secret(self, namespace: str, name: str) -> Object | None: ...

    async def services(self, namespace: str) -> list[Object]: ...


class EnvError(StartError):
    def __init__(self, message: str) -> None:
        super().__init__("CreateContainerConfigError", message)


_REFERENCE = re.compile(r"\$\$|\$\(([^)]*)\)")


def expand(value: str, env: Mapping[str, str]) -> str:
    """Kubernetes' ``$(VAR)`` expansion of one string."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1)
        return env[name] if name in env else match.group(0)

    return _REFERENCE.sub(replace, value)


def _service_name(name: str) -> str:
    return name.upper().replace("-", "_")


def service_env(services: Iterable[Object]) -> dict[str, str]:
    """Docker-link style variables for every Service with a ClusterIP."""
    env: dict[str, str] = {}
    for service in sorted(services, key=lambda s: s["metadata"]["name"]):
        spec = service.get("spec") or {}
        ip, ports = spec.get("clusterIP"), spec.get("ports") or []
        if not ip or ip == "None" or not ports:
            continue
        prefix = _service_name(service["metadata"]["name"])
        env[f"{prefix}_SERVICE_HOST"] = ip
        env[f"{prefix}_SERVICE_PORT"] = str(ports[0]["port"])
        for port in ports:
            if port.get("name"):
                env[f"{prefix}_SERVICE_PORT_{_service_name(port['name'])}"] = str(port["port"])
        first = ports[0]
        env[f"{prefix}_PORT"] = f"{first.get('protocol', 'TCP').lower()}://{ip}:{first['port']}"
        for port in ports:
            protocol = port.get("protocol", "TCP")
            base = f"{prefix}_PORT_{port['port']}_{protocol}"
            env[base] = f"{protocol.lower()}://{ip}:{port['port']}"
            env[f"{base}_PROTO"] = protocol.lower()
            env[f"{base}_PORT"] = str(port["port"])
            env[f"{base}_ADDR"] = ip
    return env


def _decode_secret(secret: Object) -> dict[str, str]:
    return {
        key: base64.b64decode(value).decode("utf-8", "replace")
        for key, value in (secret.get("data") or {}).items()
    }


@dataclass(frozen=True, slots=True)
class PodFacts:
    """What ``fieldRef`` and ``resourceFieldRef`` read."""

    pod: Object
    host_ip: str
    pod_ip: str
    node_cpu_millis: int
    node_memory: int


def field_ref(ref: Mapping[str, Any], facts: PodFacts) -> str:
    path = str(ref.get("fieldPath", ""))
    meta, spec = facts.pod.get("metadata") or {}, facts.pod.get("spec") or {}
    simple = {
        "metadata.name": meta.get("name"),
        "metadata.namespace": meta.get("namespace"),
        "metadata.uid": meta.get("uid"),
        "spec.nodeName": spec.get("nodeName"),
        "spec.serviceAccountName": spec.get("serviceAccountName"),
        "status.hostIP": facts.host_ip,
        "status.hostIPs": facts.host_ip,
        "status.podIP": facts.pod_ip,
        "status.podIPs": facts.pod_ip,
    }
    if path in simple:
        return str(simple[path] or "")
    found = re.fullmatch(r"metadata\.(labels|annotations)\['([^']*)'\]", path)
    if found:
        return str((meta.get(found.group(1)) or {}).get(found.group(2), ""))
    if path in ("metadata.labels", "metadata.annotations"):
        items = sorted((meta.get(path.split(".")[1]) or {}).items())
        return "\n".join(f'{k}="{v}"' for k, v in items)
    raise EnvError(f'unsupported fieldPath "{path}"')


def resource_ref(ref: Mapping[str, Any], container: Object, facts: PodFacts) -> str:
    resource = str(ref.get("resource", ""))
    kind, _, name = resource.partition(".")
    resources = (container.get("resources") or {}).get(kind) or {}
    divisor = parse_quantity(str(ref.get("divisor") or "1"))
    if divisor == 0:
        divisor = Decimal(1)
    if name == "cpu":
        default = Decimal(facts.node_cpu_millis) / 1000
        amount = parse_quantity(str(resources["cpu"])) if "cpu" in resources else default
    elif name in ("memory", "ephemeral-storage"):
        known = name in resources
        amount = parse_quantity(str(resources[name])) if known else Decimal(facts.node_memory)
    else:
        raise EnvError(f'unsupported resource "{resource}"')
    value = (Decimal(amount) / divisor).to_integral_value(rounding=ROUND_CEILING)
    return str(max(int(value), 1) if name == "cpu" else int(value))


async def _key_ref(
    ref: Mapping[str, Any], kind: str, namespace: str, source: ConfigSource
) -> str | None:
    name, key, optional = ref.get("name", ""), ref.get("key", ""), bool(ref.get("optional"))
    if kind == "configmap":
        found = await source.config_map(namespace, name)
        values = None if found is None else {**(found.get("data") or {})}
    else:
        secret = await source.secret(namespace, name)
        values = None if secret is None else _decode_secret(secret)
    if values is None:
        if optional:
            return None
        raise EnvError(f'{kind} "{name}" not found')
    if key not in values:
        if optional:
            return None
        raise EnvError(f"couldn't find key {key} in {kind.capitalize()} {namespace}/{name}")
    return str(values[key])


async def build_env(
    container: Object,
    facts: PodFacts,
    source: ConfigSource,
    *,
    image_env: Sequence[str] = (),
) -> dict[str, str]:
    """The container's environment; see the module doc."""
    pod = facts.pod
    namespace = pod["metadata"]["namespace"]
    spec = pod.get("spec") or {}
    env: dict[str, str] = {}
    for item in image_env:
        key, _, text = item.partition("=")
        env[key] = text
    if spec.get("enableServiceLinks", True):
        env.update(service_env(await source.services(namespace)))
    kubernetes = [
        s for s in await source.services("default") if s["metadata"]["name"] == "kubernetes"
    ]
    env.update(service_env(kubernetes))
    for item in container.get("envFrom") or []:
        prefix = item.get("prefix", "")
        for kind, field in (("configmap", "configMapRef"), ("secret", "secretRef")):
            ref = item.get(field)
            if not ref:
                continue
            if kind == "configmap":
                found = await source.config_map(namespace, ref.get("name", ""))
                values = None if found is None else dict(found.get("data") or {})
            else:
                secret = await source.secret(namespace, ref.get("name", ""))
                values = None if secret is None else _decode_secret(secret)
            if values is None:
                if ref.get("optional"):
                    continue
                raise EnvError(f'{kind} "{ref.get("name", "")}" not found')
            for key, found_value in values.items():
                if _C_IDENTIFIER.fullmatch(prefix + key):
                    env[prefix + key] = found_value
    defined: dict[str, str] = dict(env)
    for item in container.get("env") or []:
        name = item["name"]
        if "valueFrom" not in item:
            env[name] = defined[name] = expand(str(item.get("value", "")), defined)
            continue
        source_of = item["valueFrom"]
        value: str | None
        if "fieldRef" in source_of:
            value = field_ref(source_of["fieldRef"], facts)
        elif "resourceFieldRef" in source_of:
            value = resource_ref(source_of["resourceFieldRef"], container, facts)
        elif "configMapKeyRef" in source_of:
            value = await _key_ref(source_of["configMapKeyRef"], "configmap", namespace, source)
        elif "secretKeyRef" in source_of:
            value = await _key_ref(source_of["secretKeyRef"], "secret", namespace, source)
        else:
            value = ""
        if value is not None:
            env[name] = defined[name] = value
    return env
