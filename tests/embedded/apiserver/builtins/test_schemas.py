"""Decode-time checks (types, unknown fields) and OpenAPI-style schemas of built-in kinds."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from atoll.embedded.apiserver.builtins import schema_of, type_errors, unknown_fields
from atoll.embedded.apiserver.builtins.type_tree import model_for


def _deployment(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [
                        {"name": "web", "image": "nginx", "ports": [{"containerPort": 80}]}
                    ]
                },
            },
            **spec,
        },
    }


def test_clean_deployment() -> None:
    obj = _deployment(
        replicas=3, strategy={"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1}}
    )
    assert unknown_fields("apps", "v1", "Deployment", obj) == []
    assert type_errors("apps", "v1", "Deployment", obj) == []


def test_unknown_fields_with_paths() -> None:
    obj = _deployment(replica=3)
    obj["spec"]["template"]["spec"]["containers"][0]["imagee"] = "x"
    obj["metadata"]["labelz"] = {}
    assert unknown_fields("apps", "v1", "Deployment", obj) == [
        "metadata.labelz",
        "spec.template.spec.containers[0].imagee",
        "spec.replica",
    ]


def test_replicas_as_string() -> None:
    assert type_errors("apps", "v1", "Deployment", _deployment(replicas="3")) == [
        'Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal '
        "string into Go struct field DeploymentSpec.spec.replicas of type int32"
    ]


def test_type_error_shapes() -> None:
    obj = _deployment(paused="yes", minReadySeconds=1.5)
    obj["metadata"]["labels"] = {"app": 1}
    obj["spec"]["template"]["spec"]["containers"][0]["ports"] = {"containerPort": 80}
    obj["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] = "30"
    prefix = 'Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal '
    assert type_errors("apps", "v1", "Deployment", obj) == [
        prefix + "number into Go struct field ObjectMeta.metadata.labels of type string",
        prefix + "object into Go struct field Container.spec.template.spec.containers.ports of "
        "type []v1.ContainerPort",
        prefix + "string into Go struct field PodSpec.spec.template.spec."
        "terminationGracePeriodSeconds of type int64",
        prefix + "string into Go struct field DeploymentSpec.spec.paused of type bool",
        prefix
        + "number 1.5 into Go struct field DeploymentSpec.spec.minReadySeconds of type int32",
    ]
    assert type_errors("apps", "v1", "Deployment", {"spec": []}) == [
        prefix + "array into Go struct field Deployment.spec of type v1.DeploymentSpec"
    ]


def test_int_or_string_and_nulls() -> None:
    obj = _deployment(strategy={"rollingUpdate": {"maxSurge": True}}, replicas=None)
    assert type_errors("apps", "v1", "Deployment", obj) == [
        'Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal '
        "bool into Go value of type int32"
    ]


def test_quantities() -> None:
    pod = {
        "spec": {
            "containers": [
                {"name": "a", "image": "a", "resources": {"limits": {"cpu": 2, "memory": "1Gi"}}},
                {"name": "b", "image": "b", "resources": {"requests": {"cpu": "lots"}}},
            ]
        }
    }
    assert type_errors("", "v1", "Pod", pod) == [
        'Pod in version "v1" cannot be handled as a Pod: quantities must match the regular '
        "expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
    ]


def test_secret_data_must_be_base64() -> None:
    assert type_errors("", "v1", "Secret", {"data": {"ok": "aGk=", "bad": "h!"}}) == [
        'Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 1'
    ]


def test_timestamps() -> None:
    good = {"metadata": {"name": "c", "creationTimestamp": "2021-01-02T03:04:05Z"}}
    assert type_errors("", "v1", "ConfigMap", good) == []
    bad = {"metadata": {"name": "c", "creationTimestamp": "yesterday"}}
    assert type_errors("", "v1", "ConfigMap", bad)[0].startswith(
        'ConfigMap in version "v1" cannot be handled as a ConfigMap: parsing time "yesterday"'
    )


def test_free_form_fields_and_unknown_kinds() -> None:
    revision = {"data": {"anything": [1, {"x": True}]}, "revision": 1}
    assert unknown_fields("apps", "v1", "ControllerRevision", revision) == []
    assert unknown_fields("example.com", "v1", "Widget", {"spec": {"x": 1}}) == []
    assert type_errors("example.com", "v1", "Widget", {"spec": 1}) == []


@pytest.mark.parametrize(
    ("gvk", "model"),
    [
        (("apps", "v1", "Deployment"), "V1Deployment"),
        (("", "v1", "Pod"), "V1Pod"),
        (("", "v1", "Event"), "CoreV1Event"),
        (("events.k8s.io", "v1", "Event"), "EventsV1Event"),
        (("events.k8s.io", "v1beta1", "Event"), "EventsV1Event"),
        (("autoscaling", "v2", "HorizontalPodAutoscaler"), "V2HorizontalPodAutoscaler"),
        (("autoscaling", "v2beta2", "HorizontalPodAutoscaler"), "V2HorizontalPodAutoscaler"),
        (("autoscaling", "v1", "HorizontalPodAutoscaler"), "V1HorizontalPodAutoscaler"),
        (("batch", "v1beta1", "CronJob"), "V1CronJob"),
        (("policy", "v1beta1", "PodDisruptionBudget"), "V1PodDisruptionBudget"),
        (("rbac.authorization.k8s.io", "v1", "ClusterRole"), "V1ClusterRole"),
        (("networking.k8s.io", "v1beta1", "Ingress"), None),
        (("example.com", "v1", "Widget"), None),
    ],
)
def test_model_for(gvk: tuple[str, str, str], model: str | None) -> None:
    assert model_for(*gvk) == model


def test_beta_versions_use_stable_models() -> None:
    cron = {"spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {}}, "bogus": 1}}
    assert unknown_fields("batch", "v1beta1", "CronJob", cron) == ["spec.bogus"]


def test_schema_of_deployment() -> None:
    schema = schema_of("apps", "v1", "Deployment")
    assert schema is not None
    assert schema["x-kubernetes-group-version-kind"] == [
        {"group": "apps", "kind": "Deployment", "version": "v1"}
    ]
    spec = schema["properties"]["spec"]
    assert spec["required"] == ["selector", "template"]
    assert spec["properties"]["replicas"]["type"] == "integer"
    assert spec["properties"]["replicas"]["format"] == "int32"
    assert "Defaults to 1" in spec["properties"]["replicas"]["description"]
    labels = schema["properties"]["metadata"]["properties"]["labels"]
    assert labels["additionalProperties"]["type"] == "string"
    rolling = spec["properties"]["strategy"]["properties"]["rollingUpdate"]["properties"]
    assert rolling["maxSurge"] == {
        **rolling["maxSurge"],
        "type": "string",
        "format": "int-or-string",
    }
    containers = spec["properties"]["template"]["properties"]["spec"]["properties"]["containers"]
    assert containers["type"] == "array"
    assert "name" in containers["items"]["required"]
    assert "$ref" not in str(schema)


def test_schema_of_is_a_fresh_copy_and_handles_recursion() -> None:
    first = schema_of("", "v1", "ConfigMap")
    assert first is not None
    first["properties"].clear()
    second = schema_of("", "v1", "ConfigMap")
    assert second is not None and "data" in second["properties"]
    crd = schema_of("apiextensions.k8s.io", "v1", "CustomResourceDefinition")
    assert crd is not None
    assert schema_of("example.com", "v1", "Widget") is None


def test_importing_does_not_load_the_kubernetes_package() -> None:
    code = (
        "import sys\n"
        "from atoll.embedded.apiserver import builtins\n"
        "builtins.unknown_fields('apps', 'v1', 'Deployment', {'spec': {'x': 1}})\n"
        "builtins.schema_of('', 'v1', 'Pod')\n"
        "print('kubernetes' in sys.modules, 'pydantic' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["False", "False"]
