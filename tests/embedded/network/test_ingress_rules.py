"""Matching of Ingress rules and TLS hosts, without servers (``ingress_rules``)."""

from __future__ import annotations

from typing import Any

import pytest

from atoll.embedded.network.ingress_rules import (
    CONTROLLER,
    Problem,
    ResourceBackend,
    RouteTable,
    ServiceBackend,
    build_table,
    controller_classes,
    normalize_host,
    select_host,
    serves,
)


def backend(service: str, port: int | str = 80) -> dict[str, Any]:
    key = "number" if isinstance(port, int) else "name"
    return {"service": {"name": service, "port": {key: port}}}


def path(value: str | None, service: str, kind: str | None = "Prefix") -> dict[str, Any]:
    item: dict[str, Any] = {"backend": backend(service)}
    if value is not None:
        item["path"] = value
    if kind is not None:
        item["pathType"] = kind
    return item


def ingress(
    name: str,
    rules: list[Any] | None = None,
    *,
    namespace: str = "ns",
    created: str = "2024-01-01T00:00:00Z",
    default: str | None = None,
    tls: list[dict[str, Any]] | None = None,
    annotations: dict[str, str] | None = None,
    class_name: str | None = None,
) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    if rules is not None:
        spec["rules"] = rules
    if default is not None:
        spec["defaultBackend"] = backend(default)
    if tls is not None:
        spec["tls"] = tls
    if class_name is not None:
        spec["ingressClassName"] = class_name
    meta: dict[str, Any] = {"name": name, "namespace": namespace, "creationTimestamp": created}
    if annotations:
        meta["annotations"] = annotations
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": meta, "spec": spec}


def rule(host: str | None, *paths: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"http": {"paths": list(paths)}}
    if host is not None:
        out["host"] = host
    return out


def table(*ingresses: dict[str, Any]) -> RouteTable:
    built, problems = build_table(ingresses)
    assert problems == []
    return built


def served_by(t: RouteTable, host: str, request_path: str) -> str | None:
    route = t.match(host, request_path)
    if route is None:
        return None
    assert isinstance(route.backend, ServiceBackend)
    return route.backend.name


# -- hosts -------------------------------------------------------------------------------


def test_exact_host_beats_wildcard_beats_no_host() -> None:
    t = table(
        ingress(
            "a",
            [
                rule("a.example.com", path("/", "exact")),
                rule("*.example.com", path("/", "wild")),
                rule(None, path("/", "any")),
            ],
        )
    )
    assert served_by(t, "a.example.com", "/x") == "exact"
    assert served_by(t, "b.example.com", "/x") == "wild"
    assert served_by(t, "example.com", "/x") == "any", "the wildcard needs one more label"
    assert served_by(t, "a.b.example.com", "/x") == "any", "a wildcard covers one label only"
    assert served_by(t, "other.test", "/") == "any"
    assert served_by(t, "", "/") == "any", "no Host header: the host-less rules"


def test_a_chosen_host_does_not_fall_through_to_host_less_rules() -> None:
    t = table(ingress("a", [rule("a.test", path("/api", "api")), rule(None, path("/", "any"))]))
    assert served_by(t, "a.test", "/api/v1") == "api"
    assert t.match("a.test", "/web") is None, "nginx never falls through to another server"
    assert served_by(t, "b.test", "/web") == "any"


def test_without_host_rules_unknown_hosts_get_nothing() -> None:
    t = table(ingress("a", [rule("a.test", path("/", "a"))]))
    assert t.match("b.test", "/") is None
    assert t.match("", "/") is None


@pytest.mark.parametrize(
    ("header", "host"),
    [
        ("A.Example.COM", "a.example.com"),
        ("a.test:8080", "a.test"),
        ("a.test.", "a.test"),
        ("127.0.0.1:80", "127.0.0.1"),
        ("[::1]:8443", "[::1]"),
        ("", ""),
        ("bad host", None),
        ("a.test:port", None),
        ("*.test", None),
        ("[::1]x", None),
        ("a/b", None),
    ],
)
def test_normalize_host(header: str, host: str | None) -> None:
    assert normalize_host(header) == host


