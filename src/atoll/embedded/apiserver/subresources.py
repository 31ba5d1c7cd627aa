"""Subresources: status, scale, namespace finalize, pod binding, eviction and log.

``status`` writes change what each kind's status strategy lets through (``strategies``:
never the spec; for most kinds metadata such as annotations may change too). ``scale``
maps an ``autoscaling/v1`` Scale onto the replicas of Deployments, ReplicaSets,
StatefulSets, ReplicationControllers and custom resources with a scale subresource. Pod
``log`` is asked of the pod's kubelet (``kubeletproxy``); a pod no kubelet runs answers as
a real cluster does for a pod that has not started.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from atoll.embedded.storage.store import Entry
from atoll.errors import BadRequest, Conflict, MethodNotAllowed, NotFound
from atoll.kube.selectors import from_label_selector_object
from atoll.kube.streaming import ExecOptions

from ..upgrades import upgrade_of
from .bodies import media_type, read_body
from .crds import get_scale, set_replicas
from .options import DeleteOptions
from .patching import apply_patch_document, patch
from .registry import WriteResult
from .requests import RequestInfo
from .resources import Resource

if TYPE_CHECKING:
    from .handlers import ResourceHandlers

__all__ = ["handle"]

_SCALABLE = {"deployments", "replicasets", "statefulsets", "replicationcontrollers"}


async def handle(
    handlers: ResourceHandlers, request: Request, info: RequestInfo, resource: Resource
) -> Response:
    if not resource.has(info.subresource) or not info.name:
        raise NotFound("the server could not find the requested resource")
    if info.subresource == "status":
        return await _status(handlers, request, info, resource)
    if info.subresource == "scale":
        return await _scale(handlers, request, info, resource)
    if info.subresource == "finalize":
        return await _finalize(handlers, request, info, resource)
    if info.subresource == "binding" and request.method == "POST":
        return await _binding(handlers, request, info, resource)
    if info.subresource == "eviction" and request.method == "POST":
        return await _eviction(handlers, request, info, resource)
    if info.subresource == "log" and request.method == "GET":
        return await _log(handlers, request, info, resource)
    if info.subresource in ("exec", "attach", "portforward") and request.method in ("GET", "POST"):
        return await _stream(handlers, request, info, resource)
    raise MethodNotAllowed("the server does not allow this method on the requested resource")


async def _status(
    handlers: ResourceHandlers, request: Request, info: RequestInfo, resource: Resource
) -> Response:
    registry, namespace = handlers.registry, info.namespace or ""
    if request.method == "GET":
        entry = registry.get(resource, namespace, info.name)
        return handlers.object_response(resource, _result(entry), request)
    opts = handlers.write_options(request)
    if request.method == "PUT":
        obj = await handlers.read_object(request)
        result = await registry.update(
            resource, namespace, info.name, obj, opts, subresource="status"
        )
    elif request.method == "PATCH":
        result = await patch(
            registry,
            resource,
            namespace,
            info.name,
            mime=media_type(request),
            body=await read_body(request),
            opts=opts,
            subresource="status",
        )
    else:
        raise MethodNotAllowed("the server does not allow this method on the requested resource")
    return handlers.object_response(resource, result, request)


def _result(entry: Entry) -> WriteResult:
    return WriteResult(entry, entry.decode())


def _scale_spec(resource: Resource) -> dict[str, Any]:
    if resource.custom is not None:
        return dict((resource.custom.get("subresources") or {}).get("scale") or {})
    return {
        "specReplicasPath": ".spec.replicas",
        "statusReplicasPath": ".status.replicas",
        "labelSelectorPath": ".spec.selector",
    }


def _to_scale(resource: Resource, obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj["metadata"]
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    if resource.custom is not None:
        scale = get_scale(obj, _scale_spec(resource))
    else:
        selector = spec.get("selector") or {}
        if resource.plural == "replicationcontrollers":
            text = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
        else:
            text = from_label_selector_object(selector).to_string()
        scale = {
            "spec": {"replicas": spec.get("replicas", 0)},
            "status": {"replicas": status.get("replicas", 0), "selector": text},
        }
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": meta["name"],
            "namespace": meta.get("namespace", ""),
            "uid": meta.get("uid", ""),
            "resourceVersion": meta.get("resourceVersion", ""),
            "creationTimestamp": meta.get("creationTimestamp"),
        },
        **scale,
    }


async def _scale(
    handlers: ResourceHandlers, request: Request, info: RequestInfo, resource: Resource
) -> Response:
    """Read or write ``replicas`` through the Scale view. A write that names no
    resourceVersion is retried on a conflict with a concurrent write (a controller's status
    update, say), as kube-apiserver's GuaranteedUpdate retries; one that names a stale
    version is a conflict."""
    registry, namespace = handlers.registry, info.namespace or ""
    if request.method not in ("GET", "PUT", "PATCH"):
        raise MethodNotAllowed("the server does not allow this method on the requested resource")
    put = await handlers.read_object(request) if request.method == "PUT" else None
    body = await read_body(request) if request.method == "PATCH" else b""
    for attempt in range(_SCALE_ATTEMPTS):
        entry = registry.get(resource, namespace, info.name)
        live = registry.from_storage(resource, entry.decode())
        scale = _to_scale(resource, live)
        if request.method == "GET":
            return _json(scale)
        if request.method == "PUT":
            wanted = put
        else:
            wanted = apply_patch_document(registry, resource, scale, media_type(request), body)
        replicas = (wanted.get("spec") or {}).get("replicas") if isinstance(wanted, dict) else None
        if not isinstance(replicas, int) or isinstance(replicas, bool):
            raise BadRequest("spec.replicas: Invalid value: must be an integer")
        assert isinstance(wanted, dict)
        rv = (wanted.get("metadata") or {}).get("resourceVersion")
        if rv and str(rv) != live["metadata"]["resourceVersion"]:
            raise Conflict.modified(resource.plural, resource.group, info.name)
        named_version = request.method == "PUT" and bool(rv)
        if resource.custom is not None:
            live = set_replicas(live, _scale_spec(resource), replicas)
        else:
            live.setdefault("spec", {})["replicas"] = replicas
        opts = handlers.write_options(request)
        try:
            result = await registry.update(resource, namespace, info.name, live, opts, base=entry)
        except Conflict:
            if named_version or attempt == _SCALE_ATTEMPTS - 1:
                raise
            await asyncio.sleep(0)  # let the concurrent writer finish before reading again
            continue
        out = registry.from_storage(resource, dict(result.obj))
        return _json(_to_scale(resource, out))
    raise AssertionError("unreachable")


# kube-apiserver's GuaranteedUpdate retries until it wins; a busy controller (a rollout writing
# status on every pod change) can win several rounds in a row on a loaded machine.
_SCALE_ATTEMPTS = 20


async def _finalize(
    handlers: ResourceHandlers, request: Request, info: RequestInfo, resource: Resource
) -> Response:
    if request.method != "PUT":
        raise MethodNotAllowed("the server does not allow this method on the requested resource")
    registry = handlers.registry
    entry = registry.get(resource, "", info.name)
    obj = await handlers.read_object(request)
    if not isinstance(obj, dict):
        raise BadRequest("the body must be a Namespace")
    live = entry.decode()
    live.setdefault("spec", {})["finalizers"] = list(
        (obj.get("spec") or {}).get("finalizers") or []
    )
    result = await registry.replace_stored(
        resource, live, entry, handlers.write_options(request), expected=entry.rv
    )
    return handlers.object_response(resource, result, request)


async def _binding(
    handlers: ResourceHandlers, request: Request, info: RequestInfo, resource: Resource
) -> Response:
    registry, namespace = handlers.registry, info.namespace or ""
    body = await handlers.read_object(request)
    target = (body.get("target") or {}) if isinstance(body, dict) else {}
    node = target.get("name")
    if not node:
        raise BadRequest("Binding target must specify a node name")
    entry = registry.get(resource, namespace, info.name)
    pod = entry.decode()
    current = (pod.get("spec") or {}).get("nodeName")
    if current:
        raise Conflict(
            f'pod {info.name} is already assigned to node "{current}"', name=info.name, kind="pods"
        )
    if pod["metadata"].get("deletionTimestamp"):
        raise Conflict(
            f"pod {info.name} is being deleted, cannot be assigned to a host",
            name=info.name,
            kind="pods",
        )
    pod["spec"]["nodeName"] = node
    _set_scheduled(pod, registry.clock())
    await registry.replace_stored(
        resource, pod, entry, handlers.write_options(request), expected=entry.rv, validate=False
    )

    return _json(
        {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201},
        201,
    )


def _set_scheduled(pod: dict[str, Any], now: str) -> None:
    """A binding also records PodScheduled=True, as kube's binding REST does."""
    status = pod.setdefault("status", {})
    conditions = [c for c in status.get("conditions") or [] if c.get("type") != "PodScheduled"]
    conditions.append(
        {"type": "PodScheduled", "status": "True", "lastProbeTime": None, "lastTransitionTime": now}
    )
    status["conditions"] = conditions


