"""The /scale subresource of custom resources."""

from __future__ import annotations

from typing import Any

import pytest
from tests.embedded.apiserver.crds.crds_support import messages

from atoll.embedded.apiserver.crds import get_scale, scale_path_errors, set_replicas
from atoll.errors import InternalError

SCALE = {
    "specReplicasPath": ".spec.replicas",
    "statusReplicasPath": ".status.replicas",
    "labelSelectorPath": ".status.labelSelector",
}


def crontab(**parts: Any) -> dict[str, Any]:
    return {
        "apiVersion": "stable.example.com/v1",
        "kind": "CronTab",
        "metadata": {
            "name": "cron",
            "namespace": "default",
            "uid": "u-1",
            "resourceVersion": "42",
            "creationTimestamp": "2024-05-01T10:00:00Z",
            "labels": {"app": "cron"},
        },
        **parts,
    }


def test_get_scale_reads_the_configured_paths() -> None:
    obj = crontab(spec={"replicas": 3}, status={"replicas": 2, "labelSelector": "app=cron"})
    assert get_scale(obj, SCALE) == {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": "cron",
            "namespace": "default",
            "uid": "u-1",
            "resourceVersion": "42",
            "creationTimestamp": "2024-05-01T10:00:00Z",
        },
        "spec": {"replicas": 3},
        "status": {"replicas": 2, "selector": "app=cron"},
    }


def test_missing_counts_read_as_zero() -> None:
    scale = get_scale(
        crontab(spec={}), {k: v for k, v in SCALE.items() if k != "labelSelectorPath"}
    )
    assert scale["spec"] == {}
    assert scale["status"] == {"replicas": 0}


def test_set_replicas_returns_an_updated_copy() -> None:
    obj = crontab(spec={"replicas": 1})
    updated = set_replicas(obj, SCALE, 5)
    assert updated["spec"]["replicas"] == 5
    assert obj["spec"]["replicas"] == 1
    assert set_replicas(crontab(), {"specReplicasPath": ".spec.deep.replicas"}, 2)["spec"] == {
        "deep": {"replicas": 2}
    }
    with pytest.raises(InternalError):
        set_replicas(crontab(spec="x"), SCALE, 1)


def test_replica_paths_must_hold_integers() -> None:
    assert scale_path_errors(crontab(spec={"replicas": 3}), SCALE) == []
    assert messages(scale_path_errors(crontab(spec={"replicas": -1}), SCALE)) == [
        ".spec.replicas: Invalid value: -1: should be a non-negative integer"
    ]
    assert messages(scale_path_errors(crontab(spec={"replicas": 1.5}), SCALE)) == [
        ".spec.replicas: Invalid value: 0: .spec.replicas accessor error: 1.5 is of the type "
        "float64, expected int64"
    ]
    assert messages(scale_path_errors(crontab(spec={"replicas": 2**31}), SCALE)) == [
        ".spec.replicas: Invalid value: 2147483648: should be less than or equal to 2147483647"
    ]
    bad_status = crontab(status={"replicas": "2", "labelSelector": {"app": "x"}})
    assert messages(scale_path_errors(bad_status, SCALE, status=True)) == [
        ".status.replicas: Invalid value: 0: .status.replicas accessor error: 2 is of the type "
        "string, expected int64",
        '.status.labelSelector: Invalid value: "": .status.labelSelector accessor error: '
        "map[app:x] is of the type map[string]interface {}, expected string",
    ]


def test_unreadable_replicas_are_an_internal_error() -> None:
    with pytest.raises(InternalError, match="expected int64"):
        get_scale(crontab(spec={"replicas": "three"}), SCALE)
