"""Who is asking and what for: the types every request passes through.

``RequestInfo`` is what a request asks, read from its method and path alone as Kubernetes'
and KubeSphere's request-info filters do: a verb (``get``, ``list``, ``watch``, ``create``,
``update``, ``patch``, ``delete``, ``deletecollection``), and for resource requests the API
group, resource, subresource, name and scope (cluster, workspace, namespace). Paths:

- ``/api/v1/…`` and ``/apis/<group>/<version>/…``: Kubernetes paths, the host cluster's;
  ``/clusters/<c>/api…`` and ``/clusters/<c>/apis…``: the same in cluster ``c``.
- ``/kapis/<group>/<version>/[clusters/<c>/][workspaces/<ws>/[clusters/<c>/]][namespaces/<ns>/]
  <resource>[/<name>[/<subresource>]]``: Atoll's own API, scoped as KubeSphere's is. Two segments
  ``namespaces/<name>`` mean the namespace itself, as on Kubernetes paths.
- anything else is a non-resource request (``/healthz``, ``/oauth/token``).

``attributes_info`` and ``path_info`` build the same from what a SubjectAccessReview names
(verb, group, resource… or a non-resource path), so a review is decided exactly as the
request it describes would be.

A ``Principal`` is who asks (``ANONYMOUS`` without credentials). The server has one
``Pipeline``: components register its authenticator, its authorizer and its audit sinks at
start, and the request pipeline (``server.pipeline``) consults them for every request.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from starlette.requests import HTTPConnection

from .auditing import AuditEvent, AuditSink

__all__ = [
    "ANONYMOUS",
    "Admission",
    "Authenticator",
    "Authorizer",
    "Decision",
    "ObjectHook",
    "Pipeline",
    "Principal",
    "RequestInfo",
    "attributes_info",
    "in_cluster",
    "path_info",
    "principal_of",
    "request_info",
]

logger = logging.getLogger(__name__)

HOST_CLUSTER = "host"


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    groups: tuple[str, ...] = ()

    @property
    def anonymous(self) -> bool:
        return self is ANONYMOUS or self.name == ANONYMOUS.name


ANONYMOUS = Principal("system:anonymous", ("system:unauthenticated",))


@dataclass(frozen=True, slots=True)
class RequestInfo:
    verb: str
    path: str
    resource_request: bool = False
    prefix: str = ""  # "api", "apis" or "kapis" for resource requests
    api_group: str = ""
    api_version: str = ""
    resource: str = ""
    subresource: str = ""
    name: str = ""
    namespace: str = ""
    workspace: str = ""
    cluster: str = HOST_CLUSTER

    def scoped(self, **changes: str) -> RequestInfo:
        return replace(self, **changes)  # type: ignore[arg-type]


_CLUSTER_PATHS = frozenset({"api", "apis", "version", "openapi"})
_VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}
READ_VERBS = frozenset({"get", "list", "watch"})
# A pod's streams that run or reach into it: authorized as ``create`` whatever the method,
# so a WebSocket's GET needs what a POST needs (a viewer's ``get`` must not open a shell).
_STREAMS = frozenset({"exec", "attach", "portforward"})


def in_cluster(path: str) -> tuple[str, str]:
    """The cluster a Kubernetes path is for, and the path within it:
    ``/clusters/<c>/api/…`` → (``c``, ``/api/…``); any other path is the host's, as is."""
    parts = path.split("/", 4)  # "", "clusters", <c>, "api", rest
    if len(parts) >= 4 and parts[1] == "clusters" and parts[2] and parts[3] in _CLUSTER_PATHS:
        return parts[2], "/" + "/".join(parts[3:])
    return HOST_CLUSTER, path


