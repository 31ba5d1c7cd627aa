"""Every route × every built-in role × own or other workspace: allowed or refused.

The routes are those of Atoll's OpenAPI document (all of ``/kapis`` and ``/oauth``: a route
missing from the table below fails the test) plus the Kubernetes proxy's paths. Each cell
is one real request through ``atoll up``; a refusal is 403 (401 for an anonymous caller), an
allowed request anything else. The requests are made harmless (objects that do not exist,
bodies the route refuses after authorization), so the matrix writes nothing.

Roles: platform admin and regular user; cluster admin and viewer (ClusterRoleBindings);
workspace admin, regular and viewer of the workspace ``mx-own``; project admin, operator and
viewer of its project ``mx-own-proj``. "other" is the workspace ``mx-other`` and its project.
WebSocket routes (the watch socket, exec) are authorized by the same pipeline and covered by
their own tests; exec's POST form is here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from tests.server.atoll_process import (
    Atoll,
    as_user,
    http,
    login,
    make_user,
    project,
    start_atoll,
    workspace,
)
from tests.waiting import eventually

PA, PR, CA, CV = "platform-admin", "platform-regular", "cluster-admin", "cluster-viewer"
WA, WR, WV = "workspace-admin", "workspace-regular", "workspace-viewer"
PJA, PJO, PJV = "project-admin", "project-operator", "project-viewer"
ANON = "anonymous"
ROLES = (PA, PR, CA, CV, WA, WR, WV, PJA, PJO, PJV)
EVERYONE = frozenset(ROLES)
PUBLIC = EVERYONE | {ANON}

READ_OWN = frozenset({PA, CA, CV, WA, WV, PJA, PJO, PJV})
READ_OTHER = frozenset({PA, CA, CV})
WRITE_OWN = frozenset({PA, CA, WA, PJA, PJO})
WRITE_OTHER = frozenset({PA, CA})
RBAC_OWN = frozenset({PA, CA, WA, PJA})
CLUSTER_READ = frozenset({PA, CA, CV})
PLATFORM = frozenset({PA})
WS_READ = frozenset({PA, WA, WR, WV})
WS_WRITE = frozenset({PA, WA})


@dataclass(frozen=True)
class Cell:
    own: frozenset[str]
    other: frozenset[str] | None = None  # None: the route has no workspace or project
    body: Any = None
    query: str = ""


def scoped(own: frozenset[str], other: frozenset[str], **kw: Any) -> Cell:
    return Cell(own, other, **kw)


MEMBER = [{"username": "mx-nobody", "roleRef": "viewer"}]
BAD_NAMESPACE = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "Bad_Name"}}
BAD_CONFIGMAP = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "Bad_Name"}}

# Atoll's own API: (method, path template) → who may. Every operation of the OpenAPI
# document must be here.
ATOLL: dict[tuple[str, str], Cell] = {
    ("POST", "/oauth/token"): Cell(PUBLIC),
    ("POST", "/oauth/revoke"): Cell(PUBLIC),
    ("GET", "/oauth/providers"): Cell(PUBLIC),
    ("GET", "/oauth/authorize"): Cell(PUBLIC),
    ("GET", "/oauth/callback/{name}"): Cell(PUBLIC),
    ("GET", "/oauth/logout"): Cell(PUBLIC),  # no provider given: it revokes nothing
    ("GET", "/kapis/config.atoll.io/v1alpha1/components"): Cell(EVERYONE),
    ("PUT", "/kapis/config.atoll.io/v1alpha1/components/{name}"): Cell(
        PLATFORM, body={"enabled": True}
    ),
    ("GET", "/kapis/auditing.atoll.io/v1alpha1/events"): Cell(PLATFORM),
    ("GET", "/kapis/cluster.atoll.io/v1alpha1/clusters"): Cell(EVERYONE),
    ("GET", "/kapis/cluster.atoll.io/v1alpha1/clusters/{name}"): Cell(PLATFORM),
    ("POST", "/kapis/cluster.atoll.io/v1alpha1/clusters"): Cell(PLATFORM, body={}),
    ("DELETE", "/kapis/cluster.atoll.io/v1alpha1/clusters/{name}"): Cell(PLATFORM),
    ("PUT", "/kapis/iam.atoll.io/v1alpha1/users/{user}/password"): Cell(
        PLATFORM, body={"password": "Another-pass-9"}
    ),
    ("GET", "/kapis/resources.atoll.io/v1alpha1/users/{user}/kubeconfig"): Cell(PLATFORM),
    ("GET", "/kapis/iam.atoll.io/v1alpha1/workspaces/{workspace}/workspacemembers"): scoped(
        WS_READ, PLATFORM
    ),
    ("POST", "/kapis/iam.atoll.io/v1alpha1/workspaces/{workspace}/workspacemembers"): scoped(
        WS_WRITE, PLATFORM, body=MEMBER
    ),
    (
        "GET",
        "/kapis/iam.atoll.io/v1alpha1/workspaces/{workspace}/workspacemembers/{user}",
    ): scoped(WS_READ, PLATFORM),
    (
        "DELETE",
        "/kapis/iam.atoll.io/v1alpha1/workspaces/{workspace}/workspacemembers/{user}",
    ): scoped(WS_WRITE, PLATFORM),
    (
        "GET",
        "/kapis/iam.atoll.io/v1alpha1/clusters/{cluster}/namespaces/{namespace}/members",
    ): scoped(READ_OWN, READ_OTHER),
    (
        "POST",
        "/kapis/iam.atoll.io/v1alpha1/clusters/{cluster}/namespaces/{namespace}/members",
    ): scoped(RBAC_OWN, WRITE_OTHER, body=MEMBER),
    (
        "GET",
        "/kapis/iam.atoll.io/v1alpha1/clusters/{cluster}/namespaces/{namespace}/members/{user}",
    ): scoped(READ_OWN, READ_OTHER),
    (
        "DELETE",
        "/kapis/iam.atoll.io/v1alpha1/clusters/{cluster}/namespaces/{namespace}/members/{user}",
    ): scoped(RBAC_OWN, WRITE_OTHER),
    ("GET", "/kapis/iam.atoll.io/v1alpha1/clusters/{cluster}/clustermembers"): Cell(CLUSTER_READ),
    ("POST", "/kapis/iam.atoll.io/v1alpha1/clusters/{cluster}/clustermembers"): Cell(
        WRITE_OTHER, body=MEMBER
    ),
    ("GET", "/kapis/iam.atoll.io/v1alpha1/clusters/{cluster}/clustermembers/{user}"): Cell(
        CLUSTER_READ
    ),
    ("DELETE", "/kapis/iam.atoll.io/v1alpha1/clusters/{cluster}/clustermembers/{user}"): Cell(
        WRITE_OTHER
    ),
    ("GET", "/kapis/tenant.atoll.io/v1alpha1/workspaces"): Cell(EVERYONE),
    (
        "GET",
        "/kapis/tenant.atoll.io/v1alpha1/workspaces/{workspace}/clusters/{cluster}/namespaces",
    ): scoped(EVERYONE, EVERYONE),  # filtered to what the caller may see
    (
        "POST",
        "/kapis/tenant.atoll.io/v1alpha1/workspaces/{workspace}/clusters/{cluster}/namespaces",
    ): scoped(frozenset({PA, WA, WR}), PLATFORM, body=BAD_NAMESPACE),
    (
        "DELETE",
        "/kapis/tenant.atoll.io/v1alpha1/workspaces/{workspace}/clusters/{cluster}/namespaces/{namespace}",
    ): scoped(RBAC_OWN, WRITE_OTHER, query="dryRun=All"),  # checked, nothing deleted
    ("GET", "/kapis/resources.atoll.io/v1alpha1/{resource}"): Cell(EVERYONE),
    ("GET", "/kapis/resources.atoll.io/v1alpha1/{resource}/{name}"): Cell(CLUSTER_READ),
    ("GET", "/kapis/resources.atoll.io/v1alpha1/namespaces/{namespace}/{resource}"): scoped(
        READ_OWN, READ_OTHER
    ),
    (
        "GET",
        "/kapis/resources.atoll.io/v1alpha1/namespaces/{namespace}/{resource}/{name}",
    ): scoped(READ_OWN, READ_OTHER),
    ("GET", "/kapis/resources.atoll.io/v1alpha1/clusters/{cluster}/{resource}"): Cell(EVERYONE),
    ("GET", "/kapis/resources.atoll.io/v1alpha1/clusters/{cluster}/{resource}/{name}"): Cell(
        CLUSTER_READ
    ),
    (
        "GET",
        "/kapis/resources.atoll.io/v1alpha1/clusters/{cluster}/namespaces/{namespace}/{resource}",
    ): scoped(READ_OWN, READ_OTHER),
    (
        "GET",
        "/kapis/resources.atoll.io/v1alpha1/clusters/{cluster}/namespaces/{namespace}/{resource}/{name}",
    ): scoped(READ_OWN, READ_OTHER),
}

# The Kubernetes proxy: Kubernetes' RBAC semantics, with Atoll's roles.
PROXY: dict[tuple[str, str], Cell] = {
    ("GET", "/version"): Cell(EVERYONE),
    ("GET", "/api/v1/namespaces"): Cell(CLUSTER_READ),
    ("GET", "/api/v1/namespaces/{namespace}"): scoped(READ_OWN, READ_OTHER),
    ("GET", "/api/v1/namespaces/{namespace}/configmaps"): scoped(READ_OWN, READ_OTHER),
    ("WATCH", "/api/v1/namespaces/{namespace}/configmaps"): scoped(READ_OWN, READ_OTHER),
    ("POST", "/api/v1/namespaces/{namespace}/configmaps"): scoped(
        WRITE_OWN, WRITE_OTHER, body=BAD_CONFIGMAP
    ),
    ("DELETE", "/api/v1/namespaces/{namespace}/configmaps/{name}"): scoped(WRITE_OWN, WRITE_OTHER),
    ("GET", "/api/v1/namespaces/{namespace}/pods/{name}/log"): scoped(READ_OWN, READ_OTHER),
    ("POST", "/api/v1/namespaces/{namespace}/pods/{name}/exec"): scoped(
        WRITE_OWN, WRITE_OTHER, query="command=true&stdout=true"
    ),
    ("GET", "/api/v1/nodes"): Cell(CLUSTER_READ),
    ("GET", "/apis/apps/v1/namespaces/{namespace}/deployments"): scoped(READ_OWN, READ_OTHER),
    ("POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/{namespace}/rolebindings"): scoped(
        RBAC_OWN, WRITE_OTHER, body={}
    ),
    ("GET", "/apis/tenant.atoll.io/v1alpha1/workspaces/{workspace}"): scoped(WS_READ, PLATFORM),
    ("POST", "/apis/tenant.atoll.io/v1alpha1/workspaces"): Cell(
        frozenset({PA, CA}), body={"metadata": {"name": "Bad_Name"}}
    ),
    ("GET", "/apis/iam.atoll.io/v1alpha1/users"): Cell(CLUSTER_READ),
}


@dataclass
class World:
    atoll: Atoll
    sessions: dict[str, requests.Session]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    atoll = start_atoll(tmp_path_factory.mktemp("matrix") / "data")
    try:
        yield _populate(atoll)
    finally:
        atoll.stop()


def _populate(atoll: Atoll) -> World:
    admin = as_user(login(atoll))
    names = {role: f"mx-{role}" for role in ROLES if role != PA}
    for name in names.values():
        answer = make_user(atoll, name)
        assert answer.status_code == 201, answer.text
    for role in (CA, CV):
        binding = {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": f"{names[role]}-{role}"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": role,
            },
            "subjects": [{"kind": "User", "name": names[role]}],
        }
        url = f"{atoll.url}/apis/rbac.authorization.k8s.io/v1/clusterrolebindings"
        assert admin.post(url, json=binding, timeout=10).status_code == 201
    workspace(atoll, "mx-own", manager=names[WA])
    workspace(atoll, "mx-other", manager="admin")
    for ws, ns in (("mx-own", "mx-own-proj"), ("mx-other", "mx-other-proj")):
        eventually(lambda ws=ws, ns=ns: project(admin, atoll, ws, ns).status_code == 201)
    members = f"{atoll.url}/kapis/iam.atoll.io/v1alpha1/workspaces/mx-own/workspacemembers"
    invited = [
        {"username": names[WR], "roleRef": "mx-own-workspace-regular"},
        {"username": names[WV], "roleRef": "mx-own-workspace-viewer"},
    ]
    eventually(lambda: admin.post(members, json=invited, timeout=10).status_code == 200)
    project_members = (
        f"{atoll.url}/kapis/iam.atoll.io/v1alpha1/clusters/host/namespaces/mx-own-proj/members"
    )
    joined = [
        {"username": names[PJA], "roleRef": "admin"},
        {"username": names[PJO], "roleRef": "operator"},
        {"username": names[PJV], "roleRef": "viewer"},
    ]
    eventually(lambda: admin.post(project_members, json=joined, timeout=10).status_code == 200)
    sessions = {PA: admin}
    for role, name in names.items():
        sessions[role] = as_user(login(atoll, name, "Secret-pass-1"))
    sessions[ANON] = http()
    # Roles reach the authorizer's caches through a watch: wait for the last one granted.
    eventually(
        lambda: (
            sessions[PJV]
            .get(f"{atoll.url}/api/v1/namespaces/mx-own-proj/configmaps", timeout=10)
            .status_code
            == 200
        )
    )
    return World(atoll, sessions)


def _path(template: str, scope: str) -> str:
    own = scope == "own"
    values = {
        "workspace": "mx-own" if own else "mx-other",
        "namespace": "mx-own-proj" if own else "mx-other-proj",
        "cluster": "host",
        "user": "mx-nobody",
        "name": "mx-none",
        "resource": "configmaps",
    }
    if template.endswith("/{resource}/{name}") and "{namespace}" not in template:
        values["resource"] = "nodes"
    return template.format(**values)


def _ask(session: requests.Session, url: str, method: str, cell: Cell) -> int:
    if method == "WATCH":
        with session.get(
            url, params={"watch": "1", "timeoutSeconds": "1"}, stream=True, timeout=10
        ) as r:
            return r.status_code
    target = f"{url}?{cell.query}" if cell.query else url
    if method in ("POST", "PUT") and cell.body is None and "/oauth/" in url:
        return session.request(method, target, data={}, timeout=10).status_code
    return session.request(method, target, json=cell.body, timeout=10).status_code


def _cases() -> list[tuple[str, str, str]]:
    cases = []
    for method, template in [*ATOLL, *PROXY]:
        cell = ATOLL.get((method, template)) or PROXY[(method, template)]
        for scope in ("own", "other") if cell.other is not None else ("-",):
            cases.append((method, template, scope))
    return cases


def test_every_route_of_the_openapi_document_is_in_the_matrix(world: World) -> None:
    document = http().get(f"{world.atoll.url}/kapis/openapi.json", timeout=10).json()
    documented = {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
        if method in ("get", "post", "put", "patch", "delete")
    }
    assert documented == set(ATOLL), (
        f"missing from the matrix: {sorted(documented - set(ATOLL))}; "
        f"no longer served: {sorted(set(ATOLL) - documented)}"
    )


def test_the_matrix(world: World) -> None:
    wrong = []
    for method, template, scope in _cases():
        cell = ATOLL.get((method, template)) or PROXY[(method, template)]
        allowed = cell.own if scope != "other" else cell.other
        assert allowed is not None
        url = world.atoll.url + _path(template, scope)
        for role, session in world.sessions.items():
            code = _ask(session, url, method, cell)
            expected = role in allowed
            refused = code == (401 if role == ANON else 403)
            if (
                code >= 500
                or expected == refused
                or (role == ANON and not expected and code != 401)
            ):
                wrong.append(
                    f"{method} {template} [{scope}] as {role}: {code}, expected "
                    f"{'allowed' if expected else 'refused'}"
                )
    assert not wrong, "\n".join(wrong)
