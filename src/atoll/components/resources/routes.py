"""``/kapis/resources.atoll.io/v1alpha1``: any kind of any cluster, listed from the caches.

``GET [clusters/{cluster}/][namespaces/{namespace}/]{resource}[/{name}]``, as KubeSphere's
``resources.kubesphere.io``: without a name a page of a filtered, sorted list (see
``queries``), with one the object itself. Two segments ``namespaces/{name}`` are the
namespace itself, as on Kubernetes paths. ``{resource}`` is a plural the cluster serves,
CRDs included, qualified by its group where needed (``deployments.apps``).

What a caller may see: the request pipeline authorizes each request but lists across
namespaces, which ``visible`` narrows to the namespaces the caller may list the kind in (for
the ``namespaces`` resource itself: the namespaces it may see), or refuses whole for a
cluster-scoped kind it may not list. Kinds with a read hook (Users) pass through it, so a
password never leaves.
Errors are problem+json: 400 for malformed parameters, 404 for an unknown cluster, resource
or object, 503 while a cache fills or before the component started.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Request, Response
from fastapi import Query as Param

from atoll.errors import ApiError, NotFound
from atoll.kube.client import ResourceType
from atoll.server.access import ObjectHook
from atoll.server.problems import problem

from .queries import DEFAULT_LIMIT, MAX_LIMIT, Query, answer
from .registry import StoreRegistry
from .stores import resource_name

__all__ = ["GROUP", "PREFIX", "Visible", "resources_router", "see_everything"]

GROUP = "resources.atoll.io"
PREFIX = f"/kapis/{GROUP}/v1alpha1"
HOST = "host"

NamespacePredicate = Callable[[str], bool]
Visible = Callable[[Request, str, ResourceType], Awaitable[NamespacePredicate | None]]
"""``await visible(request, cluster, rt)`` for a list across namespaces (or of a
cluster-scoped kind): None lets the caller see everything; else a predicate over namespace
names. It raises an ``ApiError`` (403) when the caller may see nothing of the kind."""

Hooks = Callable[[], Mapping[tuple[str, str], ObjectHook]]


async def see_everything(
    request: Request, cluster: str, rt: ResourceType
) -> NamespacePredicate | None:
    return None


def _no_hooks() -> Mapping[tuple[str, str], ObjectHook]:
    return {}


def _read_through(hook: ObjectHook, body: bytes) -> bytes:
    """A kind with a read hook (a User's password) is decoded and passed through it."""
    assert hook.read is not None
    found = orjson.loads(body)
    if isinstance(found.get("items"), list):
        found["items"] = [hook.read(item) for item in found["items"]]
    else:
        found = hook.read(found)
    return orjson.dumps(found)


async def _list_params(
    name: Annotated[str | None, Param(description="A substring of metadata.name.")] = None,
    label_selector: Annotated[
        str | None, Param(alias="labelSelector", description="As Kubernetes' labelSelector.")
    ] = None,
    field_selector: Annotated[
        str | None, Param(alias="fieldSelector", description="As Kubernetes' fieldSelector.")
    ] = None,
    sort_by: Annotated[
        str | None, Param(alias="sortBy", description="createTime (default), name or status.")
    ] = None,
    ascending: Annotated[
        str | None, Param(description="true or false (default: newest or last first).")
    ] = None,
    page: Annotated[str | None, Param(description="1-based page number (default 1).")] = None,
    limit: Annotated[
        str | None,
        Param(description=f"Items per page (default {DEFAULT_LIMIT}, at most {MAX_LIMIT})."),
    ] = None,
) -> dict[str, str]:
    # Declared as text, so a malformed value is our 400, never a framework 422.
    given = {
        "name": name,
        "labelSelector": label_selector,
        "fieldSelector": field_selector,
        "sortBy": sort_by,
        "ascending": ascending,
        "page": page,
        "limit": limit,
    }
    return {key: value for key, value in given.items() if value is not None}


ListParams = Annotated[dict[str, str], Depends(_list_params)]


def _scope_checked(rt: ResourceType, namespace: str | None, name: str | None) -> None:
    what = resource_name(rt)
    if namespace is not None and not rt.namespaced:
        raise NotFound(f"{what} are not namespaced: ask without namespaces/{namespace}")
    if name is not None and namespace is None and rt.namespaced:
        raise NotFound(f"{what} are namespaced: ask under namespaces/{{namespace}}/{what}")


def _is_namespaces(rt: ResourceType) -> bool:
    return rt.group == "" and rt.plural == "namespaces"


def resources_router(
    registry: Callable[[], StoreRegistry | None],
    *,
    visible: Visible = see_everything,
    hooks: Hooks = _no_hooks,
) -> APIRouter:
    """The routes, reading stores through ``registry`` (None until the component started)."""
    router = APIRouter(prefix=PREFIX, tags=["resources"])

    async def list_objects(
        request: Request, cluster: str, namespace: str | None, resource: str, params: dict[str, str]
    ) -> Response:
        stores = registry()
        if stores is None:
            return problem(503, "Atoll is starting; try again in a moment")
        try:
            query = Query.parse(params)
            rt = await stores.resolve(cluster, resource)
            _scope_checked(rt, namespace, None)
            store = await stores.synced(cluster, rt)
            predicate = None
            if namespace is None:
                predicate = await visible(request, cluster, rt)
            body = answer(
                store,
                query,
                namespace=namespace,
                visible=predicate,
                visible_by_name=_is_namespaces(rt),
            )
        except ApiError as error:
            return _problem(error)
        hook = hooks().get((rt.group, rt.plural))
        if hook is not None and hook.read is not None:
            body = _read_through(hook, body)
        return Response(body, media_type="application/json")

    async def get_object(cluster: str, namespace: str | None, resource: str, name: str) -> Response:
        stores = registry()
        if stores is None:
            return problem(503, "Atoll is starting; try again in a moment")
        try:
            rt = await stores.resolve(cluster, resource)
            _scope_checked(rt, namespace, name)
            store = await stores.synced(cluster, rt)
            entry = store.get(namespace or "", name)
            if entry is None:
                raise NotFound.of(rt.plural, rt.group, name)
        except ApiError as error:
            return _problem(error)
        hook = hooks().get((rt.group, rt.plural))
        if hook is not None and hook.read is not None:
            return Response(_read_through(hook, entry.raw), media_type="application/json")
        return Response(entry.raw, media_type="application/json")

    @router.get("/{resource}", summary="List objects of any namespace (or cluster-scoped)")
    async def list_all(request: Request, resource: str, params: ListParams) -> Response:
        return await list_objects(request, HOST, None, resource, params)

    @router.get("/{resource}/{name}", summary="Get a cluster-scoped object (or a namespace)")
    async def get_cluster_scoped(resource: str, name: str) -> Response:
        return await get_object(HOST, None, resource, name)

    @router.get("/namespaces/{namespace}/{resource}", summary="List objects of a namespace")
    async def list_namespaced(
        request: Request, namespace: str, resource: str, params: ListParams
    ) -> Response:
        return await list_objects(request, HOST, namespace, resource, params)

    @router.get("/namespaces/{namespace}/{resource}/{name}", summary="Get a namespaced object")
    async def get_namespaced(namespace: str, resource: str, name: str) -> Response:
        return await get_object(HOST, namespace, resource, name)

    @router.get("/clusters/{cluster}/{resource}", summary="List, in a cluster")
    async def list_all_in(
        request: Request, cluster: str, resource: str, params: ListParams
    ) -> Response:
        return await list_objects(request, cluster, None, resource, params)

    @router.get("/clusters/{cluster}/{resource}/{name}", summary="Get, in a cluster")
    async def get_cluster_scoped_in(cluster: str, resource: str, name: str) -> Response:
        return await get_object(cluster, None, resource, name)

    @router.get(
        "/clusters/{cluster}/namespaces/{namespace}/{resource}", summary="List, in a cluster"
    )
    async def list_namespaced_in(
        request: Request, cluster: str, namespace: str, resource: str, params: ListParams
    ) -> Response:
        return await list_objects(request, cluster, namespace, resource, params)

    @router.get(
        "/clusters/{cluster}/namespaces/{namespace}/{resource}/{name}", summary="Get, in a cluster"
    )
    async def get_namespaced_in(cluster: str, namespace: str, resource: str, name: str) -> Response:
        return await get_object(cluster, namespace, resource, name)

    return router


def _problem(error: ApiError) -> Response:
    response = problem(error.code, error.message)
    if error.retry_after is not None:
        response.headers["Retry-After"] = str(error.retry_after)
    return response
