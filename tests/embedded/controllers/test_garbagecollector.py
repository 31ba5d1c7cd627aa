"""The garbage collector: each cascade policy of ``kubectl delete``, shared and missing owners,
and custom resources on either side of an ownerReference.

Owners are ConfigMaps (or custom resources) and dependents ConfigMaps and Secrets made here
with ownerReferences, so nothing depends on the workload controllers.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from tests.conftest import ClusterProcess
from tests.embedded.controllers.lifecycle_support import Api, eventually, namespaced_crd, owner_ref

HOLD = "example.com/hold"  # a finalizer nobody runs: the test releases it


@pytest.fixture
def api(cluster: ClusterProcess) -> Api:
    return Api(cluster)


def _configmap(api: Api, namespace: str, name: str, *owners: dict[str, Any], **meta: Any) -> Any:
    body = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "ownerReferences": list(owners), **meta},
    }
    return api.create(f"/api/v1/namespaces/{namespace}/configmaps", body)


def _secret(api: Api, namespace: str, name: str, *owners: dict[str, Any]) -> Any:
    body = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "ownerReferences": list(owners)},
        "stringData": {"k": "v"},
    }
    return api.create(f"/api/v1/namespaces/{namespace}/secrets", body)


def _cm(namespace: str, name: str) -> str:
    return f"/api/v1/namespaces/{namespace}/configmaps/{name}"


def _release(api: Api, path: str) -> None:
    api.merge_patch(path, {"metadata": {"finalizers": None}})


def test_background_deletes_every_dependent(
    cluster: ClusterProcess, api: Api, namespace: str
) -> None:
    owner = _configmap(api, namespace, "owner")
    _configmap(api, namespace, "dep-cm", owner_ref(owner))
    _secret(api, namespace, "dep-secret", owner_ref(owner, block=False))

    cluster.kubectl("delete", "configmap", "owner", "-n", namespace, "--cascade=background")

    eventually(lambda: api.get(_cm(namespace, "dep-cm")) is None)
    eventually(lambda: api.get(f"/api/v1/namespaces/{namespace}/secrets/dep-secret") is None)


def test_foreground_waits_for_blocking_dependents(
    cluster: ClusterProcess, api: Api, namespace: str
) -> None:
    owner = _configmap(api, namespace, "owner")
    _configmap(api, namespace, "blocking", owner_ref(owner), finalizers=[HOLD])
    _secret(api, namespace, "free", owner_ref(owner, block=False))

    cluster.kubectl(
        "delete", "configmap", "owner", "-n", namespace, "--cascade=foreground", "--wait=false"
    )

    # Every dependent is deleted; the blocking one is held by its finalizer, and so the owner.
    blocking = eventually(lambda: _deleting(api.get(_cm(namespace, "blocking"))))
    assert HOLD in blocking["metadata"]["finalizers"]
    eventually(lambda: api.get(f"/api/v1/namespaces/{namespace}/secrets/free") is None)
    held = api.get(_cm(namespace, "owner"))
    assert held is not None and held["metadata"]["finalizers"] == ["foregroundDeletion"]
    assert held["metadata"]["deletionTimestamp"]

    _release(api, _cm(namespace, "blocking"))

    eventually(lambda: api.get(_cm(namespace, "owner")) is None)


def _deleting(obj: dict[str, Any] | None) -> dict[str, Any] | None:
    return obj if obj is not None and obj["metadata"].get("deletionTimestamp") else None


def test_foreground_cascades_through_generations(
    cluster: ClusterProcess, api: Api, namespace: str
) -> None:
    grandparent = _configmap(api, namespace, "grandparent")
    parent = _configmap(api, namespace, "parent", owner_ref(grandparent))
    _configmap(api, namespace, "child", owner_ref(parent), finalizers=[HOLD])

    cluster.kubectl(
        "delete",
        "configmap",
        "grandparent",
        "-n",
        namespace,
        "--cascade=foreground",
        "--wait=false",
    )

    # The parent has a dependent of its own, so it is deleted in the foreground too.
    parent_now = eventually(lambda: _deleting(api.get(_cm(namespace, "parent"))))
    assert parent_now["metadata"]["finalizers"] == ["foregroundDeletion"]
    eventually(lambda: _deleting(api.get(_cm(namespace, "child"))))
    assert api.get(_cm(namespace, "grandparent")) is not None

    _release(api, _cm(namespace, "child"))

    eventually(lambda: api.get(_cm(namespace, "grandparent")) is None)
    assert api.get(_cm(namespace, "parent")) is None


def test_orphan_keeps_dependents_without_the_reference(
    cluster: ClusterProcess, api: Api, namespace: str
) -> None:
    owner = _configmap(api, namespace, "owner")
    other = _configmap(api, namespace, "other-owner")
    _configmap(api, namespace, "dep", owner_ref(owner), owner_ref(other))
    _secret(api, namespace, "dep-secret", owner_ref(owner))

    cluster.kubectl("delete", "configmap", "owner", "-n", namespace, "--cascade=orphan")

    assert api.get(_cm(namespace, "owner")) is None  # kubectl waited for the finalizer
    dep = api.get(_cm(namespace, "dep"))
    assert dep is not None
    assert [r["name"] for r in dep["metadata"]["ownerReferences"]] == ["other-owner"]
    secret = api.get(f"/api/v1/namespaces/{namespace}/secrets/dep-secret")
    assert secret is not None and "ownerReferences" not in secret["metadata"]


def test_a_dependent_with_a_remaining_owner_stays(
    cluster: ClusterProcess, api: Api, namespace: str
) -> None:
    gone, stays = _configmap(api, namespace, "gone"), _configmap(api, namespace, "stays")
    _configmap(api, namespace, "shared", owner_ref(gone), owner_ref(stays))

    cluster.kubectl("delete", "configmap", "gone", "-n", namespace)

    def only_the_remaining_owner() -> bool:
        shared = api.get(_cm(namespace, "shared"))
        assert shared is not None, "a dependent with a remaining owner was deleted"
        return [r["name"] for r in shared["metadata"]["ownerReferences"]] == ["stays"]

    eventually(only_the_remaining_owner)


def test_an_owner_that_never_existed_is_gone(api: Api, namespace: str) -> None:
    phantom = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "name": "phantom",
        "uid": str(uuid.uuid4()),
    }
    _configmap(api, namespace, "orphaned", phantom)

    eventually(lambda: api.get(_cm(namespace, "orphaned")) is None)


def test_an_owner_replaced_under_the_same_name_is_gone(
    cluster: ClusterProcess, api: Api, namespace: str
) -> None:
    first = _configmap(api, namespace, "owner")
    cluster.kubectl("delete", "configmap", "owner", "-n", namespace)
    _configmap(api, namespace, "owner")  # same name, another uid
    _configmap(api, namespace, "dep", owner_ref(first))

    eventually(lambda: api.get(_cm(namespace, "dep")) is None)
    assert api.get(_cm(namespace, "owner")) is not None


@pytest.fixture
def widget_crd(cluster: ClusterProcess) -> Iterator[str]:
    with namespaced_crd(cluster, plural="widgets", kind="Widget") as group:
        yield group


def test_custom_resources_own_and_are_owned(
    cluster: ClusterProcess, api: Api, namespace: str, widget_crd: str
) -> None:
    widgets = f"/apis/{widget_crd}/v1/namespaces/{namespace}/widgets"
    owner_cm = _configmap(api, namespace, "owner")
    body = {
        "apiVersion": f"{widget_crd}/v1",
        "kind": "Widget",
        "metadata": {"name": "w", "ownerReferences": [owner_ref(owner_cm)]},
    }
    widget = api.create(widgets, body)
    _configmap(api, namespace, "owned-by-widget", owner_ref(widget))
    body = {"apiVersion": f"{widget_crd}/v1", "kind": "Widget", "metadata": {"name": "free"}}
    free = api.create(widgets, body)
    _secret(api, namespace, "owned-by-free", owner_ref(free))

    # ConfigMap → Widget → ConfigMap, in the background: the custom resource in the middle.
    cluster.kubectl("delete", "configmap", "owner", "-n", namespace)
    eventually(lambda: api.get(f"{widgets}/w") is None)
    eventually(lambda: api.get(_cm(namespace, "owned-by-widget")) is None)

    # Orphaning from a custom resource owner.
    cluster.kubectl("delete", f"widgets.{widget_crd}", "free", "-n", namespace, "--cascade=orphan")
    secret = api.get(f"/api/v1/namespaces/{namespace}/secrets/owned-by-free")
    assert secret is not None and "ownerReferences" not in secret["metadata"]
