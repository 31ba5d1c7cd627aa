"""``atoll up``: the embedded cluster and Atoll's server in one process, started, probed and
stopped as a user would; the iam component's CRDs and the admin user made at first start."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import requests
from tests.conftest import KUBECTL
from tests.server.atoll_process import (
    PASSWORD_LINE,
    Atoll,
    admin_password,
    as_user,
    http,
    login,
    start_atoll,
    token,
)
from tests.waiting import eventually

from atoll.components.iam.passwords import verify_password


def test_health_readiness_and_metrics(atoll: Atoll) -> None:
    assert http().get(f"{atoll.url}/healthz", timeout=5).text == "ok"
    eventually(lambda: http().get(f"{atoll.url}/readyz", timeout=5).status_code == 200)
    metrics = http().get(f"{atoll.url}/metrics", timeout=5).text
    assert 'atoll_http_requests_total{code="200",method="GET",route="/healthz"}' in metrics
    assert "atoll_http_request_duration_seconds_bucket" in metrics
    assert 'atoll_cache_objects{component="iam",resource="users.iam.atoll.io"}' in metrics
    eventually(
        lambda: (
            'atoll_controller_queue_depth{controller="iam-users"}'
            in http().get(f"{atoll.url}/metrics", timeout=5).text
        )
    )


def test_unknown_routes_answer_problem_json(atoll: Atoll) -> None:
    anonymous = http().get(f"{atoll.url}/kapis/nothing.atoll.io/v1alpha1/things", timeout=5)
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"
    assert anonymous.headers["www-authenticate"] == 'Bearer realm="atoll"'
    session = as_user(login(atoll))
    response = session.get(f"{atoll.url}/kapis/nothing.atoll.io/v1alpha1/things", timeout=5)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "Not Found",
    }


def test_first_start_installs_crds_and_a_generated_admin(atoll: Atoll) -> None:
    eventually(lambda: http().get(f"{atoll.url}/readyz", timeout=5).status_code == 200)
    crds = atoll.kubectl("get", "crd", "-o", "name")
    for plural in ("users", "globalroles", "globalrolebindings", "workspaceroles"):
        assert f"customresourcedefinition.apiextensions.k8s.io/{plural}.iam.atoll.io" in crds
    admin = json.loads(atoll.kubectl("get", "users.iam.atoll.io", "admin", "-o", "json"))
    stored = admin["spec"]["password"]
    assert stored.startswith("$argon2id$")
    annotations = admin["metadata"]["annotations"]
    assert annotations["iam.atoll.io/password-change-required"] == "true"
    assert verify_password(stored, admin_password(atoll))
    assert not verify_password(stored, "wrong")
    assert (atoll.data_dir / "cluster" / "kubeconfig").exists()


def test_a_plain_text_password_written_directly_is_hashed_and_the_user_active(
    atoll: Atoll,
) -> None:
    eventually(lambda: http().get(f"{atoll.url}/readyz", timeout=5).status_code == 200)
    user = {
        "apiVersion": "iam.atoll.io/v1alpha1",
        "kind": "User",
        "metadata": {"name": "dev1"},
        "spec": {"email": "dev1@example.com", "password": "P@ssw0rd-dev1"},
    }
    subprocess.run(
        [
            str(KUBECTL),
            f"--kubeconfig={atoll.data_dir / 'cluster' / 'kubeconfig'}",
            "apply",
            "-f",
            "-",
        ],
        input=json.dumps(user),
        text=True,
        check=True,
        capture_output=True,
        timeout=60,
    )

    def settled() -> dict[str, object] | None:
        found = json.loads(atoll.kubectl("get", "users.iam.atoll.io", "dev1", "-o", "json"))
        state = (found.get("status") or {}).get("state")
        return found if state == "Active" and found["spec"]["password"] != "P@ssw0rd-dev1" else None

    found = eventually(settled, timeout=10, what="dev1 hashed and Active")
    spec, meta = found["spec"], found["metadata"]
    assert isinstance(spec, dict) and isinstance(meta, dict)
    assert verify_password(spec["password"], "P@ssw0rd-dev1")
    assert meta["annotations"]["iam.atoll.io/password-encrypted"] == "true"


def test_oauth_password_and_refresh_grants(atoll: Atoll) -> None:
    eventually(lambda: http().get(f"{atoll.url}/readyz", timeout=5).status_code == 200)
    answer = token(atoll, grant_type="password", username="admin", password=admin_password(atoll))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert body["token_type"] == "Bearer" and body["expires_in"] == 7200
    assert answer.headers["cache-control"] == "no-store"

    again = token(atoll, grant_type="refresh_token", refresh_token=body["refresh_token"])
    assert again.status_code == 200, again.text
    assert again.json()["access_token"] != body["access_token"]
    # An access token is not a refresh token.
    wrong_kind = token(atoll, grant_type="refresh_token", refresh_token=body["access_token"])
    assert (wrong_kind.status_code, wrong_kind.json()["error"]) == (400, "invalid_grant")


def test_oauth_refuses_bad_credentials_alike_and_bad_requests_clearly(atoll: Atoll) -> None:
    eventually(lambda: http().get(f"{atoll.url}/readyz", timeout=5).status_code == 200)
    wrong = token(atoll, grant_type="password", username="admin", password="nope")
    nobody = token(atoll, grant_type="password", username="nobody", password="nope")
    for answer in (wrong, nobody):
        assert answer.status_code == 400
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["error"] == "invalid_grant"
    assert wrong.json()["detail"] == nobody.json()["detail"]  # no telling which was wrong
    missing = token(atoll, grant_type="password", username="admin")
    assert (missing.status_code, missing.json()["error"]) == (400, "invalid_request")
    other = token(atoll, grant_type="client_credentials")
    assert (other.status_code, other.json()["error"]) == (400, "unsupported_grant_type")
    forged = token(atoll, grant_type="refresh_token", refresh_token="not.a.token")
    assert (forged.status_code, forged.json()["error"]) == (400, "invalid_grant")


def test_sigterm_stops_everything(atoll: Atoll) -> None:
    assert atoll.stop() == 0
    with pytest.raises(requests.ConnectionError):
        http().get(f"{atoll.url}/healthz", timeout=5)


def test_the_admin_password_can_be_given_and_is_never_printed(tmp_path: Path) -> None:
    given = "correct horse battery staple"
    atoll = start_atoll(tmp_path / "data", ATOLL_ADMIN_PASSWORD=given)
    try:
        eventually(lambda: http().get(f"{atoll.url}/readyz", timeout=5).status_code == 200)
        admin = json.loads(atoll.kubectl("get", "users.iam.atoll.io", "admin", "-o", "json"))
        assert verify_password(admin["spec"]["password"], given)
        assert "iam.atoll.io/password-change-required" not in admin["metadata"]["annotations"]
        assert not any(given in line or PASSWORD_LINE in line for line in atoll.lines)
    finally:
        assert atoll.stop() == 0
    # A second start keeps the admin as it is and shows no password.
    again = start_atoll(tmp_path / "data")
    try:
        eventually(lambda: http().get(f"{again.url}/readyz", timeout=5).status_code == 200)
        admin = json.loads(again.kubectl("get", "users.iam.atoll.io", "admin", "-o", "json"))
        assert verify_password(admin["spec"]["password"], given)
        assert not any(PASSWORD_LINE in line for line in again.lines)
    finally:
        again.stop()