def request_info(method: str, path: str, query: dict[str, str] | None = None) -> RequestInfo:
    """What ``method`` on ``path`` asks (``query`` tells a watch from a list)."""
    cluster, inner = in_cluster(path)
    if inner != path:  # /clusters/<c>/api/…: that cluster's own API, asked as the host's is
        return request_info(method, inner, query).scoped(cluster=cluster, path=path)
    query = query or {}
    parts = [p for p in path.split("/") if p]
    verb = _VERBS.get(method.upper(), "get")
    if not parts or parts[0] not in ("api", "apis", "kapis"):
        return RequestInfo(verb=verb if method.upper() != "HEAD" else "get", path=path)
    prefix = parts[0]
    if prefix == "api":
        group, rest = "", parts[1:]
    else:
        group, rest = (parts[1] if len(parts) > 1 else ""), parts[2:]
    if not rest:  # /api, /apis, /apis/<group>: discovery
        return RequestInfo(verb="get", path=path)
    version, rest = rest[0], rest[1:]
    cluster, workspace, namespace = HOST_CLUSTER, "", ""
    if prefix == "kapis":
        if len(rest) >= 3 and rest[0] == "clusters":  # clusters/<c>/…; clusters/<c> alone is
            cluster, rest = rest[1], rest[2:]  # the Cluster object of cluster.atoll.io
        if len(rest) >= 3 and rest[0] == "workspaces":
            workspace, rest = rest[1], rest[2:]
            if len(rest) >= 3 and rest[0] == "clusters":  # workspaces/<ws>/clusters/<c>/…
                cluster, rest = rest[1], rest[2:]
        elif len(rest) == 2 and rest[0] == "workspaces":  # the workspace itself
            return RequestInfo(
                verb=verb,
                path=path,
                resource_request=True,
                prefix=prefix,
                api_group=group,
                api_version=version,
                resource="workspaces",
                name=rest[1],
                workspace=rest[1],
                cluster=cluster,
            )
    if prefix == "api" or prefix == "apis" or prefix == "kapis":
        if len(rest) >= 3 and rest[0] == "namespaces":
            namespace, rest = rest[1], rest[2:]
        elif len(rest) == 2 and rest[0] == "namespaces":  # the namespace itself
            namespace = rest[1]
    if not rest:
        return RequestInfo(verb="get", path=path)
    resource = rest[0]
    name = rest[1] if len(rest) > 1 else ""
    subresource = rest[2] if len(rest) > 2 else ""
    if not name:
        if verb == "get":
            verb = "watch" if query.get("watch") in ("1", "true") else "list"
        elif verb == "delete":
            verb = "deletecollection"
    elif verb == "get" and query.get("watch") in ("1", "true"):
        verb = "watch"
    return _implied(
        RequestInfo(
            verb=verb,
            path=path,
            resource_request=True,
            prefix=prefix,
            api_group=group,
            api_version=version,
            resource=resource,
            subresource=subresource,
            name=name,
            namespace=namespace,
            workspace=workspace,
            cluster=cluster,
        )
    )


def _implied(info: RequestInfo) -> RequestInfo:
    """What a resource request implies beyond its path's segments, wherever it was read from."""
    changes: dict[str, str] = {}
    if info.resource == "namespaces" and info.name and not info.namespace:
        changes["namespace"] = info.name
    if info.resource == "pods" and info.subresource in _STREAMS:
        changes["verb"] = "create"  # running a command is a write, over POST or GET alike
    if info.resource == "workspaces" and info.api_group == "tenant.atoll.io" and info.name:
        changes["workspace"] = info.name  # a workspace is in its own scope, as a namespace is
    return info.scoped(**changes) if changes else info


def attributes_info(
    verb: str,
    *,
    resource: str,
    group: str = "",
    version: str = "",
    subresource: str = "",
    name: str = "",
    namespace: str = "",
    workspace: str = "",
    cluster: str = HOST_CLUSTER,
    atoll_api: bool = False,
) -> RequestInfo:
    """What the pipeline reads from a request on a resource named by its attributes (a
    SubjectAccessReview's), in ``cluster``: on that cluster's Kubernetes API (``/api``,
    ``/apis``) or, with ``atoll_api``, on Atoll's own (``/kapis``, the only one with
    workspaces). Built directly rather than parsed from a path, since a review may leave
    out what a path cannot (a subresource of any name). The path is for messages only."""
    version = version or "v1"
    if atoll_api:
        prefix, root = "kapis", f"/kapis/{group}/{version}"
        scopes = [
            ("workspaces", workspace),
            ("clusters", "" if cluster == HOST_CLUSTER else cluster),
        ]
    else:
        prefix = "apis" if group else "api"
        root = f"/apis/{group}/{version}" if group else f"/api/{version}"
        if cluster != HOST_CLUSTER:
            root = f"/clusters/{cluster}{root}"
        scopes = []
    scopes.append(("namespaces", namespace))
    segments = [s for kind, value in scopes if value for s in (kind, value)]
    segments += [s for s in (resource, name, subresource) if s]
    info = RequestInfo(
        verb=verb,
        path="/".join([root, *segments]),
        resource_request=True,
        prefix=prefix,
        api_group=group,
        api_version=version,
        resource=resource,
        subresource=subresource,
        name=name,
        namespace=namespace,
        workspace=workspace if atoll_api else "",
        cluster=cluster,
    )
    if atoll_api and resource == "workspaces" and name:  # /kapis/…/workspaces/<ws>
        info = info.scoped(workspace=name)
    return _implied(info)


def path_info(verb: str, path: str, cluster: str = HOST_CLUSTER) -> RequestInfo:
    """What the pipeline reads from a non-resource request (``/version``, ``/healthz``) in
    ``cluster``: a path Atoll passes to that cluster (``/clusters/<c>/version``) is asked
    as such; any other is Atoll's own, as it is."""
    if cluster != HOST_CLUSTER and in_cluster(f"/clusters/{cluster}{path}") == (cluster, path):
        path = f"/clusters/{cluster}{path}"
    return RequestInfo(verb=verb, path=path, cluster=cluster)


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason: str = ""


