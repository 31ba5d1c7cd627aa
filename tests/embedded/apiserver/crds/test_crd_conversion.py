"""apiextensions.k8s.io v1beta1 ⇄ v1 conversion of CustomResourceDefinitions."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.embedded.apiserver.crds.crds_support import CRONTAB_SCHEMA, crontab_crd, two_version_crd

from atoll.embedded.apiserver.crds import (
    crd_v1_to_v1beta1,
    crd_v1beta1_to_v1,
    default_crd,
    validate_crd,
)


def v1beta1_crontab() -> dict[str, Any]:
    """The CronTab CRD the way pre-1.16 docs wrote it."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1beta1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "crontabs.stable.example.com"},
        "spec": {
            "group": "stable.example.com",
            "version": "v1",
            "names": {"plural": "crontabs", "kind": "CronTab", "shortNames": ["ct"]},
            "validation": {"openAPIV3Schema": copy.deepcopy(CRONTAB_SCHEMA)},
            "subresources": {"status": {}},
            "additionalPrinterColumns": [
                {"name": "Spec", "type": "string", "JSONPath": ".spec.cronSpec"}
            ],
            "preserveUnknownFields": False,
        },
    }


def test_v1beta1_to_v1_moves_shared_settings_into_each_version() -> None:
    v1 = crd_v1beta1_to_v1(v1beta1_crontab())
    assert v1["apiVersion"] == "apiextensions.k8s.io/v1"
    assert v1["spec"] == {
        "group": "stable.example.com",
        "names": {
            "plural": "crontabs",
            "kind": "CronTab",
            "shortNames": ["ct"],
            "singular": "crontab",
            "listKind": "CronTabList",
        },
        "scope": "Namespaced",
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {"openAPIV3Schema": CRONTAB_SCHEMA},
                "subresources": {"status": {}},
                "additionalPrinterColumns": [
                    {"name": "Spec", "type": "string", "jsonPath": ".spec.cronSpec"}
                ],
            }
        ],
        "conversion": {"strategy": "None"},
    }
    assert validate_crd(v1) == []


def test_preserve_unknown_fields_defaults_to_true_in_v1beta1_and_carries_over() -> None:
    crd = v1beta1_crontab()
    del crd["spec"]["preserveUnknownFields"]
    assert crd_v1beta1_to_v1(crd)["spec"]["preserveUnknownFields"] is True


def test_webhook_settings_move_under_webhook() -> None:
    crd = v1beta1_crontab()
    client = {"service": {"name": "conv", "namespace": "ns", "port": 443}}
    crd["spec"]["conversion"] = {"strategy": "Webhook", "webhookClientConfig": client}
    v1 = crd_v1beta1_to_v1(crd)
    assert v1["spec"]["conversion"] == {
        "strategy": "Webhook",
        "webhook": {"clientConfig": client, "conversionReviewVersions": ["v1beta1"]},
    }
    back = crd_v1_to_v1beta1(v1)
    assert back["spec"]["conversion"] == {
        "strategy": "Webhook",
        "webhookClientConfig": client,
        "conversionReviewVersions": ["v1beta1"],
    }


def test_v1_to_v1beta1_lifts_only_what_every_version_shares() -> None:
    beta = crd_v1_to_v1beta1(two_version_crd())
    spec = beta["spec"]
    assert spec["version"] == "v1beta1"
    assert "validation" not in spec
    assert spec["subresources"]["scale"]["specReplicasPath"] == ".spec.replicas"
    assert spec["additionalPrinterColumns"][0] == {
        "name": "Spec",
        "type": "string",
        "JSONPath": ".spec.cronSpec",
    }
    assert [sorted(v) for v in spec["versions"]] == [["name", "schema", "served", "storage"]] * 2
    assert spec["preserveUnknownFields"] is False


def test_round_trips_are_lossless() -> None:
    for crd in (crontab_crd(), two_version_crd()):
        default_crd(crd)
        assert crd_v1beta1_to_v1(crd_v1_to_v1beta1(crd)) == crd
    beta = crd_v1_to_v1beta1(crd_v1beta1_to_v1(v1beta1_crontab()))
    assert beta["spec"]["validation"] == v1beta1_crontab()["spec"]["validation"]
    assert (
        beta["spec"]["additionalPrinterColumns"]
        == v1beta1_crontab()["spec"]["additionalPrinterColumns"]
    )


column = st.fixed_dictionaries(
    {"name": st.sampled_from(["A", "B"]), "type": st.just("string"), "jsonPath": st.just(".spec.a")}
)
version = st.fixed_dictionaries(
    {"served": st.booleans(), "storage": st.booleans()},
    optional={
        "schema": st.sampled_from(
            [{"openAPIV3Schema": {"type": "object"}}, {"openAPIV3Schema": CRONTAB_SCHEMA}]
        ),
        "subresources": st.sampled_from(
            [
                {"status": {}},
                {"scale": {"specReplicasPath": ".spec.r", "statusReplicasPath": ".status.r"}},
            ]
        ),
        "additionalPrinterColumns": st.lists(column, min_size=1, max_size=2),
        "deprecated": st.just(True),
    },
)


@settings(max_examples=200, deadline=None)
@given(st.lists(version, min_size=1, max_size=3))
def test_v1_round_trip_for_generated_versions(versions: list[dict[str, Any]]) -> None:
    crd = crontab_crd(versions=[{"name": f"v{i}", **v} for i, v in enumerate(versions)])
    assert crd_v1beta1_to_v1(crd_v1_to_v1beta1(crd)) == crd
