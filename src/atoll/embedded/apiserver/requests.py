"""Request info for the embedded API server: what a path and method ask for.

kube-apiserver's RequestInfoFactory in small: ``/api/v1/namespaces/ns/pods/web/log`` becomes
(group "", version v1, namespace ns, resource pods, name web, subresource log, verb get).
The two-segment ``namespaces/{name}`` means the Namespace itself; ``namespaces/{name}/status``
and ``/finalize`` are its subresources; the legacy ``/watch/`` prefix turns a GET into a watch.
"""

from __future__ import annotations

from dataclasses import dataclass

from atoll.errors import NotFound

__all__ = ["RequestInfo", "parse_request"]

_NAMESPACE_SUBRESOURCES = frozenset({"status", "finalize"})


@dataclass(frozen=True, slots=True)
class RequestInfo:
    group: str
    version: str
    resource: str
    namespace: str | None = None  # None: not namespaced or across all namespaces
    name: str = ""
    subresource: str = ""
    verb: str = ""
    legacy_watch: bool = False

    @property
    def is_collection(self) -> bool:
        return not self.name


def _verb(method: str, *, named: bool, watch: bool) -> str:
    if method in ("GET", "HEAD"):
        if watch:
            return "watch"
        return "get" if named else "list"
    return {
        "POST": "create",
        "PUT": "update",
        "PATCH": "patch",
        "DELETE": "delete" if named else "deletecollection",
    }.get(method, method.lower())


def parse_request(group: str, version: str, rest: list[str], method: str) -> RequestInfo:
    """Parse the segments after ``/api/v1`` or ``/apis/{group}/{version}``."""
    legacy_watch = False
    if rest and rest[0] == "watch":
        legacy_watch = True
        rest = rest[1:]
    if not rest or any(not seg for seg in rest):
        raise NotFound("the server could not find the requested resource")
    namespace: str | None = None
    if (
        rest[0] == "namespaces"
        and len(rest) >= 3
        and not (len(rest) == 3 and rest[2] in _NAMESPACE_SUBRESOURCES)
    ):
        namespace, rest = rest[1], rest[2:]
    if len(rest) > 3:
        raise NotFound("the server could not find the requested resource")
    resource = rest[0]
    name = rest[1] if len(rest) > 1 else ""
    subresource = rest[2] if len(rest) > 2 else ""
    verb = _verb(method, named=bool(name), watch=legacy_watch)
    return RequestInfo(
        group=group,
        version=version,
        resource=resource,
        namespace=namespace,
        name=name,
        subresource=subresource,
        verb=verb,
        legacy_watch=legacy_watch,
    )
