"""Workspaces, projects and members: who sees and does what, granted downward."""

from __future__ import annotations

from typing import Any

import requests
from tests.server.atoll_process import (
    IAM,
    TENANT,
    Atoll,
    as_user,
    configmap,
    login,
    project,
    user_session,
    workspace,
)
from tests.waiting import eventually


def names(answer: requests.Response) -> list[str]:
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["totalItems"] == len(body["items"])
    return [item["metadata"]["name"] for item in body["items"]]


def test_a_workspace_admin_runs_its_workspace_and_its_projects(atoll: Atoll) -> None:
    boss = user_session(atoll, "boss")
    workspace(atoll, "alpha", manager="boss")
    # The manager's role arrives with the workspace controller.
    eventually(lambda: names(boss.get(f"{atoll.url}{TENANT}/workspaces", timeout=10)) == ["alpha"])
    made = eventually(
        lambda: (answer := project(boss, atoll, "alpha", "alpha-web")).status_code == 201 and answer
    )
    labels = made.json()["metadata"]["labels"]
    assert labels["atoll.io/workspace"] == "alpha"
    assert made.json()["metadata"]["annotations"]["atoll.io/creator"] == "boss"
    projects = f"{atoll.url}{TENANT}/workspaces/alpha/clusters/host/namespaces"
    assert names(boss.get(projects, timeout=10)) == ["alpha-web"]
    assert configmap(boss, atoll, "alpha-web", "settings") == 201  # granted downward
    roles = eventually(
        lambda: (
            sorted(
                r["metadata"]["name"]
                for r in boss.get(
                    f"{atoll.url}/apis/rbac.authorization.k8s.io/v1/namespaces/alpha-web/roles",
                    timeout=10,
                ).json()["items"]
            )
            == ["admin", "operator", "viewer"]
        )
    )
    assert roles
    # Not outside its workspace.
    assert (
        boss.get(f"{atoll.url}/api/v1/namespaces/default/configmaps", timeout=10).status_code == 403
    )
    assert project(boss, atoll, "nowhere", "x").status_code in (403, 404)


def test_members_get_what_their_roles_grant_and_no_more(atoll: Atoll) -> None:
    chief = user_session(atoll, "chief")
    viewer = user_session(atoll, "watcher")
    operator = user_session(atoll, "operator1")
    stranger = user_session(atoll, "stranger")
    workspace(atoll, "beta", manager="chief")
    eventually(lambda: project(chief, atoll, "beta", "beta-api").status_code == 201)
    members = f"{atoll.url}{IAM}/workspaces/beta/workspacemembers"
    invited = chief.post(
        members, json=[{"username": "watcher", "roleRef": "beta-workspace-viewer"}]
    )
    assert invited.status_code == 200, invited.text
    listed = chief.get(members, timeout=10).json()
    assert {"username": "watcher", "roleRef": "beta-workspace-viewer"} in listed["items"]
    assert {"username": "chief", "roleRef": "beta-workspace-admin"} in listed["items"]

    project_members = f"{atoll.url}{IAM}/clusters/host/namespaces/beta-api/members"
    eventually(
        lambda: (
            chief.post(
                project_members, json=[{"username": "operator1", "roleRef": "operator"}], timeout=10
            ).status_code
            == 200
        )
    )

    projects = f"{atoll.url}{TENANT}/workspaces/beta/clusters/host/namespaces"
    assert names(viewer.get(projects, timeout=10)) == ["beta-api"]
    assert (
        viewer.get(f"{atoll.url}/api/v1/namespaces/beta-api/configmaps", timeout=10).status_code
        == 200
    )
    assert configmap(viewer, atoll, "beta-api", "nope") == 403
    assert names(operator.get(projects, timeout=10)) == ["beta-api"]
    assert configmap(operator, atoll, "beta-api", "app-config") == 201
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": "escalate"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "admin"},
        "subjects": [{"kind": "User", "name": "operator1"}],
    }
    escalation = operator.post(
        f"{atoll.url}/apis/rbac.authorization.k8s.io/v1/namespaces/beta-api/rolebindings",
        json=binding,
        timeout=10,
    )
    assert escalation.status_code == 403
    assert names(stranger.get(projects, timeout=10)) == []
    assert names(stranger.get(f"{atoll.url}{TENANT}/workspaces", timeout=10)) == []
    assert stranger.get(members, timeout=10).status_code == 403
    assert project(stranger, atoll, "beta", "stolen").status_code == 403

    # Changing a member's role replaces it; removing the member takes it away.
    chief.post(members, json=[{"username": "watcher", "roleRef": "beta-workspace-admin"}])
    one = chief.get(f"{members}/watcher", timeout=10).json()
    assert one == {"username": "watcher", "roleRef": "beta-workspace-admin"}
    eventually(lambda: configmap(viewer, atoll, "beta-api", "now-allowed") == 201)
    assert chief.delete(f"{members}/watcher", timeout=10).status_code == 200
    eventually(lambda: names(viewer.get(projects, timeout=10)) == [])


