"""Which Ingress rule answers a request, and which certificate answers a TLS hello — no I/O.

The ingress proxy (``ingress.py``) turns the Ingresses it serves into one immutable
``RouteTable`` with ``build_table`` and swaps it in whole, so a request never sees a table
half built; everything here is pure so the matching rules are tested without servers.

Matching follows ingress-nginx, where every host is an nginx ``server`` and every path a
``location``:

- The host picks one group: the exact host, else the wildcard ``*.<rest>`` covering exactly
  one leftmost label (``*.example.com`` matches ``a.example.com``, not ``example.com`` nor
  ``a.b.example.com``), else the rules without a host. Once a group is chosen the others
  are not consulted — a request for ``a.test`` never falls through to host-less rules, as
  nginx never falls through to another ``server``.
- Within the group: an ``Exact`` path equal to the request path wins (it is at least as
  long as any prefix that matches); else the longest ``Prefix`` matching element-wise on
  ``/``-separated elements (``/foo`` matches ``/foo``, ``/foo/`` and ``/foo/bar``, never
  ``/foobar``). ``ImplementationSpecific`` is a ``Prefix``, as ingress-nginx treats it
  without its regex annotation.
- Nothing matched: the ``spec.defaultBackend`` of the oldest Ingress with rules for that
  group (ingress-nginx's root location of the server); for the host-less group, also of
  Ingresses that have no rules at all (its catch-all server). Else None: the proxy's 404.
- Rules of several Ingresses merge; the same host, path and type in two of them goes to
  the older (creationTimestamp, then namespace/name), and the newer one hears of it.

TLS: ``spec.tls[].hosts`` name the hosts a Secret's certificate answers for (an entry
without hosts covers its Ingress's rule hosts; one without ``secretName`` gets the
fallback certificate). A certificate is chosen for an SNI name like a host group: exact,
then one-label wildcard. A route's host that has TLS is redirected from plain HTTP unless
its Ingress says ``ssl-redirect: "false"``.

Bad parts of an object (no service name, a relative path, rules that are not a list) are
skipped and reported as ``Problem`` s; a broken Ingress never stops the others.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

__all__ = [
    "CLASS_ANNOTATION",
    "CONTROLLER",
    "SSL_REDIRECT_ANNOTATIONS",
    "Backend",
    "PathType",
    "Problem",
    "ResourceBackend",
    "Route",
    "RouteTable",
    "ServiceBackend",
    "TlsHost",
    "build_table",
    "controller_classes",
    "normalize_host",
    "select_host",
    "serves",
]

CONTROLLER = "atoll.io/ingress-controller"
CLASS_ANNOTATION = "kubernetes.io/ingress.class"
SSL_REDIRECT_ANNOTATIONS = ("nginx.ingress.kubernetes.io/ssl-redirect", "atoll.io/ssl-redirect")

PathType = Literal["Exact", "Prefix", "Default"]
T = TypeVar("T")
_Obj = Mapping[str, Any]
_HOST = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?|\[[0-9a-f:.]+\]")
_PORT = re.compile(r"[0-9]{1,5}")


@dataclass(frozen=True, slots=True)
class ServiceBackend:
    """A Service port (its number or name) in the Ingress's namespace."""

    namespace: str
    name: str
    port: int | str

    @property
    def service(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True, slots=True)
class ResourceBackend:
    """A ``TypedLocalObjectReference`` backend (object storage and the like): not proxied."""

    namespace: str
    kind: str
    name: str
    api_group: str = ""


Backend = ServiceBackend | ResourceBackend


@dataclass(frozen=True, slots=True)
class Route:
    """One path of one rule (or a default backend, ``path_type="Default"``)."""

    ingress: str  # namespace/name of the Ingress it comes from
    host: str  # as written, lower-cased; "" for any host
    path: str
    path_type: PathType
    backend: Backend
    ssl_redirect: bool = False  # plain-HTTP requests get a 308 to https


