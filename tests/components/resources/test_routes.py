"""The cached resource API end to end: a real cluster, real stores, the router over HTTP."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient
from tests.components.resources.resources_support import PODS, VISIBLE_HEADER, Api, is_problem
from tests.waiting import eventually

from atoll.components.resources.routes import PREFIX, resources_router
from atoll.kube.client import KubeClient, ResourceType

CRDS = ResourceType("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CRD", False)


@pytest.fixture(scope="module")
def shop(api: Api) -> str:
    """A namespace of six pods: three named *web*, labelled by tier, two that never restart."""
    namespace = api.namespace("shop")
    api.pods(namespace, ["web-a", "web-b"], labels={"tier": "front"})
    api.pods(namespace, ["db-a"], labels={"tier": "back"}, restart="Never")
    api.pods(namespace, ["cache-a", "x-web-c"], labels={"tier": "back"})
    api.pods(namespace, ["job-a"], restart="Never")
    return namespace


def _listing(api: Api, path: str, **params: Any) -> list[dict[str, Any]]:
    response = api.get(path, **params)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_name_filter_and_total(api: Api, shop: str) -> None:
    names, total = api.items(f"/namespaces/{shop}/pods", name="web", sortBy="name", ascending=1)
    assert (names, total) == (["web-a", "web-b", "x-web-c"], 3)
    item = _listing(api, f"/namespaces/{shop}/pods", name="db")[0]
    assert item["kind"] == "Pod" and item["apiVersion"] == "v1"  # as a GET gives it
    assert "managedFields" not in item["metadata"]


def test_sorting_both_ways(api: Api, shop: str) -> None:
    path = f"/namespaces/{shop}/pods"
    everything = ["cache-a", "db-a", "job-a", "web-a", "web-b", "x-web-c"]
    assert api.items(path, sortBy="name", ascending="true")[0] == everything
    assert api.items(path, sortBy="name", ascending="false")[0] == everything[::-1]
    newest_first = _listing(api, path)  # the default: createTime, descending
    keys = [(i["metadata"]["creationTimestamp"], shop, i["metadata"]["name"]) for i in newest_first]
    assert keys == sorted(keys, reverse=True) and len(keys) == 6
    oldest_first = _listing(api, path, ascending="true")
    assert [i["metadata"]["name"] for i in oldest_first] == [k[2] for k in reversed(keys)]
    by_status = api.items(path, sortBy="status", ascending="true")[0]
    assert sorted(by_status) == everything  # every one Pending: ties broken by name
    assert by_status == everything


def test_paging_covers_every_item_once(api: Api, shop: str) -> None:
    path = f"/namespaces/{shop}/pods"
    pages = [api.items(path, sortBy="name", ascending="true", limit=4, page=p) for p in (1, 2, 3)]
    assert [names for names, _ in pages] == [
        ["cache-a", "db-a", "job-a", "web-a"],
        ["web-b", "x-web-c"],
        [],
    ]
    assert {total for _, total in pages} == {6}
    assert api.items(path, limit=10)[1] == 6 and len(api.items(path)[0]) == 6


def test_label_and_field_selectors(api: Api, shop: str) -> None:
    path = f"/namespaces/{shop}/pods"
    asc = {"sortBy": "name", "ascending": "true"}
    assert api.items(path, labelSelector="tier=back", **asc)[0] == ["cache-a", "db-a", "x-web-c"]
    assert api.items(path, labelSelector="tier in (front),tier!=back", **asc)[0] == [
        "web-a",
        "web-b",
    ]
    assert api.items(path, labelSelector="!tier", **asc)[0] == ["job-a"]
    assert api.items(path, fieldSelector="metadata.name=db-a")[0] == ["db-a"]
    assert api.items(path, fieldSelector="status.phase=Pending")[1] == 6
    assert api.items(path, fieldSelector="spec.nodeName=")[1] == 6  # nothing schedules here
    # A path kept only in the JSON: read by decoding, after the cheaper filters.
    never = api.items(path, fieldSelector="spec.restartPolicy=Never", **asc)
    assert never == (["db-a", "job-a"], 2)
    combined = api.items(
        path, name="a", labelSelector="tier", fieldSelector="spec.restartPolicy!=Never", **asc
    )
    assert combined == (["cache-a", "web-a"], 2)


def test_one_object_and_the_namespace_itself(api: Api, shop: str) -> None:
    response = api.get(f"/namespaces/{shop}/pods/web-a")
    assert response.status_code == 200
    assert response.json()["metadata"]["name"] == "web-a"
    assert is_problem(api.get(f"/namespaces/{shop}/pods/nope"), 404)
    itself = api.get(f"/namespaces/{shop}")
    assert itself.status_code == 200
    assert (itself.json()["kind"], itself.json()["metadata"]["name"]) == ("Namespace", shop)
    assert is_problem(api.get("/namespaces/no-such-namespace-here"), 404)
    assert api.get(f"/clusters/host/namespaces/{shop}/pods/web-b").json()["metadata"]["name"] == (
        "web-b"
    )
    assert is_problem(api.get("/pods/web-a"), 404)  # namespaced: which namespace?
    assert is_problem(api.get(f"/namespaces/{shop}/nodes"), 404)  # not namespaced


def test_lists_across_namespaces(api: Api, shop: str) -> None:
    token = uuid.uuid4().hex[:8]
    other = api.namespace("other")
    api.pods(other, [f"{token}-1", f"{token}-2"])
    api.pods(shop, [f"{token}-3"])
    # The cache follows the writes by a watch: wait until it has all three.
    listed = eventually(
        lambda: (
            (found := api.items("/pods", name=token, sortBy="name", ascending="true"))[1] == 3
            and found
        ),
        what="the three new pods in the cache",
    )
    assert listed == ([f"{token}-1", f"{token}-2", f"{token}-3"], 3)
    assert api.items("/clusters/host/pods", name=token)[1] == 3
    assert api.items("/namespaces", name=shop)[0] == [shop]


def test_unknown_kinds_clusters_and_bad_parameters(api: Api, shop: str) -> None:
    assert is_problem(api.get("/nosuchthings"), 404)
    assert is_problem(api.get(f"/namespaces/{shop}/nosuchthings"), 404)
    assert is_problem(api.get("/clusters/elsewhere/pods"), 404)
    assert is_problem(api.get("/tokenreviews"), 404)  # served, but not listable
    path = f"/namespaces/{shop}/pods"
    for bad in (
        {"page": "0"},
        {"page": "-1"},
        {"page": "two"},
        {"limit": "0"},
        {"limit": "5000"},
        {"limit": "1e3"},
        {"sortBy": "size"},
        {"ascending": "maybe"},
        {"labelSelector": "tier in (front"},
        {"labelSelector": "-bad-"},
        {"fieldSelector": "nonsense"},
        {"fieldSelector": "a=b\\x"},
    ):
        response = api.http.get(PREFIX + path, params=bad)
        assert is_problem(response, 400), (bad, response.status_code, response.text)
        assert response.json()["status"] == 400


def test_changes_show_within_a_second(api: Api) -> None:
    namespace = api.namespace("live")
    path = f"/namespaces/{namespace}/pods"
    assert api.items(path) == ([], 0)  # the pods store is running (and synced) from here on
    api.pods(namespace, ["fresh"])
    eventually(lambda: api.items(path)[0] == ["fresh"], timeout=1.0, what="a new pod")

    async def relabel(client: KubeClient) -> Any:
        patch = {"metadata": {"labels": {"stage": "two"}}}
        return await client.patch(PODS, "fresh", patch, namespace=namespace)

    api.kube(relabel)
    eventually(lambda: api.items(path, labelSelector="stage=two")[1] == 1, timeout=1.0)
    api.kube(lambda c: c.delete(PODS, "fresh", namespace=namespace, grace_period_seconds=0))
    eventually(lambda: api.items(path) == ([], 0), timeout=1.0, what="the pod gone")
    assert api.registry.sizes()[("host", "pods")] >= 6


def test_a_custom_resource_kind(api: Api) -> None:
    group = f"t{uuid.uuid4().hex[:8]}.example.com"
    crd = {
        "metadata": {"name": f"gadgets.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "x-kubernetes-preserve-unknown-fields": True,
                        }
                    },
                }
            ],
        },
    }
    api.kube(lambda c: c.create(CRDS, crd))
    namespace = api.namespace("crd")
    gadgets = ResourceType(group, "v1", "gadgets", "Gadget", True)

    def create() -> bool:
        body = {"apiVersion": f"{group}/v1", "kind": "Gadget", "metadata": {"name": "g1"}}
        try:
            api.kube(lambda c: c.create(gadgets, body, namespace=namespace))
        except Exception:  # the CRD is not served yet
            return False
        return True

    eventually(create, timeout=15, what="the CRD served")
    path = f"/namespaces/{namespace}/gadgets.{group}"
    eventually(lambda: api.get(path).status_code == 200, timeout=15, what="gadgets discovered")
    items = _listing(api, path)
    assert [(i["kind"], i["metadata"]["name"]) for i in items] == [("Gadget", "g1")]
    assert api.items("/gadgets", name="g1")[1] >= 1  # the plural alone, across namespaces


def test_visibility_is_applied_before_counting(api: Api) -> None:
    token = uuid.uuid4().hex[:8]
    seen, hidden = api.namespace("seen"), api.namespace("hidden")
    api.pods(seen, [f"{token}-a", f"{token}-b"])
    api.pods(hidden, [f"{token}-c"])
    only_seen = {VISIBLE_HEADER: f"{seen},unrelated"}
    response = api.get("/pods", name=token, headers=only_seen, limit=1)
    assert response.status_code == 200
    assert response.json()["totalItems"] == 2
    assert response.json()["items"][0]["metadata"]["namespace"] == seen
    assert api.items("/pods", name=token)[1] == 3  # no predicate: everything
    assert api.asked[-1] == ("host", "", "pods")
    # The namespaces themselves: the predicate is over their own names.
    listed = api.get("/namespaces", headers=only_seen, limit=1000)
    assert [i["metadata"]["name"] for i in listed.json()["items"]] == [seen]
    assert api.asked[-1] == ("host", "", "namespaces")
    # Inside one namespace the request was authorized whole: no predicate is asked for.
    asked = len(api.asked)
    assert api.items(f"/namespaces/{hidden}/pods")[1] == 1
    assert len(api.asked) == asked


def test_before_start_every_route_answers_503() -> None:
    app = FastAPI()
    app.include_router(resources_router(lambda: None))
    with TestClient(app) as http:
        for path in ("/pods", "/namespaces/a/pods/b", "/namespaces/a"):
            response = http.get(PREFIX + path)
            assert is_problem(response, 503), path
