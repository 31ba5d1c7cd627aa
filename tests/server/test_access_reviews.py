"""What a user may do, asked of Atoll: ``kubectl auth can-i`` and the Kubernetes client's
SelfSubjectAccessReviews answered for the user (not for Atoll's own identity, as the
cluster would), the console's batches of questions, and who the caller is."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes
import pytest
import requests
from tests.server.atoll_process import (
    IAM,
    Atoll,
    as_user,
    http,
    kubectl_with,
    login,
    project,
    user_session,
    workspace,
)
from tests.waiting import eventually

SELF_REVIEWS = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
RULES_REVIEWS = "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews"
REVIEWS = f"{IAM}/accessreviews"
ME = f"{IAM}/me"


def _members(atoll: Atoll, namespace: str, roles: dict[str, str]) -> None:
    admin = as_user(login(atoll))
    url = f"{atoll.url}{IAM}/clusters/host/namespaces/{namespace}/members"
    joined = [{"username": user, "roleRef": role} for user, role in roles.items()]
    eventually(lambda: admin.post(url, json=joined, timeout=10).status_code == 200)


@pytest.fixture(scope="module")
def web(atoll: Atoll) -> dict[str, requests.Session]:
    """The project ``rv-web`` (workspace ``rv-shop``) with a viewer, an operator, and a
    user who is in neither."""
    sessions = {name: user_session(atoll, name) for name in ("rv-viewer", "rv-operator", "rv-out")}
    workspace(atoll, "rv-shop", "admin")
    admin = as_user(login(atoll))
    eventually(lambda: project(admin, atoll, "rv-shop", "rv-web").status_code == 201)
    _members(atoll, "rv-web", {"rv-viewer": "viewer", "rv-operator": "operator"})
    pods = f"{atoll.url}/api/v1/namespaces/rv-web/pods"
    for name in ("rv-viewer", "rv-operator"):  # the grants reach the authorizer by a watch
        eventually(lambda name=name: sessions[name].get(pods, timeout=10).status_code == 200)
    return sessions


def _kubeconfig(atoll: Atoll, session: requests.Session, user: str, where: Path) -> Path:
    url = f"{atoll.url}/kapis/resources.atoll.io/v1alpha1/users/{user}/kubeconfig"
    answer = session.get(url, timeout=10)
    assert answer.status_code == 200, answer.text
    where.write_text(answer.text)
    return where


def _can_i(config: Path, *args: str) -> tuple[int, str]:
    """kubectl's exit code and answer ("yes" or "no"; it may add " - <reason>")."""
    done = kubectl_with(config, "auth", "can-i", *args)
    return done.returncode, done.stdout.strip().split(" - ")[0]


def test_kubectl_auth_can_i_answers_for_the_user(
    atoll: Atoll, web: dict[str, requests.Session], tmp_path: Path
) -> None:
    viewer = _kubeconfig(atoll, web["rv-viewer"], "rv-viewer", tmp_path / "viewer.yaml")
    operator = _kubeconfig(atoll, web["rv-operator"], "rv-operator", tmp_path / "operator.yaml")
    outsider = _kubeconfig(atoll, web["rv-out"], "rv-out", tmp_path / "out.yaml")
    assert _can_i(viewer, "list", "pods", "-n", "rv-web") == (0, "yes")
    assert _can_i(viewer, "create", "deployments", "-n", "rv-web") == (1, "no")
    assert _can_i(viewer, "create", "pods", "--subresource=exec", "-n", "rv-web") == (1, "no")
    assert _can_i(operator, "create", "deployments", "-n", "rv-web") == (0, "yes")
    assert _can_i(operator, "create", "pods", "--subresource=exec", "-n", "rv-web") == (0, "yes")
    assert _can_i(operator, "delete", "namespaces/rv-web") == (1, "no")
    assert _can_i(operator, "list", "pods", "-n", "default") == (1, "no")
    assert _can_i(outsider, "list", "pods", "-n", "rv-web") == (1, "no")
    told = kubectl_with(viewer, "auth", "can-i", "delete", "pods", "-n", "rv-web").stdout
    assert told.strip() == 'no - user "rv-viewer" cannot delete pods in namespace rv-web'