@dataclass(frozen=True, slots=True)
class TlsHost:
    host: str
    secret: str  # namespace/name of a kubernetes.io/tls Secret; "" for the fallback
    ingress: str


@dataclass(frozen=True, slots=True)
class Problem:
    """Part of an Ingress that was skipped; ``reason`` becomes the Event's reason."""

    ingress: str
    reason: str
    message: str


@dataclass(frozen=True, slots=True)
class _Group:
    exact: Mapping[str, Route]
    prefix: Mapping[str, Route]  # by normalized path: "/a/b" for "/a/b/", "/" for "/"
    default: Route | None

    def match(self, path: str) -> Route | None:
        found = self.exact.get(path)
        if found is not None:
            return found
        if self.prefix:
            parts = [part for part in path.split("/") if part]
            for n in range(len(parts), -1, -1):
                found = self.prefix.get("/" + "/".join(parts[:n]))
                if found is not None:
                    return found
        return self.default


@dataclass(frozen=True, slots=True)
class RouteTable:
    """Every route of the served Ingresses; immutable, replaced whole on changes."""

    groups: Mapping[str, _Group] = field(default_factory=dict)  # by host pattern
    tls: Mapping[str, TlsHost] = field(default_factory=dict)  # by host pattern
    ingresses: frozenset[str] = frozenset()  # keys of the Ingresses it was built from

    def match(self, host: str, path: str) -> Route | None:
        """The route for a normalized host (``normalize_host``) and a decoded path."""
        group = select_host(host, self.groups) if host else None
        if group is None:
            group = self.groups.get("")
        return group.match(path) if group is not None else None

    def certificate(self, server_name: str | None) -> TlsHost | None:
        """The TLS entry for an SNI name, or None for the fallback certificate."""
        host = normalize_host(server_name or "")
        return select_host(host, self.tls) if host else None

    def routes(self) -> Iterator[Route]:
        """Every route, default backends included."""
        for group in self.groups.values():
            yield from group.exact.values()
            yield from group.prefix.values()
            if group.default is not None:
                yield group.default

    @property
    def secrets(self) -> frozenset[str]:
        return frozenset(entry.secret for entry in self.tls.values() if entry.secret)


def normalize_host(header: str) -> str | None:
    """The host of a ``Host`` header or SNI name: lower case, no port, no trailing dot;
    "" when absent; None when it is not a host name or address at all."""
    host = header.strip().lower()
    if not host:
        return ""
    if host.startswith("["):  # an IPv6 literal, maybe with a port
        end = host.find("]")
        if end < 0 or host[end + 1 : end + 2] not in ("", ":"):
            return None
        host, port = host[: end + 1], host[end + 2 :]
    else:
        host, _, port = host.partition(":")
    if port and not _PORT.fullmatch(port):
        return None
    if not _HOST.fullmatch(host):
        return None
    return host.rstrip(".")


def select_host(host: str, entries: Mapping[str, T]) -> T | None:
    """The entry for ``host``: exact, else a wildcard covering exactly its first label."""
    found = entries.get(host)
    if found is not None or "." not in host or host.startswith("["):
        return found
    if _is_ip(host):
        return None
    return entries.get("*." + host.split(".", 1)[1])


def controller_classes(ingress_classes: Iterable[_Obj], *, class_name: str) -> frozenset[str]:
    """``class_name`` plus every IngressClass whose ``spec.controller`` is this proxy's."""
    names = {class_name}
    for item in ingress_classes:
        if _map(item.get("spec")).get("controller") == CONTROLLER:
            names.add(str(_map(item.get("metadata")).get("name") or ""))
    return frozenset(names - {""})


def serves(ingress: _Obj, *, classes: Collection[str], default_class: bool) -> bool:
    """Whether this proxy serves ``ingress``: its class (field, else the legacy annotation)
    is one of ``classes``, or it names none and this proxy is the default."""
    name = _text(_map(ingress.get("spec")).get("ingressClassName"))
    if not name:
        annotations = _map(_map(ingress.get("metadata")).get("annotations"))
        name = _text(annotations.get(CLASS_ANNOTATION))
    return name in classes if name else default_class


