"""Template hashes, new and old sets, revision annotations (deployments_revisions)."""

from __future__ import annotations

import copy
from typing import Any

from atoll.embedded.controllers.deployments_revisions import (
    REVISION,
    REVISION_HISTORY,
    equal_ignore_hash,
    find_new_replica_set,
    last_revision,
    max_revision,
    new_replica_set,
    safe_encode,
    set_new_replica_set_annotations,
    template_hash,
)

TEMPLATE = {
    "metadata": {"labels": {"app": "web"}},
    "spec": {"containers": [{"name": "c", "image": "nginx:1"}]},
}


def _deployment(**annotations: str) -> Any:
    return {
        "metadata": {"name": "web", "namespace": "ns", "uid": "d-1", "annotations": annotations},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web"}},
            "template": copy.deepcopy(TEMPLATE),
        },
    }


def _rs(name: str, created: str, *, image: str = "nginx:1", revision: str | None = None) -> Any:
    template = copy.deepcopy(TEMPLATE)
    template["metadata"]["labels"]["pod-template-hash"] = name
    template["spec"]["containers"][0]["image"] = image
    annotations = {REVISION: revision} if revision else {}
    return {
        "metadata": {
            "name": name,
            "creationTimestamp": created,
            "uid": name,
            "annotations": annotations,
        },
        "spec": {"replicas": 1, "template": template},
    }


def test_hashes_are_stable_and_use_the_safe_alphabet() -> None:
    first = template_hash(TEMPLATE, None)
    assert first == template_hash(copy.deepcopy(TEMPLATE), None)
    assert set(first) <= set("bcdfghjklmnpqrstvwxz2456789")
    assert 1 <= len(first) <= 10  # the decimal digits of a 32-bit sum, re-lettered
    assert template_hash(TEMPLATE, 1) != first != template_hash(TEMPLATE, 0)
    changed = copy.deepcopy(TEMPLATE)
    changed["spec"]["containers"][0]["image"] = "nginx:2"
    assert template_hash(changed, None) != first
    assert safe_encode("0123456789") == "456789bcdf"  # as in real names: 7995b8d97d


def test_templates_compare_without_the_hash_label_and_empties() -> None:
    with_hash = copy.deepcopy(TEMPLATE)
    with_hash["metadata"]["labels"]["pod-template-hash"] = "abc"
    with_hash["spec"]["containers"][0]["resources"] = {}
    assert equal_ignore_hash(TEMPLATE, with_hash)
    other = copy.deepcopy(TEMPLATE)
    other["metadata"]["labels"]["tier"] = "x"
    assert not equal_ignore_hash(TEMPLATE, other)


def test_the_new_set_is_the_oldest_with_the_template() -> None:
    sets = [
        _rs("b", "2021-01-01T00:00:02Z"),
        _rs("a", "2021-01-01T00:00:01Z", image="nginx:2"),
        _rs("c", "2021-01-01T00:00:01Z"),
    ]
    assert find_new_replica_set(_deployment(), sets)["metadata"]["name"] == "c"


def test_revision_numbers() -> None:
    sets = [_rs("a", "", revision="3"), _rs("b", "", revision="7"), _rs("c", "", revision="x")]
    assert max_revision(sets) == 7
    assert last_revision(sets) == 3
    assert last_revision(sets[:1]) == 0


def test_a_reused_set_takes_the_next_revision_and_remembers_its_old_ones() -> None:
    rs = _rs("a", "", revision="1")
    deployment = _deployment(**{"kubernetes.io/change-cause": "undo", REVISION: "2"})
    assert set_new_replica_set_annotations(deployment, rs, new_revision=3, exists=True, max_surge=1)
    annotations = rs["metadata"]["annotations"]
    assert annotations[REVISION] == "3"
    assert annotations[REVISION_HISTORY] == "1"
    assert annotations["kubernetes.io/change-cause"] == "undo"
    assert set_new_replica_set_annotations(deployment, rs, new_revision=5, exists=True, max_surge=1)
    assert annotations[REVISION_HISTORY] == "1,3"
    assert not set_new_replica_set_annotations(
        deployment, rs, new_revision=5, exists=True, max_surge=1
    )
    assert not set_new_replica_set_annotations(
        deployment, rs, new_revision=4, exists=True, max_surge=1
    )
    assert annotations[REVISION] == "5", "a revision never goes down"


def test_a_new_set_for_the_template() -> None:
    rs = new_replica_set(_deployment(), pod_template_hash="5d9c", replicas=2)
    assert rs["metadata"]["name"] == "web-5d9c"
    assert rs["metadata"]["labels"] == {"app": "web", "pod-template-hash": "5d9c"}
    assert rs["spec"]["selector"] == {"matchLabels": {"app": "web", "pod-template-hash": "5d9c"}}
    assert rs["spec"]["template"]["metadata"]["labels"]["pod-template-hash"] == "5d9c"
    assert rs["metadata"]["ownerReferences"] == [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": "web",
            "uid": "d-1",
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    assert "pod-template-hash" not in _deployment()["spec"]["template"]["metadata"]["labels"]
    fresh: dict[str, Any] = {"metadata": {}}
    set_new_replica_set_annotations(_deployment(), fresh, new_revision=1, exists=False, max_surge=1)
    assert fresh["metadata"]["annotations"] == {
        REVISION: "1",
        "deployment.kubernetes.io/desired-replicas": "3",
        "deployment.kubernetes.io/max-replicas": "4",
    }