def test_the_kubernetes_client_gets_reviews_answered_for_its_user(
    atoll: Atoll, web: dict[str, requests.Session], tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    config = _kubeconfig(atoll, web["rv-viewer"], "rv-viewer", tmp_path / "viewer.yaml")
    # Closed at the end: its pooled socket, collected later, is a ResourceWarning (an error).
    client = kubernetes.config.new_client_from_config(config_file=str(config))
    request.addfinalizer(client.close)
    api = kubernetes.client.AuthorizationV1Api(client)

    def ask(verb: str, resource: str, group: str = "") -> Any:
        attributes = kubernetes.client.V1ResourceAttributes(
            verb=verb, group=group, resource=resource, namespace="rv-web"
        )
        review = kubernetes.client.V1SelfSubjectAccessReview(
            spec=kubernetes.client.V1SelfSubjectAccessReviewSpec(resource_attributes=attributes)
        )
        return api.create_self_subject_access_review(review).status

    allowed = ask("get", "configmaps")
    assert allowed.allowed and not allowed.denied and "project role viewer" in allowed.reason
    refused = ask("update", "deployments", "apps")
    assert not refused.allowed and refused.denied
    assert 'user "rv-viewer" cannot update deployments in namespace rv-web' in refused.reason


def test_reviews_are_answered_per_cluster_and_for_paths(
    atoll: Atoll, web: dict[str, requests.Session]
) -> None:
    operator = web["rv-operator"]
    body = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectAccessReview",
        "spec": {
            "resourceAttributes": {"verb": "create", "resource": "pods", "namespace": "rv-web"}
        },
    }
    answer = operator.post(f"{atoll.url}/clusters/host{SELF_REVIEWS}", json=body, timeout=10)
    assert answer.status_code == 201, answer.text
    review = answer.json()
    assert (review["kind"], review["apiVersion"]) == ("SelfSubjectAccessReview", body["apiVersion"])
    assert review["spec"] == body["spec"] and review["status"]["allowed"] is True
    elsewhere = operator.post(f"{atoll.url}/clusters/nowhere{SELF_REVIEWS}", json=body, timeout=10)
    assert elsewhere.status_code == 201 and elsewhere.json()["status"]["allowed"] is False
    version = {"spec": {"nonResourceAttributes": {"path": "/version", "verb": "get"}}}
    answer = operator.post(f"{atoll.url}{SELF_REVIEWS}", json=version, timeout=10)
    assert answer.json()["status"]["allowed"] is True  # discovery, as every user may
    metrics = {"spec": {"nonResourceAttributes": {"path": "/metrics", "verb": "get"}}}
    answer = operator.post(f"{atoll.url}{SELF_REVIEWS}", json=metrics, timeout=10)
    assert answer.json()["status"]["allowed"] is False
    attributes = {"verb": "create", "group": "authorization.k8s.io"}
    itself = {
        "spec": {"resourceAttributes": {**attributes, "resource": "selfsubjectaccessreviews"}}
    }
    answer = web["rv-out"].post(f"{atoll.url}{SELF_REVIEWS}", json=itself, timeout=10)
    assert answer.json()["status"]["allowed"] is True  # as the request itself is