def test_select_host_never_wildcards_an_ip_address() -> None:
    entries = {"*.0.0.1": "wild", "*.b.test": "b"}
    assert select_host("127.0.0.1", entries) is None
    assert select_host("a.b.test", entries) == "b"
    assert select_host("b.test", entries) is None


# -- paths -------------------------------------------------------------------------------


def test_prefix_matches_element_wise() -> None:
    t = table(ingress("a", [rule("a.test", path("/foo", "foo"))]))
    for hit in ("/foo", "/foo/", "/foo/bar", "/foo//bar/"):
        assert served_by(t, "a.test", hit) == "foo", hit
    for miss in ("/foobar", "/", "/fo", "/bar/foo"):
        assert t.match("a.test", miss) is None, miss


def test_a_prefix_with_a_trailing_slash_is_the_same_prefix() -> None:
    t = table(ingress("a", [rule("a.test", path("/foo/", "foo"))]))
    assert served_by(t, "a.test", "/foo") == "foo"
    assert served_by(t, "a.test", "/foo/bar") == "foo"
    assert t.match("a.test", "/foobar") is None


def test_exact_matches_only_the_same_path() -> None:
    t = table(ingress("a", [rule("a.test", path("/foo", "foo", "Exact"))]))
    assert served_by(t, "a.test", "/foo") == "foo"
    for miss in ("/foo/", "/foo/bar", "/FOO", "/"):
        assert t.match("a.test", miss) is None, miss


def test_implementation_specific_is_a_prefix_and_may_omit_the_path() -> None:
    t = table(
        ingress(
            "a",
            [
                rule("a.test", path("/x", "x", "ImplementationSpecific")),
                rule("b.test", path(None, "root", None)),
            ],
        )
    )
    assert served_by(t, "a.test", "/x/y") == "x"
    assert t.match("a.test", "/xy") is None
    assert served_by(t, "b.test", "/anything/at/all") == "root"


def test_longest_path_wins_and_exact_beats_prefix_at_equal_length() -> None:
    t = table(
        ingress(
            "a",
            [
                rule(
                    "a.test",
                    path("/", "root"),
                    path("/api", "api"),
                    path("/api/v2", "v2"),
                    path("/api", "api-exact", "Exact"),
                )
            ],
        )
    )
    assert served_by(t, "a.test", "/") == "root"
    assert served_by(t, "a.test", "/web") == "root"
    assert served_by(t, "a.test", "/api") == "api-exact"
    assert served_by(t, "a.test", "/api/") == "api"
    assert served_by(t, "a.test", "/api/v1") == "api"
    assert served_by(t, "a.test", "/api/v2/things") == "v2"
    assert served_by(t, "a.test", "/api/v22") == "api"


# -- default backends ----------------------------------------------------------------------


def test_default_backend_covers_the_hosts_of_its_ingress() -> None:
    t = table(
        ingress("a", [rule("a.test", path("/api", "api"))], default="fallback-a"),
        ingress("b", [rule("b.test", path("/api", "api"))]),
    )
    assert served_by(t, "a.test", "/api") == "api"
    assert served_by(t, "a.test", "/web") == "fallback-a"
    assert t.match("b.test", "/web") is None
    assert t.match("c.test", "/web") is None


def test_an_ingress_without_rules_is_the_catch_all() -> None:
    t = table(
        ingress("catch-all", default="everything"),
        ingress("a", [rule("a.test", path("/api", "api"))]),
    )
    assert served_by(t, "c.test", "/web") == "everything"
    assert served_by(t, "", "/") == "everything"
    assert t.match("a.test", "/web") is None, "a.test's server has its own root"
    route = t.match("c.test", "/")
    assert route is not None and route.path_type == "Default"


# -- several Ingresses ---------------------------------------------------------------------


