"""Workload validation: selectors vs. template labels, strategies, immutable fields, jobs."""

from __future__ import annotations

import copy
from typing import Any

from atoll.embedded.apiserver.builtins import default, validate


def _workload(kind: str, group: str = "apps", **spec: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "apiVersion": f"{group}/v1",
        "kind": kind,
        "metadata": {"name": "web", "namespace": "default", "uid": "uid-1"},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx"}]},
            },
            **spec,
        },
    }
    default(group, kind, obj)
    return obj


def _messages(
    group: str, kind: str, obj: dict[str, Any], old: dict[str, Any] | None = None
) -> list[str]:
    return [str(e) for e in validate(group, kind, obj, old, namespaced=True)]


def test_valid_workloads() -> None:
    for kind in ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet"):
        assert _messages("apps", kind, _workload(kind)) == [], kind


def test_selector_must_match_template_labels() -> None:
    obj = _workload("Deployment")
    obj["spec"]["template"]["metadata"]["labels"] = {"run": "web", "app": "other"}
    assert _messages("apps", "Deployment", obj) == [
        'spec.template.metadata.labels: Invalid value: map[string]string{"app":"other", '
        '"run":"web"}: `selector` does not match template `labels`'
    ]


def test_selector_required_and_not_empty() -> None:
    obj = _workload("Deployment")
    del obj["spec"]["selector"]
    assert _messages("apps", "Deployment", obj) == ["spec.selector: Required value"]
    obj["spec"]["selector"] = {}
    assert _messages("apps", "Deployment", obj) == [
        "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), "
        "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for "
        "deployment"
    ]


def test_match_expressions() -> None:
    obj = _workload("ReplicaSet")
    obj["spec"]["selector"] = {
        "matchExpressions": [{"key": "app", "operator": "In", "values": ["web"]}]
    }
    assert _messages("apps", "ReplicaSet", obj) == []
    obj["spec"]["selector"] = {"matchExpressions": [{"key": "app", "operator": "In"}]}
    assert _messages("apps", "ReplicaSet", obj) == [
        "spec.selector.matchExpressions[0].values: Required value: must be specified when "
        "`operator` is 'In' or 'NotIn'"
    ]


def test_counts_and_restart_policy() -> None:
    obj = _workload("Deployment", replicas=-1)
    obj["spec"]["template"]["spec"]["restartPolicy"] = "Never"
    assert _messages("apps", "Deployment", obj) == [
        "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
        'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"',
    ]


def test_deployment_strategy() -> None:
    obj = _workload("Deployment", strategy={"type": "Recreate", "rollingUpdate": {}})
    assert _messages("apps", "Deployment", obj) == [
        "spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is "
        "'Recreate'"
    ]
    obj = _workload("Deployment", strategy={"type": "Sideways"})
    assert _messages("apps", "Deployment", obj) == [
        'spec.strategy: Unsupported value: apps.DeploymentStrategy{Type:"Sideways", '
        'RollingUpdate:(*apps.RollingUpdateDeployment)(nil)}: supported values: "Recreate", '
        '"RollingUpdate"'
    ]
    obj = _workload(
        "Deployment", strategy={"rollingUpdate": {"maxSurge": 0, "maxUnavailable": "110%"}}
    )
    assert _messages("apps", "Deployment", obj) == [
        "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 110%: must not be greater "
        "than 100%"
    ]
    obj = _workload(
        "Deployment", strategy={"rollingUpdate": {"maxSurge": "0%", "maxUnavailable": 0}}
    )
    assert _messages("apps", "Deployment", obj) == [
        "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when "
        "`maxSurge` is 0"
    ]


def test_progress_deadline_after_min_ready() -> None:
    obj = _workload("Deployment", minReadySeconds=600)
    assert _messages("apps", "Deployment", obj) == [
        "spec.progressDeadlineSeconds: Invalid value: 600: must be greater than minReadySeconds"
    ]


def test_apps_selector_is_immutable() -> None:
    for kind in ("Deployment", "ReplicaSet", "DaemonSet"):
        old = _workload(kind)
        new = copy.deepcopy(old)
        new["spec"]["selector"] = {"matchLabels": {"app": "web", "tier": "front"}}
        new["spec"]["template"]["metadata"]["labels"]["tier"] = "front"
        assert _messages("apps", kind, new, old) == [
            "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string"
            '{"app":"web", "tier":"front"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: '
            "field is immutable"
        ], kind