def build_table(ingresses: Iterable[_Obj]) -> tuple[RouteTable, list[Problem]]:
    """The table of the given (already class-filtered) Ingresses, and what was skipped."""
    ordered = sorted(ingresses, key=_age)
    problems: list[Problem] = []
    tls: dict[str, TlsHost] = {}
    for ingress in ordered:
        _add_tls(ingress, tls)
    builders: dict[str, _Builder] = {}
    keys: set[str] = set()
    for ingress in ordered:
        key = _key(ingress)
        keys.add(key)
        try:
            problems += _add_rules(ingress, key, builders, tls)
        except Exception as exc:  # a shape no check foresaw: skip the rest of this one
            why = f"skipped after an unexpected {type(exc).__name__}: {exc}"
            problems.append(Problem(key, "BadIngress", why))
    groups = {host: builder.freeze() for host, builder in builders.items()}
    return RouteTable(groups, tls, frozenset(keys)), problems


# -- building ------------------------------------------------------------------------------


@dataclass(slots=True)
class _Builder:
    exact: dict[str, Route] = field(default_factory=dict)
    prefix: dict[str, Route] = field(default_factory=dict)
    default: Route | None = None

    def add(self, route: Route) -> Route | None:
        """Add ``route`` unless its place is taken; return the route that holds it."""
        table = self.exact if route.path_type == "Exact" else self.prefix
        slot = route.path if route.path_type == "Exact" else _normalized(route.path)
        holder = table.setdefault(slot, route)
        return None if holder is route else holder

    def freeze(self) -> _Group:
        return _Group(dict(self.exact), dict(self.prefix), self.default)


def _add_tls(ingress: _Obj, tls: dict[str, TlsHost]) -> None:
    spec, key = _map(ingress.get("spec")), _key(ingress)
    namespace = key.partition("/")[0]
    rule_hosts = [_text(_map(rule).get("host")).lower() for rule in _list(spec.get("rules"))]
    for entry in map(_map, _list(spec.get("tls"))):
        secret = _text(entry.get("secretName"))
        hosts = [_text(h).lower() for h in _list(entry.get("hosts"))] or rule_hosts
        for host in filter(None, hosts):
            tls.setdefault(host, TlsHost(host, f"{namespace}/{secret}" if secret else "", key))


@dataclass(frozen=True, slots=True)
class _Source:
    """The Ingress a rule comes from, as its routes need it."""

    key: str
    namespace: str
    redirect: bool  # its annotations allow the https redirect

    def ssl(self, host: str, tls: Mapping[str, TlsHost]) -> bool:
        return self.redirect and bool(host) and select_host(host, tls) is not None


def _add_rules(
    ingress: _Obj, key: str, builders: dict[str, _Builder], tls: Mapping[str, TlsHost]
) -> list[Problem]:
    spec = _map(ingress.get("spec"))
    annotations = _map(_map(ingress.get("metadata")).get("annotations"))
    redirect = all(str(annotations.get(a, "")).lower() != "false" for a in SSL_REDIRECT_ANNOTATIONS)
    source = _Source(key, key.partition("/")[0], redirect)
    problems: list[Problem] = []
    default: Backend | None = None
    if spec.get("defaultBackend") is not None:
        default, why = _backend(spec.get("defaultBackend"), source.namespace)
        if why:
            problems.append(Problem(key, "BadBackend", f"spec.defaultBackend: {why}"))
    rules = spec.get("rules")
    if rules is not None and not isinstance(rules, list):
        problems.append(Problem(key, "BadRule", "spec.rules is not a list"))
    hosts: list[str] = [] if _list(rules) else [""]  # no rules: the default is a catch-all
    for i, rule in enumerate(_list(rules)):
        host = _add_rule(source, f"spec.rules[{i}]", rule, builders, tls, problems)
        if host is not None:
            hosts.append(host)
    if default is not None:
        for host in hosts:
            builder = builders.setdefault(host, _Builder())
            if builder.default is None:
                ssl = source.ssl(host, tls)
                builder.default = Route(key, host, "/", "Default", default, ssl)
    return problems


