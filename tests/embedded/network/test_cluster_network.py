"""The whole network of the embedded cluster, as a user meets it: a Deployment behind a
Service, reached by ClusterIP from this machine and by name from another pod, a rolling
update with a client loop that never sees a failure, and an Ingress routing by host and path.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import ClusterProcess, start_cluster
from tests.waiting import eventually

pytestmark = pytest.mark.skipif(
    not Path("/usr/sbin/ip").exists() and not Path("/usr/bin/ip").exists(),
    reason="pod networks need the ip command",
)

# Each replica serves its own directory, holding the version it was started with.
SERVE = (
    'd=$(mktemp -d); echo "$VERSION" > "$d/version"; echo "$HOSTNAME" > "$d/host"; '
    'cd "$d"; exec python3 -m http.server 8000'
)


def web_deployment(version: str) -> dict[str, Any]:
    container = {
        "name": "web",
        "image": "python:3.11",
        "command": ["sh", "-c", SERVE],
        "env": [{"name": "VERSION", "value": version}],
        "ports": [{"containerPort": 8000, "name": "http"}],
        "readinessProbe": {"httpGet": {"path": "/version", "port": 8000}, "periodSeconds": 1},
        # What users add for zero-downtime updates on any cluster: keep serving while the
        # endpoint's removal reaches every proxy.
        "lifecycle": {"preStop": {"exec": {"command": ["sleep", "1"]}}},
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {"rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"terminationGracePeriodSeconds": 5, "containers": [container]},
            },
        },
    }


SERVICE = {
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {"name": "web"},
    "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": "http"}]},
}
CLIENT = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "client"},
    "spec": {
        "terminationGracePeriodSeconds": 1,
        "containers": [{"name": "main", "image": "python:3.11", "command": ["sleep", "3600"]}],
    },
}


def ingress(namespace: str) -> dict[str, Any]:
    backend = {"service": {"name": "web", "port": {"number": 80}}}
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "web"},
        "spec": {
            "rules": [
                {
                    "host": f"web.{namespace}.example",
                    "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": backend}]},
                },
                {
                    "http": {
                        "paths": [
                            {"path": "/version", "pathType": "Exact", "backend": backend},
                        ]
                    }
                },
            ]
        },
    }


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterProcess]:
    data_dir = tmp_path_factory.mktemp("network-cluster") / "data"
    data_dir.mkdir()
    proc = start_cluster(data_dir, "--kubelet", "on")
    yield proc
    if proc.process.poll() is None:
        proc.stop()


def apply(cluster: ClusterProcess, namespace: str, obj: dict[str, Any]) -> None:
    cluster.kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps(obj))


def get(url: str, host: str | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Host": host} if host else {})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=5) as response:
            return response.status, response.read().decode().strip()
    except urllib.error.HTTPError as error:
        return error.code, ""


class ClientLoop(threading.Thread):
    """Requests ``url`` back to back until stopped; counts answers by body, and failures."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.answers: dict[str, int] = {}
        self.failures: list[str] = []
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            try:
                status, body = get(self.url)
                if status != 200:
                    self.failures.append(f"HTTP {status}")
                else:
                    self.answers[body] = self.answers.get(body, 0) + 1
            except OSError as error:
                self.failures.append(repr(error))

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=30)


def test_a_deployment_behind_a_service_and_an_ingress(
    cluster: ClusterProcess, namespace: str
) -> None:
    apply(cluster, namespace, web_deployment("v1"))
    apply(cluster, namespace, SERVICE)
    apply(cluster, namespace, CLIENT)
    cluster.kubectl("rollout", "status", "-n", namespace, "deployment/web", "--timeout=90s")
    service = json.loads(cluster.kubectl("get", "service", "web", "-n", namespace, "-o", "json"))
    cluster_ip = service["spec"]["clusterIP"]

    # From this machine, through the ClusterIP: every replica answers, each with its own IP.
    hosts = {eventually(lambda: get(f"http://{cluster_ip}/host")[1]) for _ in range(12)}
    assert len(hosts) == 3, hosts
    assert get(f"http://{cluster_ip}/version") == (200, "v1")
    pods = json.loads(
        cluster.kubectl("get", "pods", "-n", namespace, "-l", "app=web", "-o", "json")
    )
    ips = {p["status"]["podIP"] for p in pods["items"]}
    assert len(ips) == 3 and not any(ip.startswith("127.") for ip in ips)

    # From another pod, by name: the short name, the namespaced one and the full one.
    cluster.kubectl("wait", "-n", namespace, "--for=condition=Ready", "pod/client")
    script = (
        "import urllib.request as u\n"
        f"for name in ('web', 'web.{namespace}', 'web.{namespace}.svc.cluster.local'):\n"
        "    print(name, u.urlopen(f'http://{name}/version', timeout=5).read().decode().strip())\n"
    )
    answered = cluster.kubectl("exec", "-n", namespace, "client", "--", "python3", "-c", script)
    assert answered.split("\n")[:3] == [
        "web v1",
        f"web.{namespace} v1",
        f"web.{namespace}.svc.cluster.local v1",
    ]

    # A rolling update to v2 while a client loop asks the Service: never a failure.
    loop = ClientLoop(f"http://{cluster_ip}/version")
    loop.start()
    try:
        apply(cluster, namespace, web_deployment("v2"))
        cluster.kubectl("rollout", "status", "-n", namespace, "deployment/web", "--timeout=120s")
        eventually(lambda: loop.answers.get("v2", 0) > 20, what="v2 answering")
    finally:
        loop.stop()
    assert loop.failures == [], loop.failures[:5]
    assert loop.answers.get("v1", 0) > 0 and loop.answers["v2"] > 20

    # An Ingress: by host and path, on the ingress proxy's port (in its status).
    apply(cluster, namespace, ingress(namespace))

    def published() -> list[dict[str, Any]]:
        found = json.loads(cluster.kubectl("get", "ingress", "web", "-n", namespace, "-o", "json"))
        return list((found.get("status") or {}).get("loadBalancer", {}).get("ingress") or [])

    (address,) = eventually(published, what="the Ingress's address")
    port = address["ports"][0]["port"]
    base = f"http://127.0.0.1:{port}"
    assert get(f"{base}/version", host=f"web.{namespace}.example") == (200, "v2")
    assert get(f"{base}/host", host=f"web.{namespace}.example")[0] == 200
    assert get(f"{base}/version", host="anything.else") == (200, "v2")  # the host-less rule
    assert get(f"{base}/host", host="anything.else")[0] == 404  # Exact /version only