def test_bad_reviews_are_bad_requests_and_nobody_may_ask(atoll: Atoll) -> None:
    admin = as_user(login(atoll))
    for body in ({}, {"spec": {}}, {"spec": {"resourceAttributes": {"verb": 1}}}, []):
        answer = admin.post(f"{atoll.url}{SELF_REVIEWS}", json=body, timeout=10)
        assert answer.status_code == 400, answer.text
        assert (answer.json()["kind"], answer.json()["reason"]) == ("Status", "BadRequest")
    garbled = admin.post(f"{atoll.url}{SELF_REVIEWS}", data=b"{", timeout=10)
    assert garbled.status_code == 400
    protobuf = admin.post(
        f"{atoll.url}{SELF_REVIEWS}",
        data=b"k8s\x00",
        headers={"Content-Type": "application/vnd.kubernetes.protobuf"},
        timeout=10,
    )
    assert protobuf.status_code == 415
    anonymous = http().post(f"{atoll.url}{SELF_REVIEWS}", json={}, timeout=10)
    assert anonymous.status_code == 401 and anonymous.json()["kind"] == "Status"


def _rows(listing: str) -> dict[str, str]:
    """``kubectl auth can-i --list``'s table as {resource or URL: verbs}."""
    header, *lines = listing.splitlines()
    urls, verbs = header.index("Non-Resource URLs"), header.index("Verbs")
    rows = {}
    for line in lines:
        resource, url = line[:urls].strip(), line[urls:].split()[0].strip("[]")
        rows[resource or url] = line[verbs:].strip()
    return rows


def test_kubectl_lists_what_the_user_may_do_in_a_namespace(
    atoll: Atoll, web: dict[str, requests.Session], tmp_path: Path
) -> None:
    viewer = _kubeconfig(atoll, web["rv-viewer"], "rv-viewer", tmp_path / "viewer.yaml")
    outsider = _kubeconfig(atoll, web["rv-out"], "rv-out", tmp_path / "out.yaml")
    listed = kubectl_with(viewer, "auth", "can-i", "--list", "-n", "rv-web")
    assert listed.returncode == 0, listed.stderr
    rows = _rows(listed.stdout)
    assert rows["*.*"] == "[get list watch]"  # the project viewer's role, not Atoll's own
    assert rows["selfsubjectaccessreviews.authorization.k8s.io"] == "[create]"
    assert rows["selfsubjectreviews.authentication.k8s.io"] == "[create]"
    assert rows["/version"] == "[get]"
    assert len(rows) == len(listed.stdout.splitlines()) - 1  # each rule once
    elsewhere = _rows(kubectl_with(viewer, "auth", "can-i", "--list", "-n", "default").stdout)
    assert "*.*" not in elsewhere and "selfsubjectrulesreviews.authorization.k8s.io" in elsewhere
    outside = _rows(kubectl_with(outsider, "auth", "can-i", "--list", "-n", "rv-web").stdout)
    assert "*.*" not in outside and "/api/*" in outside


def test_rules_reviews_list_every_level_and_need_a_namespace(
    atoll: Atoll, web: dict[str, requests.Session]
) -> None:
    operator, admin = web["rv-operator"], as_user(login(atoll))
    body = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectRulesReview"}
    asked = {**body, "spec": {"namespace": "rv-web"}}
    answer = operator.post(f"{atoll.url}/clusters/host{RULES_REVIEWS}", json=asked, timeout=10)
    assert answer.status_code == 201, answer.text
    review = answer.json()
    assert (review["kind"], review["spec"]) == ("SelfSubjectRulesReview", {"namespace": "rv-web"})
    assert review["status"]["incomplete"] is False
    granted = review["status"]["resourceRules"]
    workloads = [r for r in granted if r["apiGroups"] == [""] and "pods/exec" in r["resources"]]
    assert [r["verbs"] for r in workloads] == [["*"]]  # the project operator's role
    paths = review["status"]["nonResourceRules"]
    assert [r["verbs"] for r in paths if "/api" in r["nonResourceURLs"]] == [["get"]]
    everything = admin.post(f"{atoll.url}{RULES_REVIEWS}", json=asked, timeout=10).json()
    assert {"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]} in everything["status"][
        "resourceRules"
    ]  # platform-admin's grant reaches every namespace
    unknown = operator.post(f"{atoll.url}/clusters/nowhere{RULES_REVIEWS}", json=asked, timeout=10)
    assert unknown.status_code == 201
    assert unknown.json()["status"]["incomplete"] is True
    assert "nowhere" in unknown.json()["status"]["evaluationError"]
    for bad in (body, {**body, "spec": {"namespace": 3}}, {"kind": "Pod", "spec": {}}, []):
        refused = operator.post(f"{atoll.url}{RULES_REVIEWS}", json=bad, timeout=10)
        assert refused.status_code == 400, refused.text
        assert (refused.json()["kind"], refused.json()["reason"]) == ("Status", "BadRequest")
    anonymous = http().post(f"{atoll.url}{RULES_REVIEWS}", json=asked, timeout=10)
    assert anonymous.status_code == 401


