"""Every built-in resource the embedded API server serves, through the official DynamicClient.

One parametrized case per served (group, version, resource): create a minimal valid object,
get it, list it by label, replace it, merge-patch it, delete it, watch the whole life cycle
from the resourceVersion of a list taken before it began, and read it back in every other
served version of the same stored resource. The cases come from ``resources.BUILTINS``, so a
kind the server starts serving without a sample here fails ``test_every_builtin_has_a_sample``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from kubernetes import client, config, dynamic, watch
from kubernetes.client.rest import ApiException
from kubernetes.dynamic.resource import Resource as DynResource
from tests.conftest import ClusterProcess

from atoll.embedded.apiserver.resources import BUILTINS, Resource

Body = dict[str, Any]
Check = Callable[[Body, Body], None]
"""Compares the object as created (first) with the same object read in another version."""

POD_SPEC: Body = {"containers": [{"name": "c", "image": "busybox:1.36"}]}
LABELS = {"app": "sample"}
TEMPLATE: Body = {"metadata": {"labels": LABELS}, "spec": POD_SPEC}
JOB_TEMPLATE: Body = {
    "metadata": {"labels": LABELS},
    "spec": {**POD_SPEC, "restartPolicy": "OnFailure"},
}
BETA_BACKEND: Body = {"serviceName": "web", "servicePort": 80}
V1_BACKEND: Body = {"service": {"name": "web", "port": {"number": 80}}}
CRD_SCHEMA: Body = {
    "type": "object",
    "properties": {"spec": {"type": "object", "properties": {"size": {"type": "integer"}}}},
}


def _hpa_v2_spec() -> Body:
    target = {"type": "Utilization", "averageUtilization": 50}
    return {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
        "minReplicas": 1,
        "maxReplicas": 3,
        "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": target}}],
    }


def _crd_spec(group: str, beta: bool) -> Body:
    names = {"plural": "widgets", "singular": "widget", "kind": "Widget"}
    if beta:
        return {
            "group": group,
            "scope": "Namespaced",
            "names": names,
            "version": "v1",
            "versions": [{"name": "v1", "served": True, "storage": True}],
            "validation": {"openAPIV3Schema": CRD_SCHEMA},
            # v1beta1 defaults this to true, which a v1 store refuses (see crds/conversion.py).
            "preserveUnknownFields": False,
        }
    version = {
        "name": "v1",
        "served": True,
        "storage": True,
        "schema": {"openAPIV3Schema": CRD_SCHEMA},
    }
    return {"group": group, "scope": "Namespaced", "names": names, "versions": [version]}


def _events_v1(namespace: str) -> Body:
    return {
        "eventTime": "2024-01-02T03:04:05.123456Z",
        "reportingController": "example.com/tester",
        "reportingInstance": "tester-1",
        "action": "Testing",
        "reason": "Sampled",
        "type": "Normal",
        "note": "a note",
        "regarding": {"kind": "Pod", "name": "p", "namespace": namespace, "apiVersion": "v1"},
    }


def _samples(name: str, namespace: str) -> dict[tuple[str, str], Body]:
    """The body (without metadata) of a minimal valid object per (apiVersion, plural)."""
    group = f"{name}.example.com"
    rbac_ref = {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"}
    subjects = [{"kind": "ServiceAccount", "name": "default", "namespace": namespace}]
    rules = [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]
    pdb = {"minAvailable": 1, "selector": {"matchLabels": LABELS}}
    slice_ports = [{"name": "http", "port": 80, "protocol": "TCP"}]
    return {
        ("v1", "configmaps"): {"data": {"a": "1"}},
        ("v1", "endpoints"): {
            "subsets": [{"addresses": [{"ip": "10.0.0.1"}], "ports": [{"port": 80}]}]
        },
        ("v1", "events"): {
            "involvedObject": {"kind": "Pod", "name": "p", "namespace": namespace},
            "reason": "Sampled",
            "message": "a message",
            "type": "Normal",
            "source": {"component": "tester"},
        },
        ("v1", "limitranges"): {
            "spec": {"limits": [{"type": "Container", "default": {"cpu": "100m"}}]}
        },
        ("v1", "namespaces"): {},
        ("v1", "nodes"): {},
        ("v1", "persistentvolumeclaims"): {
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "1Gi"}},
            }
        },
        ("v1", "persistentvolumes"): {
            "spec": {
                "capacity": {"storage": "1Gi"},
                "accessModes": ["ReadWriteOnce"],
                "hostPath": {"path": "/tmp/pv"},
            }
        },
        ("v1", "pods"): {"spec": POD_SPEC},
        ("v1", "podtemplates"): {"template": TEMPLATE},
        ("v1", "replicationcontrollers"): {
            "spec": {"replicas": 1, "selector": LABELS, "template": TEMPLATE}
        },
        ("v1", "resourcequotas"): {"spec": {"hard": {"pods": "10"}}},
        ("v1", "secrets"): {"stringData": {"password": "s3cret"}},
        ("v1", "serviceaccounts"): {},
        ("v1", "services"): {"spec": {"selector": LABELS, "ports": [{"port": 80}]}},
        ("apps/v1", "controllerrevisions"): {"revision": 1, "data": {"spec": {}}},
        ("apps/v1", "daemonsets"): {
            "spec": {"selector": {"matchLabels": LABELS}, "template": TEMPLATE}
        },
        ("apps/v1", "deployments"): {
            "spec": {"replicas": 1, "selector": {"matchLabels": LABELS}, "template": TEMPLATE}
        },
        ("apps/v1", "replicasets"): {
            "spec": {"replicas": 1, "selector": {"matchLabels": LABELS}, "template": TEMPLATE}
        },
        ("apps/v1", "statefulsets"): {
            "spec": {
                "replicas": 1,
                "serviceName": "sample",
                "selector": {"matchLabels": LABELS},
                "template": TEMPLATE,
            }
        },
        ("batch/v1", "jobs"): {
            "spec": {"template": {**JOB_TEMPLATE, "metadata": {}}},
        },
        ("batch/v1", "cronjobs"): {
            "spec": {"schedule": "*/5 * * * *", "jobTemplate": {"spec": {"template": JOB_TEMPLATE}}}
        },
        ("batch/v1beta1", "cronjobs"): {
            "spec": {"schedule": "*/5 * * * *", "jobTemplate": {"spec": {"template": JOB_TEMPLATE}}}
        },
        ("autoscaling/v1", "horizontalpodautoscalers"): {
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                "minReplicas": 1,
                "maxReplicas": 3,
                "targetCPUUtilizationPercentage": 50,
            }
        },
        ("autoscaling/v2", "horizontalpodautoscalers"): {"spec": _hpa_v2_spec()},
        ("autoscaling/v2beta2", "horizontalpodautoscalers"): {"spec": _hpa_v2_spec()},
        ("policy/v1", "poddisruptionbudgets"): {"spec": pdb},
        ("policy/v1beta1", "poddisruptionbudgets"): {"spec": pdb},
        ("rbac.authorization.k8s.io/v1", "clusterrolebindings"): {
            "roleRef": rbac_ref,
            "subjects": subjects,
        },
        ("rbac.authorization.k8s.io/v1", "clusterroles"): {"rules": rules},
        ("rbac.authorization.k8s.io/v1", "rolebindings"): {
            "roleRef": rbac_ref,
            "subjects": subjects,
        },
        ("rbac.authorization.k8s.io/v1", "roles"): {"rules": rules},
        ("networking.k8s.io/v1", "ingresses"): {"spec": {"defaultBackend": V1_BACKEND}},
        ("networking.k8s.io/v1beta1", "ingresses"): {"spec": {"backend": BETA_BACKEND}},
        ("extensions/v1beta1", "ingresses"): {"spec": {"backend": BETA_BACKEND}},
        ("networking.k8s.io/v1", "ingressclasses"): {
            "spec": {"controller": "example.com/ingress-controller"}
        },
        ("networking.k8s.io/v1", "networkpolicies"): {
            "spec": {"podSelector": {"matchLabels": LABELS}, "policyTypes": ["Ingress"]}
        },
        ("coordination.k8s.io/v1", "leases"): {
            "spec": {"holderIdentity": "tester", "leaseDurationSeconds": 15}
        },
        ("events.k8s.io/v1", "events"): _events_v1(namespace),
        ("storage.k8s.io/v1", "storageclasses"): {"provisioner": "example.com/provisioner"},
        ("discovery.k8s.io/v1", "endpointslices"): {
            "addressType": "IPv4",
            "endpoints": [{"addresses": ["10.0.0.1"], "zone": "zone-a", "nodeName": "node-1"}],
            "ports": slice_ports,
        },
        ("discovery.k8s.io/v1beta1", "endpointslices"): {
            "addressType": "IPv4",
            "endpoints": [
                {
                    "addresses": ["10.0.0.1"],
                    "topology": {"topology.kubernetes.io/zone": "zone-a"},
                }
            ],
            "ports": slice_ports,
        },
        ("apiextensions.k8s.io/v1", "customresourcedefinitions"): {
            "spec": _crd_spec(group, beta=False)
        },
        ("apiextensions.k8s.io/v1beta1", "customresourcedefinitions"): {
            "spec": _crd_spec(group, beta=True)
        },
        ("scheduling.k8s.io/v1", "priorityclasses"): {"value": 1000, "description": "sample"},
    }


# -- what reading in another version must show ----------------------------------------------


def _hpa_as_v1(created: Body, other: Body) -> None:
    assert other["spec"]["targetCPUUtilizationPercentage"] == 50
    assert "metrics" not in other["spec"]
    assert other["spec"]["maxReplicas"] == 3


def _hpa_as_v2(created: Body, other: Body) -> None:
    assert other["spec"]["metrics"] == _hpa_v2_spec()["metrics"]
    assert "targetCPUUtilizationPercentage" not in other["spec"]


def _same_spec(created: Body, other: Body) -> None:
    assert other["spec"] == created["spec"]


def _core_event_as_events_v1(created: Body, other: Body) -> None:
    assert other["note"] == created["message"] and other["reason"] == created["reason"]
    assert other["regarding"]["name"] == created["involvedObject"]["name"]
    assert other["deprecatedSource"] == {"component": "tester"}
    assert "involvedObject" not in other and "message" not in other


def _events_v1_as_core(created: Body, other: Body) -> None:
    assert other["message"] == created["note"]
    assert other["involvedObject"]["name"] == created["regarding"]["name"]
    assert other["reportingComponent"] == created["reportingController"]
    assert other["eventTime"] == created["eventTime"]


def _slice_as_beta(created: Body, other: Body) -> None:
    endpoint = other["endpoints"][0]
    assert endpoint["topology"] == {
        "topology.kubernetes.io/zone": "zone-a",
        "kubernetes.io/hostname": "node-1",
    }
    assert "zone" not in endpoint


def _slice_as_v1(created: Body, other: Body) -> None:
    endpoint = other["endpoints"][0]
    assert endpoint["zone"] == "zone-a" and "topology" not in endpoint


def _crd_as_beta(created: Body, other: Body) -> None:
    spec = other["spec"]
    assert spec["version"] == "v1"
    assert spec["validation"] == {"openAPIV3Schema": CRD_SCHEMA}
    assert "schema" not in spec["versions"][0]


def _crd_as_v1(created: Body, other: Body) -> None:
    spec = other["spec"]
    assert "version" not in spec and "validation" not in spec
    assert spec["versions"][0]["schema"] == {"openAPIV3Schema": CRD_SCHEMA}


# An Ingress created without a class gets the default one, ``atoll`` (DefaultIngressClass).
def _ingress_as_beta(created: Body, other: Body) -> None:
    assert other["spec"] == {"backend": BETA_BACKEND, "ingressClassName": "atoll"}


def _ingress_as_v1(created: Body, other: Body) -> None:
    assert other["spec"] == {"defaultBackend": V1_BACKEND, "ingressClassName": "atoll"}


CROSS_CHECKS: dict[tuple[str, str], Check] = {
    # (written version, read version) -> check; kinds of identical shape use _same_spec.
    ("autoscaling/v2", "autoscaling/v1"): _hpa_as_v1,
    ("autoscaling/v2beta2", "autoscaling/v1"): _hpa_as_v1,
    ("autoscaling/v1", "autoscaling/v2"): _hpa_as_v2,
    ("autoscaling/v1", "autoscaling/v2beta2"): _hpa_as_v2,
    ("v1", "events.k8s.io/v1"): _core_event_as_events_v1,
    ("events.k8s.io/v1", "v1"): _events_v1_as_core,
    ("discovery.k8s.io/v1", "discovery.k8s.io/v1beta1"): _slice_as_beta,
    ("discovery.k8s.io/v1beta1", "discovery.k8s.io/v1"): _slice_as_v1,
    ("apiextensions.k8s.io/v1", "apiextensions.k8s.io/v1beta1"): _crd_as_beta,
    ("apiextensions.k8s.io/v1beta1", "apiextensions.k8s.io/v1"): _crd_as_v1,
    ("networking.k8s.io/v1", "networking.k8s.io/v1beta1"): _ingress_as_beta,
    ("networking.k8s.io/v1", "extensions/v1beta1"): _ingress_as_beta,
    ("networking.k8s.io/v1beta1", "networking.k8s.io/v1"): _ingress_as_v1,
    ("extensions/v1beta1", "networking.k8s.io/v1"): _ingress_as_v1,
}


# -- fixtures and helpers -------------------------------------------------------------------


@dataclass(frozen=True)
class Served:
    resource: Resource

    @property
    def api_version(self) -> str:
        return self.resource.api_version

    def __str__(self) -> str:
        return f"{self.api_version}/{self.resource.plural}"


CREATABLE = [Served(r) for r in BUILTINS if "create" in r.verbs and r.plural != "bindings"]
NOT_CREATABLE = [r for r in BUILTINS if r not in {s.resource for s in CREATABLE}]


@pytest.fixture(scope="module")
def api(cluster: ClusterProcess) -> Iterator[client.ApiClient]:
    api_client = config.new_client_from_config(config_file=str(cluster.kubeconfig))
    yield api_client
    api_client.close()


@pytest.fixture(scope="module")
def dyn(api: client.ApiClient) -> dynamic.DynamicClient:
    return dynamic.DynamicClient(api)


def _dyn_resource(dyn: dynamic.DynamicClient, api_version: str, plural: str) -> DynResource:
    found: DynResource = dyn.resources.get(api_version=api_version, name=plural)
    return found


def _object(served: Served, name: str, namespace: str, run: str) -> Body:
    r = served.resource
    body = _samples(name, namespace)[(r.api_version, r.plural)]
    if r.plural == "customresourcedefinitions":
        name = f"widgets.{name}.example.com"
    metadata: Body = {"name": name, "labels": {"suite": "every-kind", "run": run}}
    return {"apiVersion": r.api_version, "kind": r.kind, "metadata": metadata, **body}


def _where(resource: Resource, namespace: str) -> dict[str, str]:
    return {"namespace": namespace} if resource.namespaced else {}


def _other_versions(resource: Resource) -> list[Resource]:
    return [r for r in BUILTINS if r.storage == resource.storage and r != resource]


# -- tests ----------------------------------------------------------------------------------


def test_every_builtin_has_a_sample() -> None:
    expected = {(s.api_version, s.resource.plural) for s in CREATABLE}
    assert set(_samples("x", "y")) == expected


def test_kinds_without_create_are_still_discovered(dyn: dynamic.DynamicClient) -> None:
    assert {r.plural for r in NOT_CREATABLE} == {"bindings", "componentstatuses"}
    core = {r["name"]: r for r in dyn.request("GET", "/api/v1").to_dict()["resources"]}
    assert core["bindings"]["verbs"] == ["create"] and core["bindings"]["namespaced"]
    assert sorted(core["componentstatuses"]["verbs"]) == ["get", "list"]
    assert core["componentstatuses"]["shortNames"] == ["cs"]
    statuses = dyn.request("GET", "/api/v1/componentstatuses").to_dict()
    assert statuses["kind"] == "ComponentStatusList" and isinstance(statuses["items"], list)
    with pytest.raises(ApiException) as refused:
        dyn.request(
            "POST",
            "/api/v1/componentstatuses",
            body={"apiVersion": "v1", "kind": "ComponentStatus", "metadata": {"name": "x"}},
        )
    assert refused.value.status == 405


def test_every_builtin_is_in_discovery(dyn: dynamic.DynamicClient) -> None:
    for r in BUILTINS:
        path = f"/apis/{r.api_version}" if r.group else "/api/v1"
        listed = {x["name"]: x for x in dyn.request("GET", path).to_dict()["resources"]}
        entry = listed[r.plural]
        assert (entry["kind"], entry["namespaced"]) == (r.kind, r.namespaced), r
        assert sorted(entry["verbs"]) == sorted(r.verbs), r


@pytest.mark.parametrize("served", CREATABLE, ids=str)
def test_life_cycle(dyn: dynamic.DynamicClient, namespace: str, served: Served) -> None:
    r = served.resource
    res = _dyn_resource(dyn, r.api_version, r.plural)
    where = _where(r, namespace)
    run = uuid.uuid4().hex[:10]
    body = _object(served, f"s{run}", namespace, run)
    name = body["metadata"]["name"]
    selector = f"run={run}"
    start_rv = res.get(**where, label_selector=selector).metadata.resourceVersion

    created = res.create(body=body, **where).to_dict()
    assert created["metadata"]["name"] == name and created["metadata"]["uid"]
    assert created["kind"] == r.kind and created["apiVersion"] == r.api_version
    if r.namespaced:
        assert created["metadata"]["namespace"] == namespace

    got = res.get(name=name, **where).to_dict()
    assert got["metadata"]["uid"] == created["metadata"]["uid"]
    assert got["metadata"]["labels"] == {"suite": "every-kind", "run": run}

    listed = res.get(**where, label_selector=selector).to_dict()
    assert listed["kind"] == r.list_kind
    assert [i["metadata"]["name"] for i in listed["items"]] == [name]
    assert res.get(**where, label_selector=f"run={run},suite!=every-kind").items == []

    got["metadata"]["labels"]["tier"] = "replaced"
    replaced = res.replace(body=got, **where).to_dict()
    assert replaced["metadata"]["labels"]["tier"] == "replaced"
    assert int(replaced["metadata"]["resourceVersion"]) > int(got["metadata"]["resourceVersion"])

    patched = res.patch(
        body={"metadata": {"labels": {"patched": "yes"}}},
        name=name,
        content_type="application/merge-patch+json",
        **where,
    ).to_dict()
    assert patched["metadata"]["labels"] == {
        "suite": "every-kind",
        "run": run,
        "tier": "replaced",
        "patched": "yes",
    }

    for other in _other_versions(r):
        seen = _dyn_resource(dyn, other.api_version, other.plural).get(name=name, **where)
        seen_dict = seen.to_dict()
        assert seen_dict["apiVersion"] == other.api_version and seen_dict["kind"] == other.kind
        assert seen_dict["metadata"]["uid"] == created["metadata"]["uid"]
        assert seen_dict["metadata"]["resourceVersion"] == patched["metadata"]["resourceVersion"]
        CROSS_CHECKS.get((r.api_version, other.api_version), _same_spec)(created, seen_dict)

    res.delete(name=name, body={"propagationPolicy": "Background"}, **where)
    _wait_until_gone(res, name, where)

    events = _watch_until_deleted(res, where, selector, start_rv)
    types = [e["type"] for e in events]
    assert types[0] == "ADDED" and types[-1] == "DELETED", types
    assert set(types[1:-1]) == {"MODIFIED"} and len(types) >= 4, types
    assert {e["raw_object"]["metadata"]["name"] for e in events} == {name}
    rvs = [int(e["raw_object"]["metadata"]["resourceVersion"]) for e in events]
    assert rvs == sorted(set(rvs)), rvs
    labels = [e["raw_object"]["metadata"]["labels"] for e in events]
    assert "tier" not in labels[0] and labels[-1]["patched"] == "yes"


def _wait_until_gone(res: DynResource, name: str, where: dict[str, str]) -> None:
    """Poll (deadline 15 s): a namespace or CRD leaves only once its finalizer has run."""
    deadline = time.monotonic() + 15
    while True:
        try:
            res.get(name=name, **where)
        except ApiException as gone:
            assert gone.status == 404
            return
        assert time.monotonic() < deadline, f"{name} still exists after its deletion"
        time.sleep(0.05)


def _watch_until_deleted(
    res: DynResource, where: dict[str, str], selector: str, since: str
) -> list[Body]:
    """Watch from ``since`` and stop at the first DELETED (bounded by a server timeout)."""
    events: list[Body] = []
    w = watch.Watch()
    for event in res.watch(
        label_selector=selector, resource_version=since, timeout=15, watcher=w, **where
    ):
        events.append(event)
        if event["type"] == "DELETED":
            w.stop()
    return events