class Authenticator(Protocol):
    async def __call__(self, token: str) -> Principal | None:
        """The principal a bearer token stands for; None when it is not valid (any more)."""
        ...


class Authorizer(Protocol):
    async def __call__(self, who: Principal, info: RequestInfo) -> Decision: ...


async def _deny_all(who: Principal, info: RequestInfo) -> Decision:
    return Decision(False, "no authorizer is installed")


async def _nobody(token: str) -> Principal | None:
    return None


@dataclass(frozen=True)
class ObjectHook:
    """How one kind of object passes the cluster proxy: ``write`` sees (and may change or
    refuse, raising an ``ApiError``) each object created or replaced through Atoll;
    ``read`` changes each object answered (gets, lists, watch events). The iam component
    hashes a User's password on the way in and leaves it out on the way out."""

    write: Callable[[RequestInfo, dict[str, Any]], Awaitable[dict[str, Any]]] | None = None
    read: Callable[[dict[str, Any]], dict[str, Any]] | None = None


# ``(info, outcome)``: refuse a write by raising an ``ApiError``. ``outcome()`` is the object as
# the write would leave it (a server-side dry run, made only when asked for; None when the
# write would fail anyway), so patches and scales are judged by their result.
Admission = Callable[[RequestInfo, Callable[[], Awaitable[dict[str, Any] | None]]], Awaitable[None]]


@dataclass
class Pipeline:
    """The hooks every request goes through, filled in by the components at start."""

    authenticate: Callable[[str], Awaitable[Principal | None]] = _nobody
    authorize: Callable[[Principal, RequestInfo], Awaitable[Decision]] = _deny_all
    audit_sinks: list[AuditSink] = field(default_factory=list)
    # Path prefixes anyone may call (login, probes, the OpenAPI document).
    public: list[str] = field(default_factory=list)
    # Tests of further paths anyone may call: the console's pages (every path outside the API).
    public_tests: list[Callable[[str], bool]] = field(default_factory=list)
    # Requests that routes filter by what the caller may see, instead of being refused
    # whole: each a test of the request, as narrow as can be (a prefix would let through
    # whatever else shares it). The route asks ``authorize`` or ``visible_*`` itself.
    filtering: list[Callable[[RequestInfo], bool]] = field(default_factory=list)
    # Where a caller may do what a request asks, namespace by namespace or workspace by
    # workspace: None means everywhere (a platform or cluster grant). For routes that filter.
    visible_namespaces: Callable[[Principal, RequestInfo], set[str] | None] = lambda who, info: (
        set()
    )
    visible_workspaces: Callable[[Principal, RequestInfo], set[str] | None] = lambda who, info: (
        set()
    )
    # Requests that change nothing though their verb is a write (a review is a create that
    # asks a question): not audited when allowed, so a console asking what to offer on every
    # page does not bury the changes in the trail. Refusals are audited all the same.
    unaudited: list[Callable[[RequestInfo], bool]] = field(default_factory=list)
    # Consulted by the cluster proxy before each create, update or patch it passes on.
    admission: list[Admission] = field(default_factory=list)
    # Per (API group, resource): what the cluster proxy does to such objects.
    object_hooks: dict[tuple[str, str], ObjectHook] = field(default_factory=dict)

    def audit(
        self, who: Principal, info: RequestInfo, source: str, code: int, reason: str = ""
    ) -> None:
        """Hand the sinks one event for what ``who`` asked (``info``) and how it ended; a
        sink that fails is logged and never breaks the request."""
        if not self.audit_sinks:
            return
        event = AuditEvent(
            time=datetime.now(UTC),
            user="" if who.anonymous else who.name,
            source=source,
            verb=info.verb,
            path=info.path,
            code=code,
            cluster=info.cluster if info.resource_request else "",
            workspace=info.workspace,
            namespace=info.namespace,
            api_group=info.api_group,
            resource=info.resource,
            subresource=info.subresource,
            name=info.name,
            reason=reason,
        )
        for sink in self.audit_sinks:
            try:
                sink(event)
            except Exception:
                logger.exception("an audit sink failed")

    def is_public(self, path: str) -> bool:
        """Whether anyone may call ``path``: it is listed in ``public``, or under a listed
        prefix ending in ``/``, or one of ``public_tests`` says so."""
        if any(path == p or (p.endswith("/") and path.startswith(p)) for p in self.public):
            return True
        return any(test(path) for test in self.public_tests)


def principal_of(connection: HTTPConnection) -> Principal:
    """The caller of a request the pipeline has let through (``ANONYMOUS`` on public paths)."""
    found = connection.scope.get("atoll.principal")
    return found if isinstance(found, Principal) else ANONYMOUS
