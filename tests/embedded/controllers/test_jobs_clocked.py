"""Time in the Job controllers, on a ManualClock: active deadline, retry back-off, TTL.

The controllers run in the test's event loop against a cluster whose own ``job`` and
``ttl-after-finished`` controllers are off, so ``clock.advance()`` is the only way time passes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import ClusterProcess

from atoll.controllers.clocks import ManualClock
from atoll.controllers.runtime import Controller
from atoll.embedded.controllers import ControllerOptions
from atoll.embedded.controllers.jobs import JobController, TTLAfterFinishedController

from .batch_support import Api, eventually_async, finish_pod, in_process, start_cluster_without


@pytest.fixture(scope="module")
def quiet_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterProcess]:
    data_dir: Path = tmp_path_factory.mktemp("jobs-clocked") / "data"
    data_dir.mkdir()
    proc = start_cluster_without(data_dir, "job", "ttl-after-finished")
    yield proc
    proc.stop()


def _job_controller(clock: ManualClock) -> Controller:
    return JobController(ControllerOptions(clock=clock))


def _ttl_controller(clock: ManualClock) -> Controller:
    return TTLAfterFinishedController(ControllerOptions(clock=clock))


def _factories() -> list[Callable[[ManualClock], Controller]]:
    return [_job_controller, _ttl_controller]


def _job(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name},
        "spec": {
            **spec,
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "work", "image": "busybox"}],
                }
            },
        },
    }


def _ns(cluster: ClusterProcess, name: str) -> str:
    cluster.kubectl("create", "namespace", name)
    return name


def _jobs_path(namespace: str, name: str = "") -> str:
    return f"/apis/batch/v1/namespaces/{namespace}/jobs" + (f"/{name}" if name else "")


def _live_pods(api: Api, namespace: str, job: str) -> list[dict[str, Any]]:
    return [
        p
        for p in api.pods(namespace, f"job-name={job}")
        if p["status"].get("phase") not in ("Succeeded", "Failed")
        and not p["metadata"].get("deletionTimestamp")
    ]


def _condition(api: Api, namespace: str, name: str) -> dict[str, Any] | None:
    job = api.get_or_none(_jobs_path(namespace, name))
    conditions = ((job or {}).get("status") or {}).get("conditions") or []
    return next((c for c in conditions if c["status"] == "True"), None)


async def test_active_deadline_fails_the_job_and_deletes_its_pods(
    quiet_cluster: ClusterProcess,
) -> None:
    api, ns = Api(quiet_cluster), _ns(quiet_cluster, "deadline")
    async with in_process(quiet_cluster, _factories()) as clock:
        api.post(_jobs_path(ns), _job("slow", activeDeadlineSeconds=30, parallelism=2))
        await eventually_async(lambda: len(_live_pods(api, ns, "slow")) == 2)
        clock.advance(29)
        assert _condition(api, ns, "slow") is None
        clock.advance(1.5)
        condition = await eventually_async(lambda: _condition(api, ns, "slow"), nudge=clock)
        assert (condition["type"], condition["reason"], condition["message"]) == (
            "Failed",
            "DeadlineExceeded",
            "Job was active longer than specified deadline",
        )
        await eventually_async(lambda: not _live_pods(api, ns, "slow"), nudge=clock)
        # The status and the Events are separate writes that may land a moment later.
        status = await eventually_async(
            lambda: (
                (found := api.get(_jobs_path(ns, "slow"))["status"]).get("failed") == 2 and found
            )
        )
        assert "active" not in status
        events = await eventually_async(
            lambda: (
                (found := api.events(ns, "slow"))
                and sum(1 for e in found if e[1] == "SuccessfulDelete") >= 2
                and found
            )
        )
        assert ("Warning", "DeadlineExceeded", condition["message"]) in events
        assert sum(1 for e in events if e[1] == "SuccessfulDelete") == 2


async def test_replacement_pods_wait_for_the_back_off(quiet_cluster: ClusterProcess) -> None:
    api, ns = Api(quiet_cluster), _ns(quiet_cluster, "backoff")
    async with in_process(quiet_cluster, _factories()) as clock:
        api.post(_jobs_path(ns), _job("retry", backoffLimit=5))
        (first,) = await eventually_async(lambda: _live_pods(api, ns, "retry"))
        finish_pod(api, first, "Failed", when=_stamp(clock.now()))
        (second,) = await eventually_async(lambda: _live_pods(api, ns, "retry"))  # at once
        finish_pod(api, second, "Failed", when=_stamp(clock.now()))
        await eventually_async(
            lambda: api.get(_jobs_path(ns, "retry"))["status"].get("failed") == 2
        )
        assert not _live_pods(api, ns, "retry"), "the second retry waits 10 s"
        clock.advance(11)
        (third,) = await eventually_async(lambda: _live_pods(api, ns, "retry"))
        assert third["metadata"]["name"] not in (
            first["metadata"]["name"],
            second["metadata"]["name"],
        )
        assert _condition(api, ns, "retry") is None


async def test_ttl_after_finished_deletes_the_job(quiet_cluster: ClusterProcess) -> None:
    api, ns = Api(quiet_cluster), _ns(quiet_cluster, "ttl")
    async with in_process(quiet_cluster, _factories()) as clock:
        api.post(_jobs_path(ns), _job("brief", ttlSecondsAfterFinished=100))
        (pod,) = await eventually_async(lambda: _live_pods(api, ns, "brief"))
        finish_pod(api, pod, "Succeeded")
        await eventually_async(lambda: _condition(api, ns, "brief"))
        clock.advance(99)
        assert api.get_or_none(_jobs_path(ns, "brief")) is not None
        clock.advance(2)
        await eventually_async(lambda: api.get_or_none(_jobs_path(ns, "brief")) is None)


def _stamp(when: datetime) -> str:
    return (when.astimezone(UTC) - timedelta(microseconds=when.microsecond)).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