def _add_rule(
    source: _Source,
    where: str,
    rule: Any,
    builders: dict[str, _Builder],
    tls: Mapping[str, TlsHost],
    problems: list[Problem],
) -> str | None:
    """Add the paths of one rule; return its host, or None when the rule is unusable."""
    if not isinstance(rule, Mapping):
        problems.append(Problem(source.key, "BadRule", f"{where} is not an object"))
        return None
    host = _text(rule.get("host")).lower()
    if host and not _valid_rule_host(host):
        problems.append(Problem(source.key, "BadRule", f"{where}: bad host {host!r}"))
        return None
    builder = builders.setdefault(host, _Builder())
    ssl = source.ssl(host, tls)
    for j, item in enumerate(map(_map, _list(_map(rule.get("http")).get("paths")))):
        at = f"{where}.http.paths[{j}]"
        route, why = _route(item, key=source.key, host=host, namespace=source.namespace, ssl=ssl)
        if route is None:
            problems.append(Problem(source.key, "BadRule", f"{at}: {why}"))
            continue
        holder = builder.add(route)
        if holder is not None:
            taken = f"{host or '*'}{route.path} is already served by {holder.ingress}"
            problems.append(Problem(source.key, "PathConflict", f"{at}: {taken}"))
    return host


def _route(
    item: _Obj, *, key: str, host: str, namespace: str, ssl: bool
) -> tuple[Route | None, str]:
    kind = _text(item.get("pathType")) or "ImplementationSpecific"
    path = _text(item.get("path"))
    if kind not in ("Exact", "Prefix", "ImplementationSpecific"):
        return None, f"unknown pathType {kind!r}"
    if kind == "ImplementationSpecific":
        kind, path = "Prefix", path or "/"
    if not path.startswith("/"):
        return None, f"path {path!r} is not absolute"
    backend, why = _backend(item.get("backend"), namespace)
    if backend is None:
        return None, why
    path_type: PathType = "Exact" if kind == "Exact" else "Prefix"
    return Route(key, host, path, path_type, backend, ssl), ""


def _backend(raw: Any, namespace: str) -> tuple[Backend | None, str]:
    backend = _map(raw)
    service, resource = backend.get("service"), backend.get("resource")
    if service is not None:
        service = _map(service)
        name, port = _text(service.get("name")), _map(service.get("port"))
        number, port_name = port.get("number"), _text(port.get("name"))
        if not name:
            return None, "the backend service has no name"
        if isinstance(number, int) and not isinstance(number, bool) and 0 < number < 65536:
            return ServiceBackend(namespace, name, number), ""
        if port_name:
            return ServiceBackend(namespace, name, port_name), ""
        return None, f"the backend service {name!r} has no port number or name"
    if resource is not None:
        resource = _map(resource)
        kind, name = _text(resource.get("kind")), _text(resource.get("name"))
        if kind and name:
            group = _text(resource.get("apiGroup"))
            return ResourceBackend(namespace, kind, name, group), ""
        return None, "the backend resource needs a kind and a name"
    return None, "the backend names neither a service nor a resource"


def _valid_rule_host(host: str) -> bool:
    name = host[2:] if host.startswith("*.") else host
    return bool(name) and not name.startswith("[") and normalize_host(name) == name


def _normalized(path: str) -> str:
    return "/" + "/".join(part for part in path.split("/") if part)


def _age(ingress: _Obj) -> tuple[str, str]:
    return _text(_map(ingress.get("metadata")).get("creationTimestamp")), _key(ingress)


def _key(ingress: _Obj) -> str:
    meta = _map(ingress.get("metadata"))
    return f"{_text(meta.get('namespace'))}/{_text(meta.get('name'))}"


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _map(value: Any) -> _Obj:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""