async def _eviction(
    handlers: ResourceHandlers, request: Request, info: RequestInfo, resource: Resource
) -> Response:
    body = await handlers.read_object(request)
    options = (body.get("deleteOptions") or {}) if isinstance(body, dict) else {}
    opts = DeleteOptions.parse(options, {})
    for hook in handlers.registry.eviction_checks:
        hook(info.namespace or "", info.name)
    await handlers.registry.delete(
        resource, info.namespace or "", info.name, dataclasses.replace(opts)
    )
    return _json(
        {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201},
        201,
    )


async def _log(
    handlers: ResourceHandlers, request: Request, info: RequestInfo, resource: Resource
) -> Response:
    pod = handlers.registry.get(resource, info.namespace or "", info.name).decode()
    spec = pod.get("spec") or {}
    containers = [c.get("name", "") for c in spec.get("containers") or []]
    every = [*(c.get("name", "") for c in spec.get("initContainers") or []), *containers]
    name = request.query_params.get("container") or (
        containers[0] if len(containers) == 1 else None
    )
    if name is None:
        raise BadRequest(
            f"a container name must be specified for pod {info.name}, choose one of: "
            f"[{' '.join(containers)}]"
        )
    if name not in every:
        raise BadRequest(f"container {name} is not valid for pod {info.name}")
    node_name = spec.get("nodeName")
    if not node_name or handlers.kubelets is None:
        raise BadRequest(
            f'container "{name}" in pod "{info.name}" is waiting to start: ContainerCreating'
        )
    nodes = handlers.registry.catalog.get("", "v1", "nodes")
    assert nodes is not None
    try:
        node = handlers.registry.get(nodes, "", node_name).decode()
    except NotFound:
        raise BadRequest(
            f"pod {info.name} is bound to node {node_name}, which does not exist"
        ) from None
    query = dict(request.query_params)
    return await handlers.kubelets.logs(node, info.namespace or "", info.name, name, query)