def test_who_am_i_is_answered_as_kubectl_auth_whoami_asks(
    atoll: Atoll, web: dict[str, requests.Session], tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """The official client's SelfSubjectReview, the request of ``kubectl auth whoami``
    (kubectl 1.28 and later; Debian's kubectl is 1.20, without the command)."""
    config = _kubeconfig(atoll, web["rv-viewer"], "rv-viewer", tmp_path / "viewer.yaml")
    client = kubernetes.config.new_client_from_config(config_file=str(config))
    request.addfinalizer(client.close)
    review = kubernetes.client.AuthenticationV1Api(client).create_self_subject_review(
        kubernetes.client.V1SelfSubjectReview()
    )
    assert review.status.user_info.username == "rv-viewer"
    assert review.status.user_info.groups == ["system:authenticated"]
    operator = web["rv-operator"]
    for version in ("v1", "v1beta1", "v1alpha1"):
        url = f"{atoll.url}/clusters/host/apis/authentication.k8s.io/{version}/selfsubjectreviews"
        answer = operator.post(url, timeout=10)
        assert answer.status_code == 201, answer.text
        assert answer.json()["apiVersion"] == f"authentication.k8s.io/{version}"
        assert answer.json()["status"]["userInfo"]["username"] == "rv-operator"
    url = f"{atoll.url}/apis/authentication.k8s.io/v1/selfsubjectreviews"
    wrong = operator.post(url, json={"kind": "SelfSubjectAccessReview"}, timeout=10)
    assert wrong.status_code == 400 and wrong.json()["reason"] == "BadRequest"
    assert http().post(url, timeout=10).status_code == 401


def test_the_console_asks_many_questions_at_once(
    atoll: Atoll, web: dict[str, requests.Session]
) -> None:
    questions: list[dict[str, str]] = [
        {"verb": "create", "group": "apps", "resource": "deployments", "namespace": "rv-web"},
        {"cluster": "host", "verb": "list", "resource": "pods", "namespace": "rv-web"},
        {"verb": "delete", "resource": "pods", "namespace": "rv-web", "name": "x"},
        {"verb": "create", "resource": "pods", "subresource": "exec", "namespace": "rv-web"},
        {"verb": "list", "resource": "nodes"},
        {"verb": "create", "resource": "pods", "namespace": "rv-web", "cluster": "nowhere"},
        {"api": "atoll", "verb": "list", "group": "auditing.atoll.io", "resource": "events"},
    ]
    expected = {
        "rv-viewer": [False, True, False, False, False, False, False],
        "rv-operator": [True, True, True, True, False, False, False],
        "rv-out": [False] * 7,
    }
    for user, allowed in expected.items():
        answer = web[user].post(f"{atoll.url}{REVIEWS}", json={"reviews": questions}, timeout=10)
        assert answer.status_code == 200, answer.text
        results = answer.json()["results"]
        assert [r["allowed"] for r in results] == allowed, user
        assert all(r["reason"] for r in results)
    admin = as_user(login(atoll))
    answer = admin.post(f"{atoll.url}{REVIEWS}", json={"reviews": questions}, timeout=10)
    assert [r["allowed"] for r in answer.json()["results"]] == [True] * 7
    assert answer.json()["results"][0]["reason"] == "platform role platform-admin"
    empty = web["rv-out"].post(f"{atoll.url}{REVIEWS}", json={"reviews": []}, timeout=10)
    assert empty.json() == {"results": []}


def test_workspace_questions_are_asked_of_atolls_api(atoll: Atoll) -> None:
    manager = user_session(atoll, "rv-manager")
    workspace(atoll, "rv-own", "rv-manager")
    invite = {
        "api": "atoll",
        "verb": "create",
        "group": "iam.atoll.io",
        "resource": "workspacemembers",
        "workspace": "rv-own",
    }
    elsewhere = {**invite, "workspace": "rv-shop"}
    body = {"reviews": [invite, elsewhere]}

    def answers() -> list[bool]:
        found = manager.post(f"{atoll.url}{REVIEWS}", json=body, timeout=10).json()
        return [r["allowed"] for r in found["results"]]

    eventually(lambda: answers() == [True, False])  # once the workspace controller bound it


def test_bad_batches_are_refused_as_problems(atoll: Atoll) -> None:
    admin = as_user(login(atoll))
    one = {"verb": "get", "resource": "pods"}
    for body in (
        {"reviews": [one] * 201},
        {"reviews": [{"verb": "get"}]},
        {"reviews": [{**one, "workspace": "rv-shop"}]},
        {"reviews": [{**one, "namespcae": "typo"}]},
        {"reviews": "all"},
        [],
    ):
        answer = admin.post(f"{atoll.url}{REVIEWS}", json=body, timeout=10)
        assert answer.status_code == 400, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["errors"]
    garbled = admin.post(
        f"{atoll.url}{REVIEWS}", data=b"{", headers={"Content-Type": "application/json"}
    )
    assert garbled.status_code == 400
    assert http().post(f"{atoll.url}{REVIEWS}", json={"reviews": []}).status_code == 401
    full = admin.post(f"{atoll.url}{REVIEWS}", json={"reviews": [one] * 200}, timeout=10)
    assert full.status_code == 200 and len(full.json()["results"]) == 200


def test_who_am_i(atoll: Atoll, web: dict[str, requests.Session]) -> None:
    admin = as_user(login(atoll)).get(f"{atoll.url}{ME}", timeout=10)
    assert admin.status_code == 200, admin.text
    assert admin.json() == {
        "name": "admin",
        "email": "admin@atoll.local",
        "groups": ["system:authenticated"],
        "platformRole": "platform-admin",
        "passwordChangeRequired": True,  # its password was generated
        "provider": "password",
    }
    viewer = web["rv-viewer"].get(f"{atoll.url}{ME}", timeout=10).json()
    assert viewer == {
        "name": "rv-viewer",
        "email": "rv-viewer@example.com",
        "groups": ["system:authenticated"],
        "platformRole": "platform-regular",
        "passwordChangeRequired": False,
        "provider": "password",
    }
    anonymous = http().get(f"{atoll.url}{ME}", timeout=10)
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"


def test_a_password_change_clears_the_demand_for_one(atoll: Atoll) -> None:
    session = user_session(atoll, "rv-new")
    atoll.kubectl(
        "annotate", "users.iam.atoll.io", "rv-new", "iam.atoll.io/password-change-required=true"
    )
    assert session.get(f"{atoll.url}{ME}", timeout=10).json()["passwordChangeRequired"] is True
    change = {"currentPassword": "Secret-pass-1", "password": "Changed-pass-2"}
    url = f"{atoll.url}{IAM}/users/rv-new/password"
    assert session.put(url, json=change, timeout=10).status_code == 200
    assert session.get(f"{atoll.url}{ME}", timeout=10).json()["passwordChangeRequired"] is False
    stored = atoll.kubectl("get", "users.iam.atoll.io", "rv-new", "-o", "jsonpath={.metadata}")
    assert "password-change-required" not in stored
