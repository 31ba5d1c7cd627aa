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
from tests.conftest import ClusterProcess, start_cluster
from tests.server.atoll_process import (
    Atoll,
    as_user,
    http,
    login,
    make_user,
    project,
    start_atoll,
)
from tests.waiting import eventually

PA, PR, CA, CV = "platform-admin", "platform-regular", "cluster-admin", "cluster-viewer"
WA, WR, WV = "workspace-admin", "workspace-regular", "workspace-viewer"
PJA, PJO, PJV = "project-admin", "project-operator", "project-viewer"
MCA = "member-cluster-admin"  # cluster-admin of the member cluster only
ANON = "anonymous"
ROLES = (PA, PR, CA, CV, WA, WR, WV, PJA, PJO, PJV, MCA)
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
# Asking is open to every user; the answer is the authorizer's (and changes nothing).
SELF_REVIEW = {
    "apiVersion": "authorization.k8s.io/v1",
    "kind": "SelfSubjectAccessReview",
    "spec": {"resourceAttributes": {"verb": "list", "resource": "pods", "namespace": "default"}},
}

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
    ("GET", "/kapis/iam.atoll.io/v1alpha1/me"): Cell(EVERYONE),
    ("POST", "/kapis/iam.atoll.io/v1alpha1/accessreviews"): Cell(
        EVERYONE, body={"reviews": [SELF_REVIEW["spec"]["resourceAttributes"]]}
    ),
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
    ("GET", "/kapis/tenant.atoll.io/v1alpha1/workspaces/{workspace}/clusters"): scoped(
        WS_READ, PLATFORM
    ),
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
    ("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"): Cell(
        EVERYONE, body=SELF_REVIEW
    ),
}


# The member cluster ``mx-member``, which both workspaces may use; its projects are
# ``mx-own-mproj`` and ``mx-other-mproj``. Cluster roles of one cluster never reach another;
# workspace roles reach the workspace's projects in every cluster; project roles stay in
# their project.
MEMBER_READ_OWN = frozenset({PA, MCA, WA, WV})
MEMBER_WRITE_OWN = frozenset({PA, MCA, WA})
MEMBER_ADMINS = frozenset({PA, MCA})
MEMBER: dict[tuple[str, str], Cell] = {
    ("GET", "/clusters/{cluster}/version"): Cell(EVERYONE),
    ("POST", "/clusters/{cluster}/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"): Cell(
        EVERYONE, body=SELF_REVIEW
    ),
    ("GET", "/clusters/{cluster}/api/v1/nodes"): Cell(MEMBER_ADMINS),
    ("GET", "/clusters/{cluster}/api/v1/namespaces/{namespace}/configmaps"): scoped(
        MEMBER_READ_OWN, MEMBER_ADMINS
    ),
    ("POST", "/clusters/{cluster}/api/v1/namespaces/{namespace}/configmaps"): scoped(
        MEMBER_WRITE_OWN, MEMBER_ADMINS, body=BAD_CONFIGMAP
    ),
    (
        "GET",
        "/kapis/resources.atoll.io/v1alpha1/clusters/{cluster}/namespaces/{namespace}/{resource}",
    ): scoped(MEMBER_READ_OWN, MEMBER_ADMINS),
    ("GET", "/kapis/iam.atoll.io/v1alpha1/clusters/{cluster}/clustermembers"): Cell(MEMBER_ADMINS),
    (
        "POST",
        "/kapis/tenant.atoll.io/v1alpha1/workspaces/{workspace}/clusters/{cluster}/namespaces",
    ): scoped(frozenset({PA, WA, WR}), PLATFORM, body=BAD_NAMESPACE),
}


@dataclass
class World:
    atoll: Atoll
    sessions: dict[str, requests.Session]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("matrix")
    member = start_cluster(root / "member")
    atoll = start_atoll(root / "data")
    try:
        yield _populate(atoll, member)
    finally:
        atoll.stop()
        member.stop()


def _populate(atoll: Atoll, member: ClusterProcess) -> World:
    admin = as_user(login(atoll))
    added = admin.post(
        f"{atoll.url}/kapis/cluster.atoll.io/v1alpha1/clusters",
        json={"name": "mx-member", "kubeconfig": member.kubeconfig.read_text()},
        timeout=30,
    )
    assert added.status_code == 201, added.text
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
    for ws, manager in (("mx-own", names[WA]), ("mx-other", "admin")):
        body = {
            "apiVersion": "tenant.atoll.io/v1alpha1",
            "kind": "Workspace",
            "metadata": {"name": ws},
            "spec": {"manager": manager, "clusters": ["host", "mx-member"]},
        }
        made = admin.post(f"{atoll.url}/apis/tenant.atoll.io/v1alpha1/workspaces", json=body)
        assert made.status_code == 201, made.text
    for ws, ns in (("mx-own", "mx-own-proj"), ("mx-other", "mx-other-proj")):
        eventually(lambda ws=ws, ns=ns: project(admin, atoll, ws, ns).status_code == 201)
        tenant = f"{atoll.url}/kapis/tenant.atoll.io/v1alpha1"
        in_member = f"{tenant}/workspaces/{ws}/clusters/mx-member/namespaces"
        body = {"metadata": {"name": ns.replace("-proj", "-mproj")}}
        eventually(lambda url=in_member, body=body: admin.post(url, json=body).status_code == 201)
    cluster_members = f"{atoll.url}/kapis/iam.atoll.io/v1alpha1/clusters/mx-member/clustermembers"
    mca = [{"username": names[MCA], "roleRef": "cluster-admin"}]
    eventually(lambda: admin.post(cluster_members, json=mca, timeout=10).status_code == 200)
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
    # Roles reach the authorizer's caches through a watch: wait for the last ones granted.
    eventually(
        lambda: sessions[MCA].get(f"{atoll.url}/clusters/mx-member/api/v1/nodes").status_code == 200
    )
    eventually(
        lambda: (
            sessions[PJV]
            .get(f"{atoll.url}/api/v1/namespaces/mx-own-proj/configmaps", timeout=10)
            .status_code
            == 200
        )
    )
    return World(atoll, sessions)


def _path(template: str, scope: str, *, member: bool = False) -> str:
    own = scope == "own"
    values = {
        "workspace": "mx-own" if own else "mx-other",
        "namespace": ("mx-own" if own else "mx-other") + ("-mproj" if member else "-proj"),
        "cluster": "mx-member" if member else "host",
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


def _cases() -> list[tuple[str, str, str, bool]]:
    cases = []
    for table, member in ((ATOLL, False), (PROXY, False), (MEMBER, True)):
        for (method, template), cell in table.items():
            for scope in ("own", "other") if cell.other is not None else ("-",):
                cases.append((method, template, scope, member))
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
    for method, template, scope, member in _cases():
        table = MEMBER if member else {**ATOLL, **PROXY}
        cell = table[(method, template)]
        allowed = cell.own if scope != "other" else cell.other
        assert allowed is not None
        url = world.atoll.url + _path(template, scope, member=member)
        for role, session in world.sessions.items():
            code = _ask(session, url, method, cell)
            expected = role in allowed
            refused = code == (401 if role == ANON else 403)
            if (
                code >= 500
                or expected == refused
                or (role == ANON and not expected and code != 401)
            ):
                where = f"{scope}, member cluster" if member else scope
                wrong.append(
                    f"{method} {template} [{where}] as {role}: {code}, expected "
                    f"{'allowed' if expected else 'refused'}"
                )
    assert not wrong, "\n".join(wrong)
