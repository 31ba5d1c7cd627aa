"""``metadata`` validation: names per kind, labels, annotations, owners and finalizers."""

from __future__ import annotations

from collections.abc import Mapping

from atoll.embedded.apiserver.builtins import (
    annotations_errors,
    name_rule_for,
    validate,
    validate_object_meta,
)
from atoll.errors import Invalid


def _messages(
    meta: Mapping[str, object], *, namespaced: bool = True, rule: str = "subdomain"
) -> list[str]:
    return [str(e) for e in validate_object_meta(meta, namespaced=namespaced, name_rule=rule)]


def test_valid_metadata() -> None:
    meta = {
        "name": "web",
        "namespace": "default",
        "labels": {"app.kubernetes.io/name": "web"},
        "annotations": {"Example.com/Note": "anything at all"},
        "finalizers": ["kubernetes", "example.com/cleanup"],
        "ownerReferences": [
            {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "r", "uid": "u"}
        ],
    }
    assert _messages(meta) == []


def test_bad_name_message_and_invalid_status() -> None:
    errors = validate_object_meta({"name": "Bad_Name", "namespace": "default"}, namespaced=True)
    assert [str(e) for e in errors] == [
        'metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist '
        "of lower case alphanumeric characters, '-' or '.', and must start and end with an "
        "alphanumeric character (e.g. 'example.com', regex used for validation is "
        "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
    ]
    status = Invalid.of("ConfigMap", "", "Bad_Name", errors).to_status()
    assert status["details"]["causes"][0]["reason"] == "FieldValueInvalid"
    assert status["details"]["causes"][0]["field"] == "metadata.name"


def test_missing_name() -> None:
    assert _messages({"namespace": "default"}) == [
        "metadata.name: Required value: name or generateName is required"
    ]
    assert _messages({"generateName": "web-", "namespace": "default"}) == [
        "metadata.name: Required value: name or generateName is required"
    ]


def test_generate_name_rules() -> None:
    assert _messages({"generateName": "Web-", "name": "web-abcde", "namespace": "d"})[0].startswith(
        'metadata.generateName: Invalid value: "Web-": a lowercase RFC 1123 subdomain'
    )


def test_namespace_rules() -> None:
    assert _messages({"name": "a"}) == ["metadata.namespace: Required value"]
    assert _messages({"name": "a", "namespace": "x"}, namespaced=False) == [
        "metadata.namespace: Forbidden: not allowed on this type"
    ]
    assert _messages({"name": "a", "namespace": "Bad"})[0].startswith(
        'metadata.namespace: Invalid value: "Bad": a lowercase RFC 1123 label'
    )


def test_name_rules_per_kind() -> None:
    assert name_rule_for("", "Namespace") == "label"
    assert name_rule_for("", "Service") == "dns1035"
    assert name_rule_for("rbac.authorization.k8s.io", "ClusterRole") == "path_segment"
    assert name_rule_for("apps", "Deployment") == "subdomain"
    assert name_rule_for("apps", "StatefulSet") == "subdomain"
    assert _messages({"name": "1svc", "namespace": "d"}, rule="dns1035")[0].startswith(
        'metadata.name: Invalid value: "1svc": a DNS-1035 label'
    )
    assert (
        _messages({"name": "system:aggregate-to-view"}, namespaced=False, rule="path_segment") == []
    )


def test_labels_and_annotations() -> None:
    messages = _messages(
        {"name": "a", "namespace": "d", "labels": {"bad key": "v", "k": "bad value!"}}
    )
    assert messages[0].startswith('metadata.labels: Invalid value: "bad key": name part must')
    assert messages[1].startswith('metadata.labels: Invalid value: "bad value!": a valid label')
    assert _messages({"name": "a", "namespace": "d", "annotations": {"/x": ""}}) == [
        'metadata.annotations: Invalid value: "/x": prefix part must be non-empty'
    ]
    big = {"a": "x" * (256 * 1024)}
    assert [str(e) for e in annotations_errors("metadata.annotations", big)] == [
        "metadata.annotations: Too long: must have at most 262144 bytes"
    ]


def test_owner_references_and_finalizers() -> None:
    meta = {
        "name": "a",
        "namespace": "d",
        "ownerReferences": [{"apiVersion": "", "kind": "ReplicaSet", "name": "r", "uid": ""}],
        "finalizers": ["custom", "custom"],
        "generation": -1,
    }
    assert _messages(meta) == [
        "metadata.generation: Invalid value: -1: must be greater than or equal to 0",
        'metadata.ownerReferences.apiVersion: Invalid value: "": version must not be empty',
        'metadata.ownerReferences.uid: Invalid value: "": uid must not be empty',
        'metadata.finalizers: Invalid value: "custom": name is neither a standard finalizer name '
        "nor is it fully qualified",
        'metadata.finalizers: Invalid value: "custom": name is neither a standard finalizer name '
        "nor is it fully qualified",
        'metadata.finalizers: Duplicate value: "custom"',
    ]


def test_two_controllers() -> None:
    ref = {"apiVersion": "v1", "kind": "K", "name": "n", "uid": "u", "controller": True}
    messages = _messages({"name": "a", "namespace": "d", "ownerReferences": [ref, ref]})
    assert messages[0].startswith("metadata.ownerReferences: Invalid value:")
    assert "Only one reference can have Controller set to true" in messages[0]


def test_no_new_finalizers_while_deleting() -> None:
    old = {
        "metadata": {
            "name": "a",
            "deletionTimestamp": "2021-01-01T00:00:00Z",
            "finalizers": ["a/b"],
        }
    }
    new = {"metadata": {"name": "a", "finalizers": ["a/b", "c/d"]}}
    assert [str(e) for e in validate("", "ConfigMap", new, old, namespaced=True)] == [
        "metadata.finalizers: Forbidden: no new finalizers can be added if the object is being "
        "deleted"
    ]
    assert validate("", "ConfigMap", {"metadata": {"finalizers": []}}, old, namespaced=True) == []