def test_bad_member_requests_are_refused_whole(atoll: Atoll) -> None:
    lead = user_session(atoll, "lead")
    workspace(atoll, "gamma", manager="lead")
    workspace(atoll, "delta", manager="lead")
    members = f"{atoll.url}{IAM}/workspaces/gamma/workspacemembers"
    eventually(lambda: lead.get(members, timeout=10).status_code == 200)
    unknown = lead.post(members, json=[{"username": "ghost", "roleRef": "gamma-workspace-viewer"}])
    assert (
        unknown.status_code == 404 and unknown.headers["content-type"] == "application/problem+json"
    )
    eventually(
        lambda: lead.get(f"{atoll.url}{IAM}/workspaces/delta/workspacemembers").status_code == 200
    )
    foreign = lead.post(members, json=[{"username": "lead", "roleRef": "delta-workspace-viewer"}])
    assert foreign.status_code == 422, foreign.text
    empty = lead.post(members, json=[])
    assert empty.status_code == 422
    bad_name = project(lead, atoll, "gamma", "Not_A_Label")
    assert bad_name.status_code == 422, bad_name.text
    elsewhere = lead.post(
        f"{atoll.url}{TENANT}/workspaces/gamma/clusters/faraway/namespaces",
        json={"metadata": {"name": "far"}},
        timeout=10,
    )
    assert elsewhere.status_code == 404


def test_deleting_a_project_through_its_workspace(atoll: Atoll) -> None:
    owner = user_session(atoll, "owner")
    workspace(atoll, "epsilon", manager="owner")
    eventually(lambda: project(owner, atoll, "epsilon", "epsilon-tmp").status_code == 201)
    base = f"{atoll.url}{TENANT}/workspaces/epsilon/clusters/host/namespaces"
    assert owner.delete(f"{base}/default", timeout=10).status_code in (403, 404)
    assert owner.delete(f"{base}/epsilon-tmp", timeout=10).status_code == 200
    admin = as_user(login(atoll))

    def going() -> bool:
        answer = admin.get(f"{atoll.url}/api/v1/namespaces/epsilon-tmp", timeout=10)
        return answer.status_code == 404 or answer.json()["status"]["phase"] == "Terminating"

    eventually(going)


def deployment(name: str, replicas: int, cpu: str) -> dict[str, Any]:
    container = {"name": "app", "image": "busybox", "resources": {"requests": {"cpu": cpu}}}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [container]},
            },
        },
    }


