"""Running ``atoll up`` as a user does, for the server's tests: start it, wait for its URL,
log in, and stop it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from tests.conftest import KUBECTL, unique_pod_network, unique_service_cidr
from tests.waiting import eventually

TENANT = "/kapis/tenant.atoll.io/v1alpha1"
IAM = "/kapis/iam.atoll.io/v1alpha1"
ATOLL_UP = [sys.executable, "-m", "atoll", "up"]
PASSWORD_LINE = "admin password (shown once; change it at first login): "


@dataclass
class Atoll:
    process: subprocess.Popen[str]
    url: str
    data_dir: Path
    lines: list[str] = field(default_factory=list)
    reader: threading.Thread = field(default_factory=threading.Thread)

    def kubectl(self, *args: str, input: str | None = None) -> str:
        kubeconfig = self.data_dir / "cluster" / "kubeconfig"
        return subprocess.run(
            [str(KUBECTL), f"--kubeconfig={kubeconfig}", *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
            input=input,
        ).stdout

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=60)
        self.reader.join(timeout=10)  # it ends at the pipe's end
        if self.process.stdout is not None:
            self.process.stdout.close()
        return code


def start_atoll(data_dir: Path, **env: str) -> Atoll:
    bridge, pod_cidr = unique_pod_network(data_dir)
    settings = {
        "ATOLL_CLUSTER__SERVICE_CIDR": unique_service_cidr(),
        "ATOLL_CLUSTER__BRIDGE": bridge,
        "ATOLL_CLUSTER__POD_CIDR": pod_cidr,
        "ATOLL_CLUSTER__INGRESS_HTTP_PORT": "0",
        "ATOLL_CLUSTER__INGRESS_HTTPS_PORT": "0",
        "PYTHONUNBUFFERED": "1",
        **env,
    }
    if "ATOLL_ADMIN_PASSWORD" not in env:
        settings["ATOLL_ADMIN_PASSWORD"] = ""
    settings["KUBERNETES_SERVICE_HOST"] = ""  # the embedded cluster, even when run in a pod
    process = subprocess.Popen(
        [*ATOLL_UP, "--data-dir", str(data_dir), "--port", "0", "--tls-port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # what it tells a person goes to stderr
        text=True,
        env={k: v for k, v in {**os.environ, **settings}.items() if v != ""},
    )
    atoll = Atoll(process, "", data_dir)

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            atoll.lines.append(line.rstrip("\n"))

    atoll.reader = threading.Thread(target=read, daemon=True)
    atoll.reader.start()
    found = eventually(
        lambda: (
            next((x for x in atoll.lines if x.startswith("http://")), None)
            or (process.poll() is not None and "exited")
        ),
        timeout=60,
        what="atoll up printing its URL",
    )
    assert found != "exited", f"atoll up exited with {process.returncode}"
    atoll.url = found
    return atoll


def kubectl_with(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """kubectl with the kubeconfig ``config`` (a user's own, from Atoll), not raising on a
    refusal: the exit code and both streams are the test's to read."""
    return subprocess.run(
        [str(KUBECTL), f"--kubeconfig={config}", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def http() -> requests.Session:
    """A client session. It asks for no keep-alive: the many sessions made for one request are
    never closed, and a pooled socket garbage-collected later is a ResourceWarning (an error
    here) in whichever test happens to run then."""
    session = requests.Session()
    session.trust_env = False
    session.headers["Connection"] = "close"
    return session


def admin_password(atoll: Atoll) -> str:
    """The generated password ``atoll up`` shows once. It is shown when the admin is made, which
    may be after the URL: the host cluster and the CRDs come first."""
    shown = eventually(
        lambda: [x for x in atoll.lines if x.startswith(PASSWORD_LINE)],
        timeout=60,
        what="atoll up showing the admin password",
    )
    assert len(shown) == 1, shown
    return shown[0].removeprefix(PASSWORD_LINE)


def token(atoll: Atoll, **form: str) -> requests.Response:
    return http().post(f"{atoll.url}/oauth/token", data=form, timeout=10)


def ready(atoll: Atoll) -> None:
    eventually(lambda: http().get(f"{atoll.url}/readyz", timeout=5).status_code == 200)


def login(atoll: Atoll, username: str = "admin", password: str | None = None) -> str:
    """An access token for ``username`` (the admin, with its shown password, by default),
    once Atoll is ready."""
    ready(atoll)
    password = admin_password(atoll) if password is None else password
    answer = token(atoll, grant_type="password", username=username, password=password)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def as_user(bearer: str) -> requests.Session:
    session = http()
    session.headers["Authorization"] = f"Bearer {bearer}"
    return session


USERS = "/apis/iam.atoll.io/v1alpha1/users"


def make_user(atoll: Atoll, name: str, password: str = "Secret-pass-1") -> requests.Response:
    ready(atoll)
    admin = as_user(login(atoll))
    body = {
        "apiVersion": "iam.atoll.io/v1alpha1",
        "kind": "User",
        "metadata": {"name": name},
        "spec": {"email": f"{name}@example.com", "password": password},
    }
    return admin.post(f"{atoll.url}{USERS}", json=body, timeout=10)


def user_session(atoll: Atoll, name: str, password: str = "Secret-pass-1") -> requests.Session:
    created = make_user(atoll, name, password)
    assert created.status_code == 201, created.text
    bearer = eventually(
        lambda: (
            (
                answer := http().post(
                    f"{atoll.url}/oauth/token",
                    data={"grant_type": "password", "username": name, "password": password},
                    timeout=10,
                )
            ).status_code
            == 200
            and answer.json()["access_token"]
        ),
        timeout=2,  # a new user can log in within 2 s
        what=f"{name} can log in",
    )
    return as_user(bearer)


def workspace(atoll: Atoll, name: str, manager: str) -> None:
    admin = as_user(login(atoll))
    body = {
        "apiVersion": "tenant.atoll.io/v1alpha1",
        "kind": "Workspace",
        "metadata": {"name": name},
        "spec": {"manager": manager},
    }
    made = admin.post(
        f"{atoll.url}/apis/tenant.atoll.io/v1alpha1/workspaces", json=body, timeout=10
    )
    assert made.status_code == 201, made.text


def project(session: requests.Session, atoll: Atoll, ws: str, name: str) -> requests.Response:
    body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
    url = f"{atoll.url}{TENANT}/workspaces/{ws}/clusters/host/namespaces"
    return session.post(url, json=body, timeout=10)


def configmap(session: requests.Session, atoll: Atoll, ns: str, name: str) -> int:
    body: dict[str, Any] = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}
    url = f"{atoll.url}/api/v1/namespaces/{ns}/configmaps"
    return session.post(url, json=body, timeout=10).status_code