async def _stream(
    handlers: ResourceHandlers, request: Request, info: RequestInfo, resource: Resource
) -> Response:
    upgrade = upgrade_of(request.scope)
    if upgrade is None:
        raise BadRequest("Upgrade request required")
    namespace, name = info.namespace or "", info.name
    pod = handlers.registry.get(resource, namespace, name).decode()
    spec = pod.get("spec") or {}
    query = request.query_params.multi_items()
    if info.subresource == "portforward":
        path = f"/portForward/{namespace}/{name}"
        params = [("port", value) for key, value in query if key == "ports"]
    else:
        container = _stream_container(spec, name, request.query_params.get("container") or "")
        path = f"/{info.subresource}/{namespace}/{name}/{container}"
        params = _kubelet_params(query)
    node_name = spec.get("nodeName")
    if not node_name or handlers.kubelets is None:
        raise BadRequest(f"pod {name} does not have a host assigned")
    nodes = handlers.registry.catalog.get("", "v1", "nodes")
    assert nodes is not None
    try:
        node = handlers.registry.get(nodes, "", node_name).decode()
    except NotFound:
        raise BadRequest(f"pod {name} is bound to node {node_name}, which does not exist") from None
    return await handlers.kubelets.upgrade(node, path, params, request, upgrade)


def _stream_container(spec: dict[str, Any], pod: str, wanted: str) -> str:
    """The container to exec in or attach to: named, or the only one (``streamLocation``)."""
    containers = [str(c.get("name", "")) for c in spec.get("containers") or []]
    init = [str(c.get("name", "")) for c in spec.get("initContainers") or []]
    ephemeral = [str(c.get("name", "")) for c in spec.get("ephemeralContainers") or []]
    if wanted:
        if wanted not in (*containers, *init, *ephemeral):
            raise BadRequest(f"container {wanted} is not valid for pod {pod}")
        return wanted
    if len(containers) == 1:
        return containers[0]
    if not containers:
        raise BadRequest(f"a container name must be specified for pod {pod}")
    message = (
        f"a container name must be specified for pod {pod}, choose one of: [{' '.join(containers)}]"
    )
    if init:
        message += f" or one of the init containers: [{' '.join(init)}]"
    raise BadRequest(message)


def _kubelet_params(query: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """exec/attach options in the kubelet's spelling, as kube-apiserver's ``streamParams``."""
    try:
        options = ExecOptions.from_query(query)
    except ValueError as error:
        raise BadRequest(str(error)) from None
    params = [("command", part) for part in options.command]
    flags = (("input", options.stdin), ("output", options.stdout), ("error", options.stderr))
    params += [(key, "1") for key, wanted in (*flags, ("tty", options.tty)) if wanted]
    return params


def _json(body: dict[str, Any], status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")