def test_workspace_quotas_hold_across_its_projects(atoll: Atoll) -> None:
    keeper = user_session(atoll, "keeper")
    admin = as_user(login(atoll))
    body = {
        "apiVersion": "tenant.atoll.io/v1alpha1",
        "kind": "Workspace",
        "metadata": {"name": "zeta"},
        "spec": {
            "manager": "keeper",
            "quotas": [
                {
                    "cluster": "host",
                    "hard": {"pods": "3", "requests.cpu": "1", "count/configmaps": "2"},
                }
            ],
        },
    }
    made = admin.post(
        f"{atoll.url}/apis/tenant.atoll.io/v1alpha1/workspaces", json=body, timeout=10
    )
    assert made.status_code == 201, made.text
    eventually(lambda: project(keeper, atoll, "zeta", "zeta-one").status_code == 201)
    assert project(keeper, atoll, "zeta", "zeta-two").status_code == 201
    one = f"{atoll.url}/apis/apps/v1/namespaces/zeta-one/deployments"
    two = f"{atoll.url}/apis/apps/v1/namespaces/zeta-two/deployments"
    assert keeper.post(one, json=deployment("web", 2, "250m"), timeout=10).status_code == 201
    refused = keeper.post(two, json=deployment("api", 2, "300m"), timeout=10)
    assert refused.status_code == 403, refused.text
    status = refused.json()
    assert status["kind"] == "Status" and status["reason"] == "Forbidden"
    assert "exceeded quota: workspace zeta on cluster host" in status["message"]
    assert status["message"].endswith(
        "requested: pods=2,requests.cpu=0.6, used: pods=2,requests.cpu=0.5, "
        "limited: pods=3,requests.cpu=1"
    )
    missing = keeper.get(f"{two}/api", timeout=10)
    assert missing.status_code == 404  # nothing was written

    # A patch is judged by its outcome: scaling to 3 fits, a 4th pod does not.
    scale = {"spec": {"replicas": 3}}
    patched = keeper.patch(
        f"{one}/web/scale",
        json=scale,
        headers={"Content-Type": "application/merge-patch+json"},
        timeout=10,
    )
    assert patched.status_code == 200, patched.text
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "extra"},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]},
    }
    over = keeper.post(f"{atoll.url}/api/v1/namespaces/zeta-two/pods", json=pod, timeout=10)
    assert over.status_code == 403
    assert "requested: pods=1, used: pods=3, limited: pods=3" in over.json()["message"]
    # Counts, summed over both projects.
    assert configmap(keeper, atoll, "zeta-one", "a") == 201
    assert configmap(keeper, atoll, "zeta-two", "b") == 201
    assert configmap(keeper, atoll, "zeta-two", "c") == 403
    # Shrinking is always allowed.
    smaller = keeper.patch(
        f"{one}/web",
        json={"spec": {"replicas": 1}},
        headers={"Content-Type": "application/merge-patch+json"},
        timeout=10,
    )
    assert smaller.status_code == 200


def test_custom_roles_are_built_from_rules(atoll: Atoll) -> None:
    head = user_session(atoll, "head")
    deployer = user_session(atoll, "deployer")
    workspace(atoll, "theta", manager="head")
    eventually(lambda: project(head, atoll, "theta", "theta-apps").status_code == 201)
    admin = as_user(login(atoll))
    role = {
        "apiVersion": "iam.atoll.io/v1alpha1",
        "kind": "WorkspaceRole",
        "metadata": {"name": "theta-deployer", "labels": {"tenant.atoll.io/workspace": "theta"}},
        "rules": [
            {
                "apiGroups": ["apps"],
                "resources": ["deployments"],
                "verbs": ["get", "list", "create"],
            }
        ],
    }
    made = admin.post(
        f"{atoll.url}/apis/iam.atoll.io/v1alpha1/workspaceroles", json=role, timeout=10
    )
    assert made.status_code == 201, made.text
    members = f"{atoll.url}{IAM}/workspaces/theta/workspacemembers"
    invited = head.post(members, json=[{"username": "deployer", "roleRef": "theta-deployer"}])
    assert invited.status_code == 200, invited.text
    deployments = f"{atoll.url}/apis/apps/v1/namespaces/theta-apps/deployments"
    created = eventually(
        lambda: (
            (
                answer := deployer.post(deployments, json=deployment("web", 1, "10m"), timeout=10)
            ).status_code
            == 201
            and answer
        )
    )
    assert created.json()["metadata"]["name"] == "web"
    assert configmap(deployer, atoll, "theta-apps", "nope") == 403
    assert deployer.delete(f"{deployments}/web", timeout=10).status_code == 403
