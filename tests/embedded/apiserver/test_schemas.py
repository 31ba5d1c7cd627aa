"""SchemaCheck (schemas): decode checks of request bodies, and what a status write skips."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from atoll.embedded.apiserver.resources import BUILTINS
from atoll.embedded.apiserver.schemas import SchemaCheck
from atoll.errors import BadRequest

DEPLOYMENTS = next(r for r in BUILTINS if r.api_version == "apps/v1" and r.kind == "Deployment")


def _stored() -> dict[str, Any]:
    labels = {"app": "web"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "ns", "labels": labels, "resourceVersion": "5"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]},
            },
        },
        "status": {"observedGeneration": 1, "replicas": 1},
    }


def _check(body: dict[str, Any], *, validation: str = "Strict") -> tuple[str, ...]:
    return SchemaCheck().check(DEPLOYMENTS, body, validation=validation, stored=_stored())


def test_what_repeats_the_stored_object_passes_and_the_rest_is_checked() -> None:
    body = _stored()
    body["status"]["readyReplicas"] = 1
    assert _check(body) == ()
    body["status"]["readyReplicas"] = "one"
    with pytest.raises(BadRequest, match="readyReplicas"):
        _check(body)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("spec", "replicas"), "many"),
        (("spec", "replicas"), 1.0),  # == the stored 1, but a float
        (("spec", "replicas"), True),
        (("metadata", "labels"), ["app"]),
    ],
)
def test_a_changed_field_anywhere_is_type_checked(path: tuple[str, str], value: Any) -> None:
    body = _stored()
    body[path[0]][path[1]] = value
    with pytest.raises(BadRequest):
        _check(body)


def test_unknown_fields_where_the_body_differs_are_reported_at_their_paths() -> None:
    body = _stored()
    body["spec"]["template"]["spec"]["containers"][0]["imagee"] = "x"
    body["status"]["bogus"] = 1
    warned = copy.deepcopy(body)
    with pytest.raises(BadRequest) as refused:
        _check(body)
    assert refused.value.message == (
        'strict decoding error: unknown field "spec.template.spec.containers[0].imagee", '
        'unknown field "status.bogus"'
    )
    assert len(_check(warned, validation="Warn")) == 2
    assert "imagee" not in warned["spec"]["template"]["spec"]["containers"][0]
    assert "bogus" not in warned["status"]
