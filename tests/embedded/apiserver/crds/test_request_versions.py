"""CRDs written through apiextensions.k8s.io/v1beta1 versus v1: kube 1.20's two rule sets.

kubectl 1.20's own tests (test/cmd/crd.sh, apply.sh) create v1beta1 CRDs without a schema or
with a non-structural one; kube-apiserver 1.20 accepts those through v1beta1 only, keeps
unknown fields of their objects, and flags the schema with a NonStructuralSchema condition.
"""

from __future__ import annotations

import copy
from typing import Any

from tests.embedded.apiserver.crds.crds_support import LATER, NOW, crontab_crd, messages

from atoll.embedded.apiserver.crds import crd_status, crd_v1beta1_to_v1, validate_crd

NO_SCHEMA = "spec.versions[0].schema.openAPIV3Schema: Required value: schemas are required"
CANNOT_PRESERVE = (
    "spec.preserveUnknownFields: Invalid value: true: cannot set to true, set "
    "x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead"
)
ROOT_TYPE = "spec.validation.openAPIV3Schema.type: Required value: must not be empty at the root"


def beta_crd(**spec: Any) -> dict[str, Any]:
    """crd.sh:27's Foo CRD as a v1beta1 client sends it, in the v1 form the server checks."""
    body = {
        "kind": "CustomResourceDefinition",
        "apiVersion": "apiextensions.k8s.io/v1beta1",
        "metadata": {"name": "foos.company.com"},
        "spec": {
            "group": "company.com",
            "version": "v1",
            "scope": "Namespaced",
            "names": {"plural": "foos", "kind": "Foo"},
            **spec,
        },
    }
    return crd_v1beta1_to_v1(body)


# crd.sh:99's ValidFoo: no type at the root, so not structural.
NON_STRUCTURAL = {
    "properties": {"spec": {"type": "array", "items": {"type": "number"}}},
}


def errors(crd: dict[str, Any], old: dict[str, Any] | None = None, *, via: str) -> list[str]:
    return messages(validate_crd(crd, old, request_version=via))


def test_v1beta1_may_omit_the_schema_and_keep_unknown_fields() -> None:
    crd = beta_crd()
    assert crd["spec"]["preserveUnknownFields"] is True
    assert errors(crd, via="v1beta1") == []
    assert errors(crd, via="v1") == [NO_SCHEMA, CANNOT_PRESERVE]


def test_v1beta1_accepts_a_non_structural_schema_while_preserving_unknown_fields() -> None:
    crd = beta_crd(validation={"openAPIV3Schema": NON_STRUCTURAL})
    assert errors(crd, via="v1beta1") == []
    assert errors(crd, via="v1") == [ROOT_TYPE, CANNOT_PRESERVE]


def test_v1beta1_still_applies_the_openapi_rules() -> None:
    schema = copy.deepcopy(NON_STRUCTURAL)
    schema["properties"]["spec"]["uniqueItems"] = True
    schema["properties"]["ref"] = {"$ref": "#/definitions/x"}
    crd = beta_crd(validation={"openAPIV3Schema": schema})
    assert errors(crd, via="v1beta1") == [
        "spec.validation.openAPIV3Schema.properties[spec].uniqueItems: Forbidden: uniqueItems "
        "cannot be set to true since the runtime complexity becomes quadratic",
        "spec.validation.openAPIV3Schema.properties[ref].$ref: Forbidden: $ref is not supported",
    ]


def test_v1beta1_without_preserving_unknown_fields_needs_a_structural_schema() -> None:
    assert errors(beta_crd(preserveUnknownFields=False), via="v1beta1") == [
        "spec.versions[0].schema.openAPIV3Schema: Required value: because otherwise all fields "
        "are pruned"
    ]
    crd = beta_crd(preserveUnknownFields=False, validation={"openAPIV3Schema": NON_STRUCTURAL})
    assert errors(crd, via="v1beta1") == [ROOT_TYPE]


def test_kubernetes_extensions_need_a_structural_schema_even_through_v1beta1() -> None:
    schema = copy.deepcopy(NON_STRUCTURAL)
    schema["properties"]["port"] = {"x-kubernetes-int-or-string": True}
    crd = beta_crd(validation={"openAPIV3Schema": schema})
    assert errors(crd, via="v1beta1") == [ROOT_TYPE]


def test_v1beta1_may_not_add_defaults() -> None:
    schema = {"type": "object", "properties": {"size": {"type": "integer", "default": 1}}}
    crd = beta_crd(preserveUnknownFields=False, validation={"openAPIV3Schema": schema})
    assert errors(crd, via="v1beta1") == [
        "spec.validation.openAPIV3Schema.properties[size].default: Forbidden: must not be set"
    ]
    # ... unless the stored CRD already has them (an update never tightens the rules).
    assert errors(crd, crd, via="v1beta1") == []
    assert errors(crd, via="v1") == []


def test_v1beta1_skips_the_api_approval_of_protected_groups() -> None:
    crd = beta_crd(group="sample.k8s.io")
    crd["metadata"]["name"] = "foos.sample.k8s.io"
    assert errors(crd, via="v1beta1") == []
    assert any(
        e.startswith("metadata.annotations[api-approved.kubernetes.io]: Required value")
        for e in errors(crd, via="v1")
    )


def test_a_v1_update_keeps_what_the_v1beta1_crd_got_away_with() -> None:
    for crd in (beta_crd(), beta_crd(validation={"openAPIV3Schema": NON_STRUCTURAL})):
        old = copy.deepcopy(crd)
        crd["spec"]["names"]["shortNames"] = ["fo"]
        assert errors(crd, old, via="v1") == []


def test_a_v1_update_of_a_structural_crd_may_not_turn_non_structural() -> None:
    old = crontab_crd()
    new = copy.deepcopy(old)
    del new["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["type"]
    assert errors(new, old, via="v1") == [ROOT_TYPE]


def _condition(status: dict[str, Any], kind: str) -> dict[str, Any] | None:
    return next((c for c in status["conditions"] if c["type"] == kind), None)


def test_status_reports_a_non_structural_schema() -> None:
    crd = beta_crd()
    crd["status"] = crd_status(crd, now=NOW)
    assert [c["type"] for c in crd["status"]["conditions"]] == [
        "NamesAccepted",
        "Established",
        "NonStructuralSchema",
    ]
    assert _condition(crd["status"], "NonStructuralSchema") == {
        "type": "NonStructuralSchema",
        "status": "True",
        "lastTransitionTime": NOW,
        "reason": "Violations",
        "message": "spec.preserveUnknownFields: Invalid value: true: must be false",
    }
    crd = beta_crd(validation={"openAPIV3Schema": NON_STRUCTURAL})
    condition = _condition(crd_status(crd, now=NOW), "NonStructuralSchema")
    assert condition is not None
    assert condition["message"] == (
        "[spec.preserveUnknownFields: Invalid value: true: must be false, "
        "spec.versions[0].schema.openAPIV3Schema.type: Required value: must not be empty at "
        "the root]"
    )


def test_the_condition_goes_once_the_schema_is_structural() -> None:
    crd = beta_crd()
    crd["status"] = crd_status(crd, now=NOW)
    fixed = beta_crd(
        preserveUnknownFields=False, validation={"openAPIV3Schema": {"type": "object"}}
    )
    fixed["status"] = crd["status"]
    assert _condition(crd_status(fixed, now=LATER), "NonStructuralSchema") is None
    assert _condition(crd_status(crontab_crd(), now=NOW), "NonStructuralSchema") is None