def test_scaling_a_deployment_is_a_valid_update() -> None:
    old = _workload("Deployment")
    new = copy.deepcopy(old)
    new["spec"]["replicas"] = 5
    new["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.20"
    assert _messages("apps", "Deployment", new, old) == []


def test_stateful_set_updates() -> None:
    old = _workload("StatefulSet", serviceName="web")
    new = copy.deepcopy(old)
    new["spec"]["replicas"] = 3
    new["spec"]["updateStrategy"] = {"type": "OnDelete"}
    assert _messages("apps", "StatefulSet", new, old) == []
    new["spec"]["serviceName"] = "other"
    assert _messages("apps", "StatefulSet", new, old) == [
        "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', "
        "'template', and 'updateStrategy' are forbidden"
    ]


def test_stateful_set_mounts_claim_templates() -> None:
    obj = _workload(
        "StatefulSet",
        volumeClaimTemplates=[{"metadata": {"name": "data"}, "spec": {}}],
    )
    obj["spec"]["template"]["spec"]["containers"][0]["volumeMounts"] = [
        {"name": "data", "mountPath": "/data"}
    ]
    assert _messages("apps", "StatefulSet", obj) == []


def test_stateful_set_policy() -> None:
    obj = _workload("StatefulSet", podManagementPolicy="Random")
    assert _messages("apps", "StatefulSet", obj) == [
        "spec.podManagementPolicy: Invalid value: \"Random\": must be 'OrderedReady' or 'Parallel'"
    ]


def test_daemon_set_strategy() -> None:
    obj = _workload(
        "DaemonSet",
        updateStrategy={"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0}},
    )
    assert _messages("apps", "DaemonSet", obj) == [
        "spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: 0: cannot be 0"
    ]


def test_replication_controller() -> None:
    rc: dict[str, Any] = {
        "metadata": {"name": "rc", "namespace": "d"},
        "spec": {
            "template": {
                "metadata": {"labels": {"a": "b"}},
                "spec": {"containers": [{"name": "c", "image": "i"}]},
            }
        },
    }
    default("", "ReplicationController", rc)
    assert _messages("", "ReplicationController", rc) == []
    rc["spec"]["selector"] = {"a": "c"}
    assert _messages("", "ReplicationController", rc) == [
        'spec.template.metadata.labels: Invalid value: map[string]string{"a":"b"}: `selector` '
        "does not match template `labels`"
    ]


def _job(**spec: Any) -> dict[str, Any]:
    job: dict[str, Any] = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "pi", "namespace": "default", "uid": "uid-9"},
        "spec": {
            "template": {
                "spec": {
                    "containers": [{"name": "pi", "image": "perl"}],
                    "restartPolicy": "Never",
                }
            },
            **spec,
        },
    }
    default("batch", "Job", job)
    return job


def test_job_valid_and_restart_policy() -> None:
    assert _messages("batch", "Job", _job()) == []
    job = _job()
    del job["spec"]["template"]["spec"]["restartPolicy"]
    job = _job(template=job["spec"]["template"])
    assert _messages("batch", "Job", job) == [
        'spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: '
        '"OnFailure", "Never"'
    ]


def test_job_generated_selector_checks() -> None:
    job = _job()
    job["spec"]["selector"] = {"matchLabels": {"controller-uid": "other"}}
    messages = _messages("batch", "Job", job)
    assert messages[0] == (
        "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string"
        '{"controller-uid":"other"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: '
        "`selector` not auto-generated"
    )
    assert messages[1].endswith("`selector` does not match template `labels`")


def test_job_template_and_selector_are_immutable() -> None:
    old = _job()
    new = copy.deepcopy(old)
    new["spec"]["parallelism"] = 4
    new["spec"]["activeDeadlineSeconds"] = 60
    assert _messages("batch", "Job", new, old) == []
    new["spec"]["template"]["spec"]["containers"][0]["image"] = "perl:5"
    new["spec"]["completions"] = 2
    assert _messages("batch", "Job", new, old) == [
        "spec.completions: Invalid value: 2: field is immutable",
        "spec.template: Invalid value: core.PodTemplateSpec{...}: field is immutable",
    ]


def _cron_job(schedule: str, **spec: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "metadata": {"name": "tick", "namespace": "d"},
        "spec": {
            "schedule": schedule,
            "jobTemplate": {
                "spec": {
                    "template": {
                        "spec": {
                            "containers": [{"name": "c", "image": "i"}],
                            "restartPolicy": "OnFailure",
                        }
                    }
                }
            },
            **spec,
        },
    }
    default("batch", "CronJob", obj)
    return obj


def test_cron_job_schedules() -> None:
    for schedule in ("*/5 * * * *", "@hourly", "0 0 * * MON-FRI", "@every 1h"):
        assert _messages("batch", "CronJob", _cron_job(schedule)) == [], schedule
    assert _messages("batch", "CronJob", _cron_job("")) == ["spec.schedule: Required value"]
    assert _messages("batch", "CronJob", _cron_job("* * *")) == [
        'spec.schedule: Invalid value: "* * *": Expected exactly 5 fields, found 3: * * *'
    ]
    assert _messages("batch", "CronJob", _cron_job("61 * * * *")) == [
        'spec.schedule: Invalid value: "61 * * * *": End of range (61) above maximum (59): 61'
    ]


def test_cron_job_rules() -> None:
    obj = _cron_job("@daily", concurrencyPolicy="Sometimes")
    obj["metadata"]["name"] = "x" * 53
    obj["spec"]["jobTemplate"]["spec"]["selector"] = {"matchLabels": {"a": "b"}}
    assert _messages("batch", "CronJob", obj) == [
        f'metadata.name: Invalid value: "{"x" * 53}": must be no more than 52 characters',
        'spec.concurrencyPolicy: Unsupported value: "Sometimes": supported values: "Allow", '
        '"Forbid", "Replace"',
        "spec.jobTemplate.spec.selector: Invalid value: v1.LabelSelector{MatchLabels:"
        'map[string]string{"a":"b"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: '
        "`selector` will be auto-generated",
    ]
