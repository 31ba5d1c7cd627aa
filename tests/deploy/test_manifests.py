"""``deploy/``: the manifests that install Atoll's server in a real cluster, and the
in-cluster config the server runs with there.

The manifests are checked by the real kubectl against the worker's embedded cluster with
``apply --dry-run=server``: every object is defaulted, validated and admitted as a create
would be, and nothing is stored. The in-cluster config is pointed at the same cluster through
a service-account directory written here, laid out as the kubelet lays it out.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import typer
import yaml
from tests.conftest import KUBECTL, ROOT, ClusterProcess

from atoll.cli import app
from atoll.errors import Unauthorized
from atoll.kube.client import KubeClient, ResourceType
from atoll.kube.kubeconfig import ClusterConfig, running_in_pod

DEPLOY = ROOT / "deploy"
NAMESPACE = "atoll-system"
SOURCES = {"-f": DEPLOY / "atoll.yaml", "-k": DEPLOY / "base"}
NAMESPACES = ResourceType("", "v1", "namespaces", "Namespace", False)
Object = dict[str, Any]


def rendered(flag: str) -> list[Object]:
    """The objects ``kubectl apply`` would send for ``-f deploy/atoll.yaml`` or
    ``-k deploy/base`` (rendered by kubectl's own kustomize)."""
    if flag == "-f":
        text = SOURCES[flag].read_text()
    else:
        text = subprocess.run(
            [str(KUBECTL), "kustomize", str(SOURCES[flag])],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout
    return [doc for doc in yaml.safe_load_all(text) if doc]


def identity(obj: Mapping[str, Any]) -> str:
    meta = obj["metadata"]
    where = f"{meta['namespace']}/" if "namespace" in meta else ""
    return f"{obj['kind']}.{obj['apiVersion']} {where}{meta['name']}"


def by_identity(objects: Iterable[Object]) -> dict[str, Object]:
    return {identity(obj): obj for obj in objects}


def moved(objects: Iterable[Object], namespace: str) -> list[Object]:
    """The objects with ``atoll-system`` replaced by ``namespace`` everywhere it names the
    namespace (the Namespace itself, namespaced objects, the binding's subject)."""
    text = json.dumps(list(objects)).replace(f'"{NAMESPACE}"', json.dumps(namespace))
    found: list[Object] = json.loads(text)
    return found


# -- the two forms agree, and say what the brief asks ---------------------------------------


def test_the_plain_file_and_the_kustomize_base_hold_the_same_objects() -> None:
    plain, base = rendered("-f"), rendered("-k")
    as_set = {json.dumps(obj, sort_keys=True) for obj in plain}
    assert len(as_set) == len(plain), "deploy/atoll.yaml repeats an object"
    if as_set != {json.dumps(obj, sort_keys=True) for obj in base}:
        plain_ids, base_ids = by_identity(plain), by_identity(base)
        differing = sorted(
            key
            for key in plain_ids.keys() | base_ids.keys()
            if plain_ids.get(key) != base_ids.get(key)
        )
        pytest.fail(f"deploy/atoll.yaml and deploy/base differ in: {differing}")
    assert sorted(by_identity(plain)) == [
        "ClusterRole.rbac.authorization.k8s.io/v1 atoll",
        "ClusterRoleBinding.rbac.authorization.k8s.io/v1 atoll",
        "Deployment.apps/v1 atoll-system/atoll",
        "Namespace.v1 atoll-system",
        "PodDisruptionBudget.policy/v1 atoll-system/atoll",
        "Service.v1 atoll-system/atoll",
        "ServiceAccount.v1 atoll-system/atoll",
    ]


def test_the_deployment_runs_the_server_in_cluster_hardened_and_spread() -> None:
    objects = by_identity(rendered("-f"))
    deployment = objects["Deployment.apps/v1 atoll-system/atoll"]
    spec, pod = deployment["spec"], deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert spec["replicas"] == 2
    assert pod["serviceAccountName"] == "atoll"
    assert pod["terminationGracePeriodSeconds"] > 10  # beyond uvicorn's graceful shutdown
    assert pod["topologySpreadConstraints"][0]["topologyKey"] == "kubernetes.io/hostname"
    assert container["image"] == "ghcr.io/atoll-dev/atoll:0.1.0"
    assert container["args"] == [
        *("up", "--in-cluster", "--host", "0.0.0.0", "--port", "8080"),
        *("--data-dir", "/var/lib/atoll"),
    ]
    (password,) = container["env"]
    assert password == {
        "name": "ATOLL_ADMIN_PASSWORD",
        "valueFrom": {"secretKeyRef": {"name": "atoll-admin", "key": "password", "optional": True}},
    }
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert container["resources"]["limits"]["memory"] == "512Mi"
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    empty_dirs = {v["name"] for v in pod["volumes"] if "emptyDir" in v}
    assert set(mounts) == {"/var/lib/atoll", "/tmp"} and set(mounts.values()) == empty_dirs
    service = objects["Service.v1 atoll-system/atoll"]["spec"]
    assert service["type"] == "ClusterIP"
    assert service["ports"] == [
        {"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"},
        {"name": "https", "port": 443, "targetPort": "https", "protocol": "TCP"},
    ]
    assert {p["name"]: p["containerPort"] for p in container["ports"]} == {
        "http": 8080,
        "https": 8443,
    }
    budget = objects["PodDisruptionBudget.policy/v1 atoll-system/atoll"]["spec"]
    assert budget["minAvailable"] == 1
    assert budget["selector"] == spec["selector"]
    assert service["selector"] == spec["selector"]["matchLabels"]


def test_the_deployment_passes_only_options_atoll_up_has() -> None:
    up = typer.main.get_command(app).commands["up"]  # type: ignore[attr-defined]
    known = {opt for param in up.params for opt in param.opts}
    deployment = by_identity(rendered("-f"))["Deployment.apps/v1 atoll-system/atoll"]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    given = {arg for arg in container["args"] if arg.startswith("--")}
    assert given <= known, f"atoll up has no {sorted(given - known)}"


# -- server-side dry run against the embedded cluster ----------------------------------------


@pytest.mark.parametrize("flag", ["-f", "-k"])
def test_server_dry_run_before_the_namespace_exists(cluster: ClusterProcess, flag: str) -> None:
    """As any API server does: a Namespace created in a dry run is not stored, so the objects
    meant to live in it are refused (kubernetes/kubernetes#83562). Nothing is created."""
    out = cluster.kubectl("apply", "--dry-run=server", flag, str(SOURCES[flag]), check=False)
    for line in (
        f"namespace/{NAMESPACE} created (server dry run)",
        "clusterrole.rbac.authorization.k8s.io/atoll created (server dry run)",
        "clusterrolebinding.rbac.authorization.k8s.io/atoll created (server dry run)",
    ):
        assert line in out.splitlines(), out
    namespaced = [o for o in rendered(flag) if "namespace" in o["metadata"]]
    assert len(namespaced) == 4
    refused = f'Error from server (NotFound): error when creating "{SOURCES[flag]}": '
    refused += f'namespaces "{NAMESPACE}" not found'
    assert out.count(refused) == len(namespaced), out
    assert_nothing_created(cluster, NAMESPACE)


@pytest.mark.parametrize("flag", ["-f", "-k"])
def test_server_dry_run_admits_every_object(
    cluster: ClusterProcess, namespace: str, flag: str
) -> None:
    """The same objects moved into an existing namespace: the server defaults, validates and
    admits every one of them, and stores none."""
    objects = moved(rendered(flag), namespace)
    out = cluster.kubectl("apply", "--dry-run=server", "-f", "-", input=yaml.safe_dump_all(objects))
    reported = out.splitlines()
    assert len(reported) == len(objects), out
    assert all(line.endswith("(server dry run)") for line in reported), out
    assert f"namespace/{namespace} configured (server dry run)" in reported
    assert_nothing_created(cluster, namespace, namespace_exists=True)


def test_server_dry_run_refuses_what_a_real_server_refuses(
    cluster: ClusterProcess, namespace: str
) -> None:
    objects = by_identity(moved(rendered("-f"), namespace))
    deployment = objects[f"Deployment.apps/v1 {namespace}/atoll"]
    deployment["spec"]["template"]["metadata"]["labels"] = {"app.kubernetes.io/name": "other"}
    budget = objects[f"PodDisruptionBudget.policy/v1 {namespace}/atoll"]
    budget["spec"]["maxUnavailable"] = 1
    out = cluster.kubectl(
        "apply",
        "--dry-run=server",
        "-f",
        "-",
        input=yaml.safe_dump_all([deployment, budget]),
        check=False,
    )
    assert "`selector` does not match template `labels`" in out, out
    assert "minAvailable and maxUnavailable cannot be both set" in out, out


def assert_nothing_created(
    cluster: ClusterProcess, namespace: str, *, namespace_exists: bool = False
) -> None:
    for what in ("clusterrole", "clusterrolebinding"):
        gone = cluster.kubectl("get", what, "atoll", check=False)
        assert "NotFound" in gone, gone
    found = cluster.kubectl("get", "namespace", namespace, "-o", "json", check=False)
    if not namespace_exists:
        assert f'namespaces "{namespace}" not found' in found, found
        return
    labels = json.loads(found)["metadata"].get("labels") or {}
    assert "pod-security.kubernetes.io/enforce" not in labels
    names = cluster.kubectl(
        "get",
        "deployments,services,serviceaccounts,poddisruptionbudgets",
        "-n",
        namespace,
        "-o",
        "name",
    ).split()
    assert set(names) <= {"serviceaccount/default"}, names


# -- the in-cluster config ---------------------------------------------------------------


def write_projected(account_dir: Path, files: Mapping[str, str]) -> None:
    """Write ``files`` as the kubelet's atomic writer does: into a fresh hidden directory,
    then swap the ``..data`` symlink to it in one rename; each file is a symlink through
    ``..data``. A reader sees all old files or all new ones."""
    account_dir.mkdir(parents=True, exist_ok=True)
    version = account_dir / f"..{uuid.uuid4().hex}"
    version.mkdir()
    for name, text in files.items():
        (version / name).write_text(text)
    staged = account_dir / "..data_tmp"
    staged.symlink_to(version.name)
    os.replace(staged, account_dir / "..data")
    for name in files:
        link = account_dir / name
        if not link.is_symlink():
            link.symlink_to(Path("..data") / name)


def pod_environment(cluster: ClusterProcess) -> dict[str, str]:
    url = urlsplit(cluster.url)
    assert url.scheme == "https" and url.hostname and url.port
    return {"KUBERNETES_SERVICE_HOST": url.hostname, "KUBERNETES_SERVICE_PORT": str(url.port)}


async def namespace_names(client: KubeClient) -> set[str]:
    answer = await client.list(NAMESPACES)
    return {item["metadata"]["name"] for item in answer["items"]}


async def test_the_in_cluster_config_reaches_the_cluster(
    cluster: ClusterProcess, tmp_path: Path
) -> None:
    account = tmp_path / "serviceaccount"
    files = {"token": cluster.token, "ca.crt": cluster.ca.read_text(), "namespace": NAMESPACE}
    write_projected(account, files)
    env = pod_environment(cluster)
    assert running_in_pod(environ=env, account_dir=account)
    config = ClusterConfig.in_cluster(environ=env, account_dir=account)
    assert config.namespace == NAMESPACE
    assert config.ca_path == account / "ca.crt"  # verified against the cluster's own CA
    assert cluster.token not in repr(config)
    async with KubeClient(config) as client:
        assert {"default", "kube-system"} <= await namespace_names(client)


async def test_a_rotated_token_is_used_at_the_next_request(
    cluster: ClusterProcess, tmp_path: Path
) -> None:
    account = tmp_path / "serviceaccount"
    ca = cluster.ca.read_text()
    write_projected(account, {"token": "expired-token", "ca.crt": ca, "namespace": NAMESPACE})
    config = ClusterConfig.in_cluster(environ=pod_environment(cluster), account_dir=account)
    async with KubeClient(config) as client:
        with pytest.raises(Unauthorized):
            await client.list(NAMESPACES)
        # The kubelet rotates the token; the 401 made the client read the file again.
        write_projected(account, {"token": cluster.token, "ca.crt": ca, "namespace": NAMESPACE})
        assert "default" in await namespace_names(client)


def test_running_in_pod_needs_the_service_host_and_a_token(tmp_path: Path) -> None:
    env = {"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"}
    assert not running_in_pod(environ=env, account_dir=tmp_path)
    write_projected(tmp_path, {"token": "t"})
    assert running_in_pod(environ=env, account_dir=tmp_path)
    assert not running_in_pod(environ={}, account_dir=tmp_path)


# -- the command line --------------------------------------------------------------------


def atoll_up(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBERNETES_")}
    return subprocess.run(
        [sys.executable, "-m", "atoll", "up", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**env, "COLUMNS": "200"},
    )


def test_in_cluster_and_kubeconfig_exclude_each_other(tmp_path: Path) -> None:
    done = atoll_up("--in-cluster", "--kubeconfig", "x", "--data-dir", str(tmp_path))
    assert done.returncode == 2
    assert "--in-cluster and --kubeconfig exclude each other" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert not any(tmp_path.iterdir())  # nothing started


def test_in_cluster_outside_a_pod_says_why(tmp_path: Path) -> None:
    done = atoll_up("--in-cluster", "--data-dir", str(tmp_path))
    assert done.returncode == 2
    assert "not running in a cluster: KUBERNETES_SERVICE_HOST" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