def test_rules_of_several_ingresses_merge_and_the_oldest_wins_a_tie() -> None:
    young = ingress(
        "young",
        [rule("a.test", path("/api", "young-api"), path("/new", "new"))],
        created="2024-06-01T00:00:00Z",
        default="young-default",
    )
    old = ingress(
        "old",
        [rule("a.test", path("/api", "old-api"))],
        created="2024-01-01T00:00:00Z",
        default="old-default",
    )
    built, problems = build_table([young, old])
    assert served_by(built, "a.test", "/api/x") == "old-api"
    assert served_by(built, "a.test", "/new") == "new"
    assert served_by(built, "a.test", "/other") == "old-default"
    assert problems == [
        Problem(
            "ns/young",
            "PathConflict",
            "spec.rules[0].http.paths[0]: a.test/api is already served by ns/old",
        )
    ]
    assert built.ingresses == frozenset({"ns/young", "ns/old"})


def test_backends_are_in_the_namespace_of_their_ingress() -> None:
    t = table(
        ingress("a", [rule("a.test", path("/", "web"))], namespace="one"),
        ingress("b", [rule("b.test", path("/", "web"))], namespace="two"),
    )
    a, b = t.match("a.test", "/"), t.match("b.test", "/")
    assert a is not None and b is not None
    assert a.backend == ServiceBackend("one", "web", 80)
    assert b.backend == ServiceBackend("two", "web", 80)
    assert a.ingress == "one/a"


def test_service_ports_by_name_and_resource_backends() -> None:
    resource = {"resource": {"apiGroup": "k8s.example.com", "kind": "Bucket", "name": "static"}}
    t = table(
        ingress(
            "a",
            [
                rule(
                    "a.test",
                    {"path": "/named", "pathType": "Prefix", "backend": backend("web", "http")},
                    {"path": "/static", "pathType": "Prefix", "backend": resource},
                )
            ],
        )
    )
    named, static = t.match("a.test", "/named"), t.match("a.test", "/static/x")
    assert named is not None and named.backend == ServiceBackend("ns", "web", "http")
    assert static is not None
    assert static.backend == ResourceBackend("ns", "Bucket", "static", "k8s.example.com")


# -- bad objects -------------------------------------------------------------------------


def test_bad_parts_are_skipped_and_reported() -> None:
    bad = ingress(
        "bad",
        [
            rule(
                "a.test",
                path("relative", "x"),
                path("/odd", "x", "Regex"),
                {"path": "/noport", "pathType": "Prefix", "backend": {"service": {"name": "x"}}},
                {"path": "/nobackend", "pathType": "Prefix", "backend": {}},
                path("/good", "good"),
            ),
            rule("not a host!", path("/", "x")),
            "not a rule",
        ],
    )
    broken: dict[str, Any] = {"metadata": {"name": "broken", "namespace": "ns"}, "spec": "oops"}
    worse: dict[str, Any] = {"metadata": {"name": "worse", "namespace": "ns"}, "spec": {"rules": 3}}
    built, problems = build_table([bad, broken, worse])
    assert served_by(built, "a.test", "/good") == "good"
    assert sorted(t_reasons(problems)) == [
        ("ns/bad", "BadRule", "spec.rules[0].http.paths[0]: path 'relative' is not absolute"),
        ("ns/bad", "BadRule", "spec.rules[0].http.paths[1]: unknown pathType 'Regex'"),
        (
            "ns/bad",
            "BadRule",
            "spec.rules[0].http.paths[2]: the backend service 'x' has no port number or name",
        ),
        (
            "ns/bad",
            "BadRule",
            "spec.rules[0].http.paths[3]: the backend names neither a service nor a resource",
        ),
        ("ns/bad", "BadRule", "spec.rules[1]: bad host 'not a host!'"),
        ("ns/bad", "BadRule", "spec.rules[2] is not an object"),
        ("ns/worse", "BadRule", "spec.rules is not a list"),
    ]


def t_reasons(problems: list[Problem]) -> list[tuple[str, str, str]]:
    return [(p.ingress, p.reason, p.message) for p in problems]


