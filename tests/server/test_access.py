"""Who may do what through Atoll: users made through the Kubernetes proxy, tokens that stop
working, roles that grant, refusals as Kubernetes Status or problem+json, kubectl through
Atoll with a user's own kubeconfig."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import kubernetes
import kubernetes.stream
import pytest
import websocket
import yaml
from tests.server.atoll_process import (
    USERS,
    Atoll,
    as_user,
    http,
    kubectl_with,
    login,
    make_user,
    ready,
    user_session,
)
from tests.waiting import eventually


def test_users_made_through_atoll_keep_only_a_hash(atoll: Atoll) -> None:
    created = make_user(atoll, "carol")
    assert created.status_code == 201, created.text
    assert "password" not in created.json()["spec"]
    stored = json.loads(atoll.kubectl("get", "users.iam.atoll.io", "carol", "-o", "json"))
    assert stored["spec"]["password"].startswith("$argon2id$")
    assert stored["metadata"]["annotations"]["iam.atoll.io/password-encrypted"] == "true"
    admin = as_user(login(atoll))
    listed = admin.get(f"{atoll.url}{USERS}", timeout=10).json()
    assert listed["items"] and all("password" not in u["spec"] for u in listed["items"])
    # A replace without the password keeps the stored one.
    got = admin.get(f"{atoll.url}{USERS}/carol", timeout=10).json()
    got["spec"]["displayName"] = "Carol"
    replaced = admin.put(f"{atoll.url}{USERS}/carol", json=got, timeout=10)
    assert replaced.status_code == 200, replaced.text
    again = json.loads(atoll.kubectl("get", "users.iam.atoll.io", "carol", "-o", "json"))
    assert again["spec"]["password"] == stored["spec"]["password"]
    assert again["spec"]["displayName"] == "Carol"


def test_weak_passwords_are_refused_and_nothing_is_written(atoll: Atoll) -> None:
    cases = (("dave", "short"), ("erin", "erin-is-long-enough"), ("x" * 64, "Secret-pass-1"))
    for name, password in cases:
        answer = make_user(atoll, name, password)
        assert answer.status_code == 422, answer.text
        assert answer.json()["kind"] == "Status" and answer.json()["reason"] == "Invalid"
        missing = as_user(login(atoll)).get(f"{atoll.url}{USERS}/{name}", timeout=10)
        assert missing.status_code == 404


def test_a_regular_user_is_refused_as_kubernetes_would(atoll: Atoll) -> None:
    frank = user_session(atoll, "frank")
    refused = frank.get(f"{atoll.url}/api/v1/namespaces", timeout=10)
    assert refused.status_code == 403
    status = refused.json()
    assert (status["kind"], status["reason"], status["code"]) == ("Status", "Forbidden", 403)
    assert 'user "frank" cannot list namespaces' in status["message"]
    assert frank.get(f"{atoll.url}/version", timeout=10).status_code == 200  # discovery
    own = frank.get(f"{atoll.url}{USERS}/frank", timeout=10)
    assert own.status_code == 200 and "password" not in own.json()["spec"]
    assert frank.get(f"{atoll.url}{USERS}/admin", timeout=10).status_code == 403
    anonymous = http().get(f"{atoll.url}/api/v1/namespaces", timeout=10)
    assert anonymous.status_code == 401 and anonymous.json()["reason"] == "Unauthorized"


def test_a_cluster_viewer_reads_but_cannot_write(atoll: Atoll) -> None:
    grace = user_session(atoll, "grace")
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": "grace-cluster-viewer"},
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": "cluster-viewer",
        },
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "grace"}],
    }
    admin = as_user(login(atoll))
    made = admin.post(
        f"{atoll.url}/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
        json=binding,
        timeout=10,
    )
    assert made.status_code == 201, made.text
    eventually(lambda: grace.get(f"{atoll.url}/api/v1/namespaces", timeout=10).status_code == 200)
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "grace-ns"}}
    refused = grace.post(f"{atoll.url}/api/v1/namespaces", json=namespace, timeout=10)
    assert refused.status_code == 403


def test_disabled_users_and_revoked_tokens_stop_working(atoll: Atoll) -> None:
    heidi = user_session(atoll, "heidi")
    own = f"{atoll.url}{USERS}/heidi"
    assert heidi.get(own, timeout=10).status_code == 200
    _disable(atoll, "heidi")
    eventually(lambda: heidi.get(own, timeout=10).status_code == 401, timeout=10)
    login_again = http().post(
        f"{atoll.url}/oauth/token",
        data={"grant_type": "password", "username": "heidi", "password": "Secret-pass-1"},
        timeout=10,
    )
    assert login_again.status_code == 400 and "disabled" in login_again.json()["detail"]

    ivan = user_session(atoll, "ivan")
    bearer = ivan.headers["Authorization"].removeprefix("Bearer ")
    revoked = http().post(f"{atoll.url}/oauth/revoke", data={"token": bearer}, timeout=10)
    assert revoked.status_code == 200
    eventually(lambda: ivan.get(f"{atoll.url}{USERS}/ivan", timeout=10).status_code == 401)

    # Logging out revokes the refresh token: it renews nothing, at once.
    tokens = (
        http()
        .post(
            f"{atoll.url}/oauth/token",
            data={"grant_type": "password", "username": "ivan", "password": "Secret-pass-1"},
            timeout=10,
        )
        .json()
    )
    refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    renewed = http().post(f"{atoll.url}/oauth/token", data=refresh, timeout=10)
    assert renewed.status_code == 200, renewed.text
    out = http().post(f"{atoll.url}/oauth/revoke", data={"token": tokens["refresh_token"]})
    assert out.status_code == 200
    refused = http().post(f"{atoll.url}/oauth/token", data=refresh, timeout=10)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    assert "revoked" in refused.json()["detail"]


def _disable(atoll: Atoll, name: str) -> None:
    admin = as_user(login(atoll))
    user = admin.get(f"{atoll.url}{USERS}/{name}", timeout=10).json()
    user["status"] = {**(user.get("status") or {}), "state": "Disabled"}
    answer = admin.put(f"{atoll.url}{USERS}/{name}/status", json=user, timeout=10)
    assert answer.status_code == 200, answer.text


def test_passwords_are_changed_with_the_current_one_or_by_an_administrator(atoll: Atoll) -> None:
    judy = user_session(atoll, "judy")
    url = f"{atoll.url}/kapis/iam.atoll.io/v1alpha1/users/judy/password"
    assert judy.put(url, json={"password": "Another-pass-2"}, timeout=10).status_code == 400
    wrong = judy.put(
        url, json={"password": "Another-pass-2", "currentPassword": "nope"}, timeout=10
    )
    assert wrong.status_code == 400
    weak = judy.put(
        url, json={"password": "judy1234", "currentPassword": "Secret-pass-1"}, timeout=10
    )
    assert weak.status_code == 422
    good = {"password": "Another-pass-2", "currentPassword": "Secret-pass-1"}
    assert judy.put(url, json=good, timeout=10).status_code == 200
    assert login(atoll, "judy", "Another-pass-2")
    admin = as_user(login(atoll))
    assert admin.put(url, json={"password": "Third-pass-33"}, timeout=10).status_code == 200
    assert login(atoll, "judy", "Third-pass-33")
    other = f"{atoll.url}/kapis/iam.atoll.io/v1alpha1/users/admin/password"
    assert judy.put(other, json={"password": "Taken-over-4"}, timeout=10).status_code == 403


def test_kubectl_works_through_atoll_with_a_users_own_kubeconfig(
    atoll: Atoll, tmp_path: Path
) -> None:
    kim = user_session(atoll, "kim")
    kubeconfigs = f"{atoll.url}/kapis/resources.atoll.io/v1alpha1/users"
    answer = kim.get(f"{kubeconfigs}/kim/kubeconfig", timeout=10)
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/yaml"
    config = yaml.safe_load(answer.text)
    assert config["clusters"][0]["cluster"]["server"].startswith("https://127.0.0.1:")
    assert "certificate-authority-data" in config["clusters"][0]["cluster"]
    (tmp_path / "kim.yaml").write_text(answer.text)
    refused = kubectl_with(tmp_path / "kim.yaml", "get", "namespaces")
    assert refused.returncode != 0 and "Forbidden" in refused.stderr, refused.stderr
    assert 'User "kim" cannot list namespaces' in refused.stderr or "cannot list" in refused.stderr
    assert kim.get(f"{kubeconfigs}/admin/kubeconfig", timeout=10).status_code == 403

    admin = as_user(login(atoll))
    (tmp_path / "admin.yaml").write_text(admin.get(f"{kubeconfigs}/admin/kubeconfig").text)
    listed = kubectl_with(tmp_path / "admin.yaml", "get", "namespaces", "-o", "name")
    assert listed.returncode == 0, listed.stderr
    assert "namespace/default" in listed.stdout.split()
    made = kubectl_with(
        tmp_path / "admin.yaml", "create", "configmap", "via-kubectl", "--from-literal=a=b"
    )
    assert made.returncode == 0, made.stderr
    assert "via-kubectl" in atoll.kubectl("get", "configmaps", "-o", "name")

    # The official Python client too.
    core = kubernetes.client.CoreV1Api(
        kubernetes.config.new_client_from_config(config_file=str(tmp_path / "admin.yaml"))
    )
    body = kubernetes.client.V1ConfigMap(
        metadata=kubernetes.client.V1ObjectMeta(name="via-client"), data={"a": "b"}
    )
    core.create_namespaced_config_map("default", body)
    assert "via-client" in atoll.kubectl("get", "configmaps", "-o", "name")


def test_watches_stream_through_the_proxy(atoll: Atoll) -> None:
    ready(atoll)
    admin = as_user(login(atoll))
    url = f"{atoll.url}/api/v1/namespaces/default/configmaps"
    since = admin.get(url, timeout=10).json()["metadata"]["resourceVersion"]
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "watched"}}
    assert admin.post(url, json=body, timeout=10).status_code == 201
    params = {"watch": "1", "resourceVersion": since, "timeoutSeconds": "30"}
    with admin.get(url, params=params, stream=True, timeout=30) as stream:
        assert stream.status_code == 200
        for line in stream.iter_lines():
            event = json.loads(line)
            if event["object"]["metadata"]["name"] == "watched":
                assert event["type"] == "ADDED"
                break


def test_changes_and_refusals_are_audited_without_secrets(atoll: Atoll) -> None:
    mallory = user_session(atoll, "mallory")
    assert mallory.delete(f"{atoll.url}/api/v1/namespaces/default", timeout=10).status_code == 403
    admin = as_user(login(atoll))
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "audited"},
        "stringData": {"token": "never-in-the-trail"},
    }
    question = {"reviews": [{"verb": "create", "resource": "secrets", "namespace": "default"}]}
    asked = admin.post(f"{atoll.url}/kapis/iam.atoll.io/v1alpha1/accessreviews", json=question)
    assert asked.status_code == 200  # a question, not a change: not in the trail
    made = admin.post(f"{atoll.url}/api/v1/namespaces/default/secrets", json=secret, timeout=10)
    assert made.status_code == 201
    events = f"{atoll.url}/kapis/auditing.atoll.io/v1alpha1/events"

    def found(**query: str) -> list[dict[str, object]]:
        answer = admin.get(events, params=query, timeout=10)
        assert answer.status_code == 200, answer.text
        return list(answer.json()["items"])

    (refused,) = eventually(lambda: found(user="mallory", code="403"))
    assert (refused["verb"], refused["resource"], refused["name"]) == (
        "delete",
        "namespaces",
        "default",
    )
    assert "cannot delete namespaces" in str(refused["reason"])
    (created,) = eventually(lambda: found(user="admin", resource="secrets", verb="create"))
    assert (created["namespace"], created["code"], created["source"]) == (
        "default",
        201,
        "127.0.0.1",
    )
    trail = "".join(p.read_text() for p in (atoll.data_dir / "audit").glob("*.jsonl"))
    assert "never-in-the-trail" not in trail
    assert "accessreviews" not in trail  # written before the secret's creation, had it been
    assert mallory.get(events, timeout=10).status_code == 403


def test_exec_and_logs_pass_the_proxy(
    atoll: Atoll, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    admin = as_user(login(atoll))
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "shell"},
        "spec": {
            "terminationGracePeriodSeconds": 1,
            "containers": [
                {"name": "main", "image": "busybox", "command": ["sh", "-c", "echo up; sleep 3600"]}
            ],
        },
    }
    pods = f"{atoll.url}/api/v1/namespaces/default/pods"
    assert admin.post(pods, json=pod, timeout=10).status_code == 201

    def running() -> bool:
        found = admin.get(f"{pods}/shell", timeout=10).json()
        statuses = (found.get("status") or {}).get("containerStatuses") or []
        return bool(statuses) and "running" in statuses[0].get("state", {})

    eventually(running, timeout=60)
    kubeconfig = tmp_path / "admin.yaml"
    kubeconfig.write_text(
        admin.get(f"{atoll.url}/kapis/resources.atoll.io/v1alpha1/users/admin/kubeconfig").text
    )
    client = kubernetes.config.new_client_from_config(config_file=str(kubeconfig))
    request.addfinalizer(client.close)  # a pooled socket collected later is a ResourceWarning
    core = kubernetes.client.CoreV1Api(client)
    assert eventually(lambda: core.read_namespaced_pod_log("shell", "default")) == "up\n"
    resp = kubernetes.stream.stream(
        core.connect_get_namespaced_pod_exec,
        "shell",
        "default",
        command=["sh", "-c", "read line; echo got=$line; exit 3"],
        stdin=True,
        stdout=True,
        stderr=True,
        tty=False,
        _preload_content=False,
    )
    resp.write_stdin("hello\n")
    resp.run_forever(timeout=20)
    assert resp.read_stdout() == "got=hello\n"
    assert resp.returncode == 3
    resp.sock.shutdown()


def test_groups_are_granted_roles_at_every_level(atoll: Atoll) -> None:
    carl = user_session(atoll, "carl")
    admin = as_user(login(atoll))
    iam = f"{atoll.url}/apis/iam.atoll.io/v1alpha1"
    group = {
        "apiVersion": "iam.atoll.io/v1alpha1",
        "kind": "Group",
        "metadata": {"name": "auditors"},
    }
    assert admin.post(f"{iam}/groups", json=group, timeout=10).status_code == 201
    membership = {
        "apiVersion": "iam.atoll.io/v1alpha1",
        "kind": "GroupBinding",
        "metadata": {"name": "auditors-carl"},
        "groupRef": {"apiGroup": "iam.atoll.io", "kind": "Group", "name": "auditors"},
        "users": ["carl"],
    }
    assert admin.post(f"{iam}/groupbindings", json=membership, timeout=10).status_code == 201
    subject = [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "auditors"}]
    viewer = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": "auditors-cluster-viewer"},
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": "cluster-viewer",
        },
        "subjects": subject,
    }
    rbac = f"{atoll.url}/apis/rbac.authorization.k8s.io/v1"
    assert admin.post(f"{rbac}/clusterrolebindings", json=viewer, timeout=10).status_code == 201
    eventually(lambda: carl.get(f"{atoll.url}/api/v1/namespaces", timeout=10).status_code == 200)
    events = f"{atoll.url}/kapis/auditing.atoll.io/v1alpha1/events"
    assert carl.get(events, timeout=10).status_code == 403
    platform = {
        "apiVersion": "iam.atoll.io/v1alpha1",
        "kind": "GlobalRoleBinding",
        "metadata": {"name": "auditors-platform-admin"},
        "roleRef": {"apiGroup": "iam.atoll.io", "kind": "GlobalRole", "name": "platform-admin"},
        "subjects": subject,
    }
    assert admin.post(f"{iam}/globalrolebindings", json=platform, timeout=10).status_code == 201
    eventually(lambda: carl.get(events, timeout=10).status_code == 200)
    # Out of the group, out of its roles.
    assert admin.delete(f"{iam}/groupbindings/auditors-carl", timeout=10).status_code == 200
    eventually(lambda: carl.get(events, timeout=10).status_code == 403)
    assert carl.get(f"{atoll.url}/api/v1/namespaces", timeout=10).status_code == 403


def test_an_exec_the_cluster_refuses_says_why_on_the_error_channel(atoll: Atoll) -> None:
    """A browser sees only 1006 when a socket closes before its handshake: Atoll accepts, sends
    the cluster's Status on channel 3 and closes with 1011, as kube-apiserver would."""
    bearer = base64.urlsafe_b64encode(login(atoll).encode()).decode().rstrip("=")
    url = atoll.url.replace("http://", "ws://")
    path = "/api/v1/namespaces/default/pods/no-such-pod/exec?command=true&stdout=true"
    socket = websocket.create_connection(
        url + path,
        subprotocols=["v4.channel.k8s.io", f"base64url.bearer.authorization.k8s.io.{bearer}"],
        timeout=10,
    )
    try:
        assert socket.subprotocol == "v4.channel.k8s.io"
        opcode, frame = socket.recv_data()
        assert frame[:1] == b"\x03"
        status = json.loads(frame[1:])
        assert (status["kind"], status["code"]) == ("Status", 404)
        assert "no-such-pod" in status["message"]
        opcode, closing = socket.recv_data(control_frame=True)
        assert opcode == websocket.ABNF.OPCODE_CLOSE
        assert int.from_bytes(closing[:2], "big") == 1011
    finally:
        socket.close()
