"""Endpoints and EndpointSlices follow the pods a Service selects: ready and unready pods,
named target ports resolved per pod, pods leaving by deletion or relabelling, Services
without a selector left alone, and everything gone with the Service.

Pods are made Ready by the test-only kubelet stand-in's ``mark_ready``; an unready pod gets a
status written here (Running, with an IP, Ready=False).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from tests.conftest import ClusterProcess
from tests.embedded.controllers.kubelet_stand_in import mark_ready
from tests.embedded.controllers.lifecycle_support import Api, eventually

from atoll.embedded.controllers.endpoints import endpoint_slices, endpoint_subsets, service_labels

MANAGED_BY = "endpointslice.kubernetes.io/managed-by"


@pytest.fixture
def api(cluster: ClusterProcess) -> Api:
    return Api(cluster)


def _pod(api: Api, namespace: str, name: str, port: int, app: str = "web") -> None:
    container = {
        "name": "c",
        "image": "nginx",
        "ports": [{"name": "http", "containerPort": port}, {"containerPort": 9090}],
    }
    body = {"metadata": {"name": name, "labels": {"app": app}}, "spec": {"containers": [container]}}
    api.create(f"/api/v1/namespaces/{namespace}/pods", body)


def _service(api: Api, namespace: str, name: str = "web", **spec: Any) -> dict[str, Any]:
    ports = [
        {"name": "http", "port": 80, "targetPort": "http"},
        {"name": "metrics", "port": 9090, "targetPort": 9090},
    ]
    body = {
        "metadata": {"name": name, "labels": {"tier": "front"}},
        "spec": {"selector": {"app": "web"}, "ports": ports, **spec},
    }
    return api.create(f"/api/v1/namespaces/{namespace}/services", body)


def _all_running(cluster: ClusterProcess, api: Api, namespace: str) -> None:
    """Mark the namespace's pods Ready until none is left (a write may lose a race)."""

    def running() -> bool:
        mark_ready(cluster, namespace, http=api.http)
        pods = api.items(f"/api/v1/namespaces/{namespace}/pods")
        return all(p.get("status", {}).get("phase") == "Running" for p in pods)

    eventually(running)


def _unready(api: Api, namespace: str, name: str, ip: str) -> None:
    path = f"/api/v1/namespaces/{namespace}/pods/{name}"
    pod = api.get(path)
    assert pod is not None
    del pod["metadata"]["resourceVersion"]  # unconditional: whoever else wrote, this wins
    pod["status"] = {
        "phase": "Running",
        "podIP": ip,
        "podIPs": [{"ip": ip}],
        "conditions": [{"type": "Ready", "status": "False"}],
    }
    api.put(f"{path}/status", pod)


def _endpoints(api: Api, namespace: str, name: str = "web") -> dict[str, Any] | None:
    return api.get(f"/api/v1/namespaces/{namespace}/endpoints/{name}")


def _by_pod(endpoints: dict[str, Any] | None) -> dict[str, tuple[bool, dict[str, int]]]:
    """pod name → (ready, {port name: number}) from an Endpoints object."""
    found: dict[str, tuple[bool, dict[str, int]]] = {}
    for subset in (endpoints or {}).get("subsets") or ():
        ports = {p.get("name", ""): p["port"] for p in subset.get("ports") or ()}
        for ready, field in ((True, "addresses"), (False, "notReadyAddresses")):
            for address in subset.get(field) or ():
                found[address["targetRef"]["name"]] = (ready, ports)
    return found


def _slices(api: Api, namespace: str, service: str = "web") -> list[dict[str, Any]]:
    path = f"/apis/discovery.k8s.io/v1/namespaces/{namespace}/endpointslices"
    return api.items(path, labelSelector=f"kubernetes.io/service-name={service}")


def _slice_endpoints(slices: list[dict[str, Any]]) -> dict[str, tuple[dict[str, bool], Any]]:
    """pod name → (conditions, {port name: number}) across a Service's slices."""
    found: dict[str, tuple[dict[str, bool], Any]] = {}
    for endpoint_slice in slices:
        ports = {p["name"]: p["port"] for p in endpoint_slice.get("ports") or ()}
        for endpoint in endpoint_slice.get("endpoints") or ():
            found[endpoint["targetRef"]["name"]] = (endpoint["conditions"], ports)
    return found