# -- TLS -----------------------------------------------------------------------------------


def test_certificates_are_chosen_like_hosts() -> None:
    t = table(
        ingress(
            "a",
            [rule("a.test", path("/", "a")), rule("*.wild.test", path("/", "w"))],
            tls=[
                {"hosts": ["a.test"], "secretName": "a-cert"},
                {"hosts": ["*.wild.test"], "secretName": "wild-cert"},
            ],
        ),
        ingress("b", [rule("b.test", path("/", "b"))], namespace="other", tls=[{}]),
    )
    assert_secret(t, "a.test", "ns/a-cert")
    assert_secret(t, "A.TEST", "ns/a-cert")
    assert_secret(t, "x.wild.test", "ns/wild-cert")
    assert t.certificate("wild.test") is None
    assert t.certificate("x.y.wild.test") is None
    assert t.certificate(None) is None
    assert t.certificate("unknown.test") is None
    entry = t.certificate("b.test")
    assert entry is not None and entry.secret == "", "no secretName: the fallback certificate"
    assert t.secrets == frozenset({"ns/a-cert", "ns/wild-cert"})


def assert_secret(t: RouteTable, name: str, secret: str) -> None:
    entry = t.certificate(name)
    assert entry is not None and entry.secret == secret


def test_tls_hosts_are_redirected_unless_the_ingress_opts_out() -> None:
    t = table(
        ingress(
            "secure",
            [rule("secure.test", path("/", "s")), rule("plain.test", path("/", "p"))],
            tls=[{"hosts": ["secure.test"], "secretName": "cert"}],
        ),
        ingress(
            "relaxed",
            [rule("relaxed.test", path("/", "r"))],
            tls=[{"hosts": ["relaxed.test"], "secretName": "cert"}],
            annotations={"nginx.ingress.kubernetes.io/ssl-redirect": "false"},
        ),
        ingress(
            "other",
            [rule("secure.test", path("/other", "o"))],
            annotations={"atoll.io/ssl-redirect": "False"},
        ),
    )
    assert redirected(t, "secure.test", "/")
    assert not redirected(t, "plain.test", "/")
    assert not redirected(t, "relaxed.test", "/")
    assert not redirected(t, "secure.test", "/other")


def redirected(t: RouteTable, host: str, request_path: str) -> bool:
    route = t.match(host, request_path)
    assert route is not None
    return route.ssl_redirect


def test_a_tls_entry_without_hosts_covers_the_rule_hosts() -> None:
    t = table(
        ingress(
            "a",
            [rule("a.test", path("/", "a")), rule(None, path("/", "b"))],
            tls=[{"secretName": "cert"}],
        )
    )
    assert_secret(t, "a.test", "ns/cert")
    assert redirected(t, "a.test", "/")
    assert not redirected(t, "b.test", "/"), "host-less rules have no TLS host"


# -- classes -------------------------------------------------------------------------------


def test_class_filtering() -> None:
    classes = controller_classes(
        [
            {"metadata": {"name": "mine"}, "spec": {"controller": CONTROLLER}},
            {"metadata": {"name": "nginx"}, "spec": {"controller": "k8s.io/ingress-nginx"}},
            {"metadata": {}, "spec": {"controller": CONTROLLER}},
        ],
        class_name="atoll",
    )
    assert classes == frozenset({"atoll", "mine"})
    legacy = ingress("l", annotations={"kubernetes.io/ingress.class": "atoll"})
    legacy_other = ingress("lo", annotations={"kubernetes.io/ingress.class": "nginx"})
    for item, default, expected in [
        (ingress("a", class_name="atoll"), False, True),
        (ingress("m", class_name="mine"), False, True),
        (ingress("n", class_name="nginx"), True, False),
        (legacy, False, True),
        (legacy_other, True, False),
        (ingress("none"), True, True),
        (ingress("none"), False, False),
    ]:
        assert serves(item, classes=classes, default_class=default) is expected, item
