"""The Job controller in the embedded cluster: pods from the template, completion, failure.

Nothing runs pods yet, so each test writes the kubelet's part (a pod's terminal phase) itself.
Time-based behaviour (deadlines, back-off, TTL) is in ``test_jobs_clocked.py``.
"""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import ClusterProcess

from .batch_support import Api, eventually, finish_pod


def _job(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name},
        "spec": {
            **spec,
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "work", "image": "busybox", "command": ["true"]}],
                },
            },
        },
    }


def _create(api: Api, namespace: str, job: dict[str, Any]) -> dict[str, Any]:
    made: dict[str, Any] = api.post(f"/apis/batch/v1/namespaces/{namespace}/jobs", job)
    return made


def _get(api: Api, namespace: str, name: str) -> dict[str, Any]:
    job: dict[str, Any] = api.get(f"/apis/batch/v1/namespaces/{namespace}/jobs/{name}")
    return job


def _active_pods(api: Api, namespace: str, name: str, count: int) -> list[dict[str, Any]] | None:
    pods = [
        p
        for p in api.pods(namespace, f"job-name={name}")
        if p["status"].get("phase") not in ("Succeeded", "Failed")
        and not p["metadata"].get("deletionTimestamp")
    ]
    return pods if len(pods) == count else None


def test_job_runs_pods_until_completions_succeed(cluster: ClusterProcess, namespace: str) -> None:
    api = Api(cluster)
    job = _create(api, namespace, _job("count", completions=3, parallelism=2))
    uid = job["metadata"]["uid"]
    pods = eventually(lambda: _active_pods(api, namespace, "count", 2))
    for pod in pods:
        assert pod["metadata"]["generateName"] == "count-"
        assert pod["metadata"]["labels"] == {
            "app": "count",
            "controller-uid": uid,
            "job-name": "count",
        }
        (ref,) = pod["metadata"]["ownerReferences"]
        assert ref == {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "name": "count",
            "uid": uid,
            "controller": True,
            "blockOwnerDeletion": True,
        }
    status = eventually(lambda: _get(api, namespace, "count")["status"].get("active") == 2)
    assert status
    for pod in pods:
        finish_pod(api, pod, "Succeeded")
    (last,) = eventually(lambda: _active_pods(api, namespace, "count", 1))
    assert last["metadata"]["name"] not in {p["metadata"]["name"] for p in pods}
    finish_pod(api, last, "Succeeded")

    done = eventually(lambda: _finished(api, namespace, "count"))
    status = done["status"]
    assert status["succeeded"] == 3 and "active" not in status and "failed" not in status
    assert status["startTime"] and status["completionTime"]
    (condition,) = status["conditions"]
    assert condition["type"] == "Complete" and condition["status"] == "True"
    assert condition["lastProbeTime"] and condition["lastTransitionTime"]
    assert len(api.pods(namespace, "job-name=count")) == 3, "no pod beyond the completions"
    events = eventually(
        lambda: (
            (e := api.events(namespace, "count"))
            and ("Normal", "Completed", "Job completed") in e
            and e
        )
    )
    created = [e for e in events if e[1] == "SuccessfulCreate"]
    assert len(created) == 3 and all(e[2].startswith("Created pod: count-") for e in created)
    waited = cluster.kubectl("wait", "-n", namespace, "--for=condition=complete", "job/count")
    assert "job.batch/count condition met" in waited


def _finished(api: Api, namespace: str, name: str) -> dict[str, Any] | None:
    job = _get(api, namespace, name)
    conditions = job["status"].get("conditions") or []
    return job if any(c["status"] == "True" for c in conditions) else None


def test_backoff_limit_fails_the_job(cluster: ClusterProcess, namespace: str) -> None:
    api = Api(cluster)
    _create(api, namespace, _job("flaky", backoffLimit=1))
    (first,) = eventually(lambda: _active_pods(api, namespace, "flaky", 1))
    finish_pod(api, first, "Failed")
    # The first failure is retried at once (kube 1.20), the second exceeds backoffLimit 1.
    (second,) = eventually(lambda: _active_pods(api, namespace, "flaky", 1))
    assert second["metadata"]["name"] != first["metadata"]["name"]
    finish_pod(api, second, "Failed")

    done = eventually(lambda: _finished(api, namespace, "flaky"))
    status = done["status"]
    assert status["failed"] == 2 and "succeeded" not in status and "completionTime" not in status
    (condition,) = status["conditions"]
    assert (condition["type"], condition["reason"], condition["message"]) == (
        "Failed",
        "BackoffLimitExceeded",
        "Job has reached the specified backoff limit",
    )
    event = ("Warning", "BackoffLimitExceeded", "Job has reached the specified backoff limit")
    eventually(lambda: event in api.events(namespace, "flaky"))
    waited = cluster.kubectl("wait", "-n", namespace, "--for=condition=failed", "job/flaky")
    assert "condition met" in waited


def test_lower_parallelism_deletes_pods(cluster: ClusterProcess, namespace: str) -> None:
    api = Api(cluster)
    _create(api, namespace, _job("wide", completions=6, parallelism=3))
    eventually(lambda: _active_pods(api, namespace, "wide", 3))
    api.patch(f"/apis/batch/v1/namespaces/{namespace}/jobs/wide", {"spec": {"parallelism": 1}})
    eventually(lambda: _active_pods(api, namespace, "wide", 1))
    assert eventually(lambda: _get(api, namespace, "wide")["status"].get("active") == 1)
    deleted = [e for e in api.events(namespace, "wide") if e[1] == "SuccessfulDelete"]
    assert len(deleted) == 2 and all(e[2].startswith("Deleted pod: wide-") for e in deleted)


def test_work_queue_job_completes_when_one_pod_succeeded(
    cluster: ClusterProcess, namespace: str
) -> None:
    api = Api(cluster)
    _create(api, namespace, _job("queue", parallelism=2))
    pods = eventually(lambda: _active_pods(api, namespace, "queue", 2))
    finish_pod(api, pods[0], "Succeeded")
    # One success: no new pod is started, the other keeps running until it is done too.
    assert eventually(lambda: _get(api, namespace, "queue")["status"].get("succeeded") == 1)
    assert _active_pods(api, namespace, "queue", 1) is not None
    assert _finished(api, namespace, "queue") is None
    finish_pod(api, pods[1], "Succeeded")
    done = eventually(lambda: _finished(api, namespace, "queue"))
    assert done["status"]["conditions"][0]["type"] == "Complete"
    assert done["status"]["succeeded"] == 2


def test_kubectl_describe_shows_job_pods(cluster: ClusterProcess, namespace: str) -> None:
    cluster.kubectl(
        "create", "job", "hello", "-n", namespace, "--image=busybox", "--", "echo", "hi"
    )
    api = Api(cluster)
    (pod,) = eventually(lambda: _active_pods(api, namespace, "hello", 1))
    finish_pod(api, pod, "Succeeded")
    eventually(lambda: _finished(api, namespace, "hello"))
    eventually(lambda: ("Normal", "Completed", "Job completed") in api.events(namespace, "hello"))
    described = cluster.kubectl("describe", "job", "hello", "-n", namespace)
    assert "1 Succeeded / 0 Failed" in described
    assert "SuccessfulCreate" in described and "Completed" in described
    listed = json.loads(cluster.kubectl("get", "jobs", "-n", namespace, "-o", "json"))
    assert listed["items"][0]["status"]["succeeded"] == 1
