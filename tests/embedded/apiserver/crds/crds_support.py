"""Realistic CRDs for the CRD tests (the CronTab of the Kubernetes docs and friends)."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from atoll.errors import FieldError

NOW = "2024-05-01T10:00:00Z"
LATER = "2024-05-02T10:00:00Z"

CRONTAB_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "apiVersion": {"type": "string"},
        "kind": {"type": "string"},
        "metadata": {"type": "object"},
        "spec": {
            "type": "object",
            "properties": {
                "cronSpec": {
                    "type": "string",
                    "pattern": r"^(\d+|\*)(/\d+)?(\s+(\d+|\*)(/\d+)?){4}$",
                },
                "image": {"type": "string"},
                "replicas": {"type": "integer", "minimum": 1, "maximum": 10, "default": 1},
            },
            "required": ["cronSpec", "image"],
        },
        "status": {
            "type": "object",
            "properties": {"replicas": {"type": "integer"}, "labelSelector": {"type": "string"}},
        },
    },
}


def crontab_crd(**spec_overrides: Any) -> dict[str, Any]:
    """The CronTab CRD of the Kubernetes documentation, in v1."""
    spec: dict[str, Any] = {
        "group": "stable.example.com",
        "scope": "Namespaced",
        "names": {
            "plural": "crontabs",
            "singular": "crontab",
            "kind": "CronTab",
            "listKind": "CronTabList",
            "shortNames": ["ct"],
        },
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {"openAPIV3Schema": copy.deepcopy(CRONTAB_SCHEMA)},
                "subresources": {
                    "status": {},
                    "scale": {
                        "specReplicasPath": ".spec.replicas",
                        "statusReplicasPath": ".status.replicas",
                        "labelSelectorPath": ".status.labelSelector",
                    },
                },
                "additionalPrinterColumns": [
                    {"name": "Spec", "type": "string", "jsonPath": ".spec.cronSpec"},
                    {"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"},
                ],
            }
        ],
        "conversion": {"strategy": "None"},
    }
    spec.update(spec_overrides)
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{spec['names']['plural']}.{spec['group']}"},
        "spec": spec,
    }


def two_version_crd() -> dict[str, Any]:
    """CronTab served as v1beta1 (stored) and v1, with different schemas."""
    crd = crontab_crd()
    v1 = crd["spec"]["versions"][0]
    beta = copy.deepcopy(v1)
    beta["name"] = "v1beta1"
    beta["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"].pop("replicas")
    v1["storage"] = False
    crd["spec"]["versions"] = [beta, v1]
    return crd


def int_or_string_schema() -> dict[str, Any]:
    """A schema with the int-or-string shapes real CRDs use (ports, maxUnavailable)."""
    return {
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "properties": {
                    "port": {"x-kubernetes-int-or-string": True},
                    "maxUnavailable": {
                        "x-kubernetes-int-or-string": True,
                        "anyOf": [{"type": "integer"}, {"type": "string"}],
                    },
                    "maxSurge": {
                        "x-kubernetes-int-or-string": True,
                        "allOf": [
                            {"anyOf": [{"type": "integer"}, {"type": "string"}]},
                            {"pattern": "^[0-9]+%?$"},
                        ],
                    },
                },
            }
        },
    }


def with_schema(crd: dict[str, Any], schema: dict[str, Any], version: int = 0) -> dict[str, Any]:
    crd = copy.deepcopy(crd)
    crd["spec"]["versions"][version]["schema"] = {"openAPIV3Schema": schema}
    return crd


def messages(errors: Iterable[FieldError]) -> list[str]:
    return [str(e) for e in errors]
