"""CustomResourceDefinition defaulting, validation and status, against kube-apiserver's wording."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from tests.embedded.apiserver.crds.crds_support import (
    LATER,
    NOW,
    crontab_crd,
    messages,
    two_version_crd,
    with_schema,
)

from atoll.embedded.apiserver.crds import crd_status, default_crd, validate_crd
from atoll.errors import Invalid

DNS1035 = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "
    "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
)


def errors(crd: dict[str, Any], old: dict[str, Any] | None = None) -> list[str]:
    return messages(validate_crd(crd, old))


def established(crd: dict[str, Any]) -> dict[str, Any]:
    crd = copy.deepcopy(crd)
    crd["status"] = crd_status(crd, now=NOW)
    return crd


def test_the_crontab_crd_is_valid() -> None:
    assert errors(crontab_crd()) == []
    assert errors(two_version_crd()) == []


def test_defaulting_fills_what_kube_fills() -> None:
    crd = crontab_crd()
    del (
        crd["spec"]["names"]["singular"],
        crd["spec"]["names"]["listKind"],
        crd["spec"]["conversion"],
    )
    del crd["spec"]["versions"][0]["served"]
    default_crd(crd)
    assert crd["spec"]["names"]["singular"] == "crontab"
    assert crd["spec"]["names"]["listKind"] == "CronTabList"
    assert crd["spec"]["conversion"] == {"strategy": "None"}
    assert crd["spec"]["versions"][0]["served"] is False
    hook = crontab_crd(
        conversion={
            "strategy": "Webhook",
            "webhook": {
                "clientConfig": {"service": {"name": "conv", "namespace": "ns"}},
                "conversionReviewVersions": ["v1"],
            },
        }
    )
    default_crd(hook)
    assert hook["spec"]["conversion"]["webhook"]["clientConfig"]["service"]["port"] == 443
    assert errors(hook) == []


def test_the_name_must_be_plural_dot_group() -> None:
    crd = crontab_crd()
    crd["metadata"]["name"] = "crontab.stable.example.com"
    name = "crontab.stable.example.com"
    message = Invalid.of(
        "CustomResourceDefinition", "apiextensions.k8s.io", name, validate_crd(crd)
    ).message
    assert message == (
        'CustomResourceDefinition.apiextensions.k8s.io "crontab.stable.example.com" is invalid: '
        'metadata.name: Invalid value: "crontab.stable.example.com": must be '
        'spec.names.plural+"."+spec.group'
    )


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"group": "example"},
            'spec.group: Invalid value: "example": should be a domain with at least one dot',
        ),
        ({"scope": ""}, "spec.scope: Required value"),
        (
            {"scope": "Global"},
            'spec.scope: Unsupported value: "Global": supported values: "Cluster", "Namespaced"',
        ),
    ],
)
def test_group_and_scope(change: dict[str, Any], expected: str) -> None:
    crd = crontab_crd(**change)
    crd["metadata"]["name"] = "crontabs.stable.example.com"
    assert expected in errors(crd)


def test_names_are_dns_labels() -> None:
    crd = crontab_crd()
    crd["spec"]["names"].update(plural="CronTabs", kind="Cron_Tab", listKind="Cron_Tab")
    crd["spec"]["names"]["shortNames"] = ["c t"]
    crd["metadata"]["name"] = "CronTabs.stable.example.com"
    found = errors(crd)
    assert f'spec.names.plural: Invalid value: "CronTabs": {DNS1035}' in found
    assert (
        'spec.names.kind: Invalid value: "Cron_Tab": may have mixed case, but should otherwise '
        f"match: {DNS1035}" in found
    )
    assert f'spec.names.shortNames[0]: Invalid value: "c t": {DNS1035}' in found
    assert (
        'spec.names.listKind: Invalid value: "Cron_Tab": kind and listKind may not be the same'
        in found
    )


def test_versions_need_exactly_one_storage_version_and_unique_names() -> None:
    crd = two_version_crd()
    crd["spec"]["versions"][1]["storage"] = True
    crd["spec"]["versions"][1]["name"] = "v1beta1"
    found = errors(crd)
    assert any(e.endswith("must contain unique version names") for e in found)
    assert any(e.endswith("must have exactly one version marked as storage version") for e in found)
    crd["spec"]["versions"][1]["name"] = "V2"
    assert f'spec.versions[1].name: Invalid value: "V2": {DNS1035}' in errors(crd)


def test_every_version_needs_a_schema() -> None:
    crd = crontab_crd()
    del crd["spec"]["versions"][0]["schema"]
    assert errors(crd) == [
        "spec.versions[0].schema.openAPIV3Schema: Required value: schemas are required"
    ]


def test_a_non_structural_schema_is_rejected_with_the_reason() -> None:
    schema = {"type": "object", "properties": {"spec": {"properties": {"a": {"type": "string"}}}}}
    assert errors(with_schema(crontab_crd(), schema)) == [
        "spec.validation.openAPIV3Schema.properties[spec].type: Required value: must not be "
        "empty for specified object fields"
    ]
    # With differing schemas per version, kube reports each version's own path.
    assert errors(with_schema(two_version_crd(), schema, version=1)) == [
        "spec.versions[1].schema.openAPIV3Schema.properties[spec].type: Required value: must "
        "not be empty for specified object fields"
    ]


def test_invalid_defaults_are_rejected() -> None:
    crd = crontab_crd()
    props = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    props["properties"]["replicas"]["default"] = 0
    assert errors(crd) == [
        "spec.validation.openAPIV3Schema.properties[spec].properties[replicas].default: Invalid "
        "value: 0: in body should be greater than or equal to 1"
    ]


def test_status_subresource_restricts_the_root_schema() -> None:
    crd = crontab_crd()
    root = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    root["x-kubernetes-preserve-unknown-fields"] = True
    assert errors(crd) == []
    root["anyOf"] = [{"required": ["spec"]}]
    found = errors(crd)
    assert len(found) == 1
    assert found[0].startswith('spec.validation.openAPIV3Schema: Invalid value: "anyOf": only [')
    assert found[0].endswith(
        "fields are allowed at the root of the schema if the status subresource is enabled"
    )


@pytest.mark.parametrize(
    ("scale", "expected"),
    [
        (
            {"statusReplicasPath": ".status.replicas"},
            "spec.subresources.scale.specReplicasPath: Required value",
        ),
        (
            {"specReplicasPath": "spec.replicas", "statusReplicasPath": ".status.replicas"},
            'spec.subresources.scale.specReplicasPath: Invalid value: "spec.replicas": must be a '
            "simple json path starting with .",
        ),
        (
            {"specReplicasPath": ".replicas", "statusReplicasPath": ".status.replicas"},
            'spec.subresources.scale.specReplicasPath: Invalid value: ".replicas": should be a '
            "json path under .spec",
        ),
        (
            {
                "specReplicasPath": ".spec.r",
                "statusReplicasPath": ".status.r",
                "labelSelectorPath": ".metadata.labels",
            },
            'spec.subresources.scale.labelSelectorPath: Invalid value: ".metadata.labels": should '
            "be a json path under either .spec or .status",
        ),
    ],
)
def test_scale_subresource_paths(scale: dict[str, Any], expected: str) -> None:
    crd = crontab_crd()
    crd["spec"]["versions"][0]["subresources"]["scale"] = scale
    assert errors(crd) == [expected]


def test_printer_columns() -> None:
    crd = crontab_crd()
    crd["spec"]["versions"][0]["additionalPrinterColumns"] = [
        {"name": "Age", "type": "duration", "jsonPath": ".metadata.creationTimestamp"},
        {"name": "Spec", "type": "string", "format": "cron"},
    ]
    assert errors(crd) == [
        'spec.additionalPrinterColumns[0].type: Invalid value: "duration": must be one of '
        "boolean,date,integer,number,string",
        'spec.additionalPrinterColumns[1].format: Invalid value: "cron": must be one of '
        "byte,date,date-time,double,float,int32,int64,password",
        "spec.additionalPrinterColumns[1].JSONPath: Required value",
    ]


def test_conversion_settings() -> None:
    missing = crontab_crd(conversion={"strategy": "Webhook"})
    assert errors(missing) == [
        "spec.conversion.webhookClientConfig: Required value: required when strategy is set to "
        "Webhook",
        "spec.conversion.conversionReviewVersions: Required value",
    ]
    stray = crontab_crd(
        conversion={"strategy": "None", "webhook": {"conversionReviewVersions": ["v1"]}}
    )
    assert errors(stray) == [
        "spec.conversion.conversionReviewVersions: Forbidden: should not be set when strategy is "
        "not set to Webhook"
    ]
    unknown = crontab_crd(
        conversion={
            "strategy": "Webhook",
            "webhook": {
                "clientConfig": {"url": "http://conv.example.com/convert"},
                "conversionReviewVersions": ["v2"],
            },
        }
    )
    assert errors(unknown) == [
        'spec.conversion.webhookClientConfig.url: Invalid value: "http://conv.example.com/convert"'
        ": 'https' is the only allowed URL scheme",
        'spec.conversion.conversionReviewVersions: Invalid value: []string{"v2"}: must include at '
        "least one of v1, v1beta1",
    ]


def test_preserve_unknown_fields_cannot_be_turned_on() -> None:
    crd = crontab_crd(preserveUnknownFields=True)
    defaults = (
        "spec.preserveUnknownFields: Invalid value: true: must be false in order to use "
        "defaults in the schema"
    )
    assert errors(crd) == [
        defaults,
        "spec.preserveUnknownFields: Invalid value: true: cannot set to true, set "
        "x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead",
    ]
    old = crontab_crd(preserveUnknownFields=True)
    assert errors(crd, old) == [defaults]


def test_updates_keep_group_plural_and_once_established_scope_and_kind() -> None:
    old = crontab_crd()
    new = crontab_crd(scope="Cluster", group="stable.example.org")
    new["metadata"]["name"] = "crontabs.stable.example.com"
    new["spec"]["names"]["kind"] = "Cron"
    assert errors(new, old) == [
        'metadata.name: Invalid value: "crontabs.stable.example.com": must be '
        'spec.names.plural+"."+spec.group',
        'spec.group: Invalid value: "stable.example.org": field is immutable',
    ]
    assert errors(new, established(old))[1:] == [
        'spec.scope: Invalid value: "Cluster": field is immutable',
        'spec.names.kind: Invalid value: "Cron": field is immutable',
        'spec.group: Invalid value: "stable.example.org": field is immutable',
    ]


def test_a_stored_version_cannot_be_dropped() -> None:
    old = established(two_version_crd())
    new = crontab_crd()  # only v1 left
    assert errors(new, old) == [
        'status.storedVersions[0]: Invalid value: "v1beta1": missing from spec.versions; v1beta1 '
        "was previously a storage version, and must remain in spec.versions until a storage "
        "migration ensures no data remains persisted in v1beta1 and removes v1beta1 from "
        "status.storedVersions"
    ]


def test_protected_groups_need_api_approval() -> None:
    crd = crontab_crd(group="sample.k8s.io")
    crd["metadata"]["name"] = "crontabs.sample.k8s.io"
    assert errors(crd) == [
        "metadata.annotations[api-approved.kubernetes.io]: Required value: protected groups must "
        'have approval annotation "api-approved.kubernetes.io", see '
        "https://github.com/kubernetes/enhancements/pull/1111"
    ]
    crd["metadata"]["annotations"] = {"api-approved.kubernetes.io": "unapproved, testing only"}
    assert errors(crd) == []
    status = crd_status(crd, now=NOW)
    assert status["conditions"][2] == {
        "type": "KubernetesAPIApprovalPolicyConformant",
        "status": "False",
        "lastTransitionTime": NOW,
        "reason": "UnapprovedAnnotation",
        "message": 'not approved: "unapproved, testing only"',
    }
    crd["metadata"]["annotations"] = {"api-approved.kubernetes.io": "https://github.com/k/k/pull/1"}
    assert errors(crd) == []


def test_deprecation_warnings_need_deprecated_versions() -> None:
    crd = crontab_crd()
    crd["spec"]["versions"][0]["deprecationWarning"] = "use v2"
    assert errors(crd) == [
        'spec.versions[0].deprecationWarning: Invalid value: "use v2": can only be set for '
        "deprecated versions"
    ]


def test_status_accepts_names_and_establishes() -> None:
    crd = crontab_crd()
    assert crd_status(crd, now=NOW) == {
        "conditions": [
            {
                "type": "NamesAccepted",
                "status": "True",
                "lastTransitionTime": NOW,
                "reason": "NoConflicts",
                "message": "no conflicts found",
            },
            {
                "type": "Established",
                "status": "True",
                "lastTransitionTime": NOW,
                "reason": "InitialNamesAccepted",
                "message": "the initial names have been accepted",
            },
        ],
        "acceptedNames": {
            "plural": "crontabs",
            "singular": "crontab",
            "shortNames": ["ct"],
            "kind": "CronTab",
            "listKind": "CronTabList",
        },
        "storedVersions": ["v1"],
    }


def test_status_keeps_transition_times_and_accumulates_stored_versions() -> None:
    crd = established(two_version_crd())
    crd["spec"]["versions"][0]["storage"] = False
    crd["spec"]["versions"][1]["storage"] = True
    crd["spec"]["names"]["categories"] = ["all"]
    status = crd_status(crd, now=LATER)
    assert status["storedVersions"] == ["v1beta1", "v1"]
    assert [c["lastTransitionTime"] for c in status["conditions"]] == [NOW, NOW]
    assert status["acceptedNames"]["categories"] == ["all"]


def test_names_taken_by_another_crd_of_the_group_are_not_accepted() -> None:
    other = established(crontab_crd())
    other["metadata"]["name"] = "crontabs-old.stable.example.com"
    crd = crontab_crd()
    crd["spec"]["names"]["shortNames"] = []
    status = crd_status(crd, now=NOW, others=[other])
    conditions = {c["type"]: c for c in status["conditions"]}
    assert conditions["NamesAccepted"]["status"] == "False"
    assert conditions["NamesAccepted"]["reason"] == "ListKindConflict"
    assert conditions["NamesAccepted"]["message"] == '"CronTabList" is already in use'
    assert conditions["Established"]["reason"] == "NotAccepted"
    assert status["acceptedNames"] == {"plural": "", "kind": ""}