def test_ready_and_unready_pods_with_named_ports(
    cluster: ClusterProcess, api: Api, namespace: str
) -> None:
    _service(api, namespace)
    _pod(api, namespace, "web-1", 8080)
    _pod(api, namespace, "web-2", 8081)  # the same port name, another number
    _pod(api, namespace, "other", 8080, app="db")
    _pod(api, namespace, "web-3", 8080)
    _all_running(cluster, api, namespace)
    _unready(api, namespace, "web-3", "10.244.1.3")  # Running from now on: mark_ready skips it

    expected = {
        "web-1": (True, {"http": 8080, "metrics": 9090}),
        "web-2": (True, {"http": 8081, "metrics": 9090}),
        "web-3": (False, {"http": 8080, "metrics": 9090}),
    }
    endpoints = eventually(
        lambda: (e := _endpoints(api, namespace)) and _by_pod(e) == expected and e
    )
    assert endpoints["metadata"]["labels"] == {"tier": "front"}
    unready = next(s for s in endpoints["subsets"] if "notReadyAddresses" in s)
    address = unready["notReadyAddresses"][0]
    assert address["ip"] == "10.244.1.3"
    assert address["targetRef"]["kind"] == "Pod" and address["targetRef"]["namespace"] == namespace

    slices = eventually(
        lambda: (s := _slices(api, namespace)) and len(_slice_endpoints(s)) == 3 and s
    )
    by_pod = _slice_endpoints(slices)
    assert by_pod["web-1"] == (
        {"ready": True, "serving": True, "terminating": False},
        {"http": 8080, "metrics": 9090},
    )
    assert by_pod["web-3"][0] == {"ready": False, "serving": False, "terminating": False}
    for endpoint_slice in slices:
        assert endpoint_slice["addressType"] == "IPv4"
        assert endpoint_slice["metadata"]["labels"][MANAGED_BY] == "endpointslice-controller.k8s.io"
        assert endpoint_slice["metadata"]["labels"]["tier"] == "front"
        owner = endpoint_slice["metadata"]["ownerReferences"][0]
        assert (owner["kind"], owner["name"], owner["controller"]) == ("Service", "web", True)


def test_pods_leave_by_deletion_and_relabelling(
    cluster: ClusterProcess, api: Api, namespace: str
) -> None:
    _service(api, namespace)
    for name in ("web-1", "web-2", "web-3"):
        _pod(api, namespace, name, 8080)
    _all_running(cluster, api, namespace)
    eventually(lambda: len(_by_pod(_endpoints(api, namespace))) == 3)

    cluster.kubectl("delete", "pod", "web-1", "-n", namespace, "--grace-period=0", "--force")
    cluster.kubectl("label", "pod", "web-2", "-n", namespace, "app=moved", "--overwrite")

    eventually(lambda: set(_by_pod(_endpoints(api, namespace))) == {"web-3"})
    eventually(lambda: set(_slice_endpoints(_slices(api, namespace))) == {"web-3"})


def test_writes_only_on_change(cluster: ClusterProcess, api: Api, namespace: str) -> None:
    _service(api, namespace)
    _pod(api, namespace, "web-1", 8080)
    _all_running(cluster, api, namespace)
    endpoints = eventually(lambda: (e := _endpoints(api, namespace)) and _by_pod(e) and e)
    params = {
        "watch": "true",
        "resourceVersion": endpoints["metadata"]["resourceVersion"],
        "fieldSelector": "metadata.name=web",
        "timeoutSeconds": "30",
    }
    path = f"{api.base}/api/v1/namespaces/{namespace}/endpoints"
    with api.http.get(path, params=params, stream=True, timeout=60) as watch:
        # A pod change nothing routes by, a pod that is not ready yet, then one that is.
        cluster.kubectl("annotate", "pod", "web-1", "-n", namespace, "note=1")
        _pod(api, namespace, "web-2", 8080)
        _all_running(cluster, api, namespace)
        changes = []
        for line in watch.iter_lines():
            event = json.loads(line)
            changes.append(event["type"])
            if len(_by_pod(event["object"])) == 2:
                break
    assert changes == ["MODIFIED"]


def test_services_without_selector_are_left_alone(
    cluster: ClusterProcess, api: Api, namespace: str
) -> None:
    core = f"/api/v1/namespaces/{namespace}"
    api.create(
        f"{core}/services", {"metadata": {"name": "external"}, "spec": {"ports": [{"port": 80}]}}
    )
    mine = {
        "metadata": {"name": "external"},
        "subsets": [{"addresses": [{"ip": "192.0.2.1"}], "ports": [{"port": 80}]}],
    }
    api.create(f"{core}/endpoints", mine)
    # A later Service with a selector getting its Endpoints shows the controller went by.
    _service(api, namespace)
    eventually(lambda: _endpoints(api, namespace) is not None)

    kept = _endpoints(api, namespace, "external")
    assert kept is not None and kept["subsets"][0]["addresses"] == [{"ip": "192.0.2.1"}]
    assert _slices(api, namespace, "external") == []


def test_a_service_without_pods_has_an_empty_slice(api: Api, namespace: str) -> None:
    _service(api, namespace)

    endpoints = eventually(lambda: _endpoints(api, namespace))
    assert not endpoints.get("subsets")
    (only,) = eventually(lambda: _slices(api, namespace))
    assert not only.get("endpoints")


def test_everything_goes_with_the_service(
    cluster: ClusterProcess, api: Api, namespace: str
) -> None:
    _service(api, namespace)
    _pod(api, namespace, "web-1", 8080)
    _all_running(cluster, api, namespace)
    eventually(lambda: _by_pod(_endpoints(api, namespace)))
    eventually(lambda: _slice_endpoints(_slices(api, namespace)))

    cluster.kubectl("delete", "service", "web", "-n", namespace)

    eventually(lambda: _endpoints(api, namespace) is None)
    eventually(lambda: _slices(api, namespace) == [])


# -- the pure functions, case by case ----------------------------------------------------------


def _running(name: str, ip: str, *, ready: bool = True, **extra: Any) -> dict[str, Any]:
    status = {
        "phase": "Running",
        "podIP": ip,
        "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
    }
    pod: dict[str, Any] = {
        "metadata": {"name": name, "namespace": "ns", "uid": f"uid-{name}", "labels": {}},
        "spec": {"containers": [{"name": "c", "ports": [{"name": "http", "containerPort": 80}]}]},
        "status": status,
    }
    for key, value in extra.items():
        section, _, field = key.partition("__")
        pod[section][field] = value
    return pod


def _svc(**spec: Any) -> dict[str, Any]:
    meta = {"name": "svc", "namespace": "ns", "uid": "svc-uid"}
    return {"metadata": meta, "spec": {"selector": {"a": "b"}, **spec}}


def test_headless_without_ports_lists_addresses_only() -> None:
    subsets = endpoint_subsets(_svc(clusterIP="None"), [_running("p", "10.0.0.1")])

    assert subsets == [
        {
            "addresses": [
                {
                    "ip": "10.0.0.1",
                    "targetRef": {"kind": "Pod", "namespace": "ns", "name": "p", "uid": "uid-p"},
                }
            ]
        }
    ]
    assert service_labels(_svc(clusterIP="None")) == {"service.kubernetes.io/headless": ""}


def test_finished_pods_leave_and_unready_ones_may_stay() -> None:
    ports = [{"name": "web", "port": 8080, "targetPort": "http", "protocol": "TCP"}]
    done = _running("done", "10.0.0.2", ready=False, spec__restartPolicy="Never")
    done["status"]["phase"] = "Succeeded"
    pods = [_running("up", "10.0.0.1"), done, _running("slow", "10.0.0.3", ready=False)]

    (subset,) = endpoint_subsets(_svc(ports=ports), pods)
    assert [a["ip"] for a in subset["addresses"]] == ["10.0.0.1"]
    assert [a["ip"] for a in subset["notReadyAddresses"]] == ["10.0.0.3"]
    assert subset["ports"] == [{"name": "web", "port": 80, "protocol": "TCP"}]

    (tolerant,) = endpoint_subsets(_svc(ports=ports, publishNotReadyAddresses=True), pods)
    assert [a["ip"] for a in tolerant["addresses"]] == ["10.0.0.1", "10.0.0.3"]


def test_slices_split_by_family_and_size_and_mark_terminating() -> None:
    ports = [{"name": "", "port": 80, "targetPort": 80, "protocol": "TCP"}]
    service = _svc(ports=ports, ipFamilies=["IPv4", "IPv6"])
    pods = [_running(f"p{i}", f"10.0.{i // 250}.{i % 250}") for i in range(150)]
    pods.append(_running("v6", "fd00::1"))
    pods.append(_running("going", "10.9.9.9", metadata__deletionTimestamp="2021-01-01T00:00:00Z"))

    slices = endpoint_slices(service, pods)

    sizes = sorted((s["addressType"], len(s["endpoints"])) for s in slices.values())
    assert sizes == [("IPv4", 51), ("IPv4", 100), ("IPv6", 1)]
    going = next(
        e for s in slices.values() for e in s["endpoints"] if e["targetRef"]["name"] == "going"
    )
    assert going["conditions"] == {"ready": False, "serving": True, "terminating": True}
    assert endpoint_slices(service, pods) == slices, "names and content are deterministic"
