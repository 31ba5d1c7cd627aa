"""The CronJob controller on a ManualClock: schedules, concurrency, deadlines, history, zones.

The controller runs in the test's event loop against a cluster whose own ``cronjob``
controller is off; its ``job`` controller is on, so finishing a Job's pod finishes the Job.
Time passes only through ``clock.advance()``: no test waits for a schedule.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from tests.conftest import ClusterProcess

from atoll.controllers.clocks import ManualClock
from atoll.controllers.leadership import parse_time
from atoll.controllers.runtime import Controller
from atoll.embedded.controllers import ControllerOptions
from atoll.embedded.controllers.cronjobs import CronJobController, job_name

from .batch_support import (
    Api,
    eventually_async,
    finish_pod,
    in_process,
    start_cluster_without,
)


@pytest.fixture(scope="module")
def quiet_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterProcess]:
    data_dir: Path = tmp_path_factory.mktemp("cronjobs") / "data"
    data_dir.mkdir()
    proc = start_cluster_without(data_dir, "cronjob")
    yield proc
    proc.stop()


def _controller(clock: ManualClock) -> Controller:
    return CronJobController(ControllerOptions(clock=clock))


@contextlib.asynccontextmanager
async def staged(cluster: ClusterProcess, namespace: str) -> AsyncIterator[Scene]:
    """The controller running on a fresh clock, a namespace; its CronJobs go at the end."""
    async with in_process(cluster, [_controller]) as clock:
        scene = Scene(cluster, namespace, clock)
        try:
            yield scene
        finally:
            cluster.kubectl("delete", "cronjobs", "--all", "-n", namespace)


class Scene:
    """One namespace of the quiet cluster, one CronJob, the clock that drives it."""

    def __init__(self, cluster: ClusterProcess, namespace: str, clock: ManualClock) -> None:
        self.api, self.ns, self.clock = Api(cluster), namespace, clock
        cluster.kubectl("create", "namespace", namespace)

    @property
    def base(self) -> str:
        return f"/apis/batch/v1/namespaces/{self.ns}/cronjobs"

    def create(self, name: str, schedule: str = "* * * * *", **spec: Any) -> dict[str, Any]:
        body = {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": {"name": name},
            "spec": {
                "schedule": schedule,
                **spec,
                "jobTemplate": {
                    "metadata": {"labels": {"team": "a"}, "annotations": {"note": "x"}},
                    "spec": {
                        "template": {
                            "spec": {
                                "restartPolicy": "Never",
                                "containers": [{"name": "c", "image": "busybox"}],
                            }
                        }
                    },
                },
            },
        }
        made: dict[str, Any] = self.api.post(self.base, body)
        return made

    def cronjob(self, name: str) -> dict[str, Any]:
        found: dict[str, Any] = self.api.get(f"{self.base}/{name}")
        return found

    def jobs(self) -> dict[str, dict[str, Any]]:
        listed = self.api.get(f"/apis/batch/v1/namespaces/{self.ns}/jobs")
        return {j["metadata"]["name"]: j for j in listed["items"]}

    async def settled(self) -> None:
        """Wait until the controller has looked and set its timer for the next run."""
        await eventually_async(lambda: self.clock.next_deadline() is not None)

    async def advance_to(self, when: datetime) -> None:
        await self.settled()
        self.clock.advance((when - self.clock.now()).total_seconds())

    def next_minute(self, created: dict[str, Any]) -> datetime:
        stamp = parse_time(created["metadata"]["creationTimestamp"])
        assert stamp is not None
        start = max(stamp, self.clock.now())
        return start.replace(second=0, microsecond=0) + timedelta(minutes=1)

    async def job_appears(self, name: str) -> dict[str, Any]:
        return await eventually_async(lambda: self.jobs().get(name), nudge=self.clock)

    async def complete(self, job: str) -> None:
        """Finish the Job's pod; the cluster's job controller then marks the Job Complete."""
        (pod,) = await eventually_async(lambda: self.api.pods(self.ns, f"job-name={job}"))
        finish_pod(self.api, pod, "Succeeded")
        await eventually_async(lambda: self.jobs()[job]["status"].get("completionTime"))

    def events(self, name: str) -> list[tuple[str, str, str]]:
        return self.api.events(self.ns, name)


async def test_jobs_start_on_schedule_named_by_minute(quiet_cluster: ClusterProcess) -> None:
    async with staged(quiet_cluster, "cron-basic") as scene:
        made = scene.create("tick")
        first = scene.next_minute(made)
        await scene.advance_to(first + timedelta(seconds=1))
        name = job_name("tick", first)
        assert name == f"tick-{int(first.timestamp()) // 60}"
        job = await scene.job_appears(name)
        assert job["metadata"]["labels"]["team"] == "a"
        assert job["metadata"]["annotations"] == {"note": "x"}
        (ref,) = job["metadata"]["ownerReferences"]
        assert ref["kind"] == "CronJob" and ref["uid"] == made["metadata"]["uid"]
        assert ref["controller"] is True
        status = await eventually_async(
            lambda: (
                scene.cronjob("tick")["status"].get("lastScheduleTime")
                and scene.cronjob("tick")["status"]
            )
        )
        assert status["lastScheduleTime"] == first.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert [a["name"] for a in status["active"]] == [name]
        assert ("Normal", "SuccessfulCreate", f"Created job {name}") in scene.events("tick")

        second = first + timedelta(minutes=1)
        await scene.advance_to(second + timedelta(seconds=1))
        await scene.job_appears(job_name("tick", second))  # Allow: both run
        active = await eventually_async(
            lambda: len(scene.cronjob("tick")["status"].get("active") or []) == 2
        )
        assert active


async def test_forbid_waits_for_the_running_job(quiet_cluster: ClusterProcess) -> None:
    async with staged(quiet_cluster, "cron-forbid") as scene:
        clock = scene.clock
        made = scene.create("solo", concurrencyPolicy="Forbid")
        first = scene.next_minute(made)
        await scene.advance_to(first + timedelta(seconds=1))
        name = job_name("solo", first)
        await scene.job_appears(name)
        second = first + timedelta(minutes=1)
        await scene.advance_to(second + timedelta(seconds=1))
        blocked = (
            "Normal",
            "JobAlreadyActive",
            "Not starting job because prior execution is running and concurrency policy is Forbid",
        )
        await eventually_async(lambda: blocked in scene.events("solo"), nudge=clock)
        assert list(scene.jobs()) == [name]

        await scene.complete(name)
        saw = ("Normal", "SawCompletedJob", f"Saw completed job: {name}, status: Complete")
        await eventually_async(lambda: saw in scene.events("solo"))
        # The run it held back starts now: no starting deadline, so it is not too late.
        await scene.job_appears(job_name("solo", second))
        finished = scene.jobs()[name]["status"]["completionTime"]
        await eventually_async(
            lambda: scene.cronjob("solo")["status"].get("lastSuccessfulTime") == finished
        )


async def test_replace_deletes_the_running_job(quiet_cluster: ClusterProcess) -> None:
    async with staged(quiet_cluster, "cron-replace") as scene:
        made = scene.create("swap", concurrencyPolicy="Replace")
        first = scene.next_minute(made)
        await scene.advance_to(first + timedelta(seconds=1))
        old = job_name("swap", first)
        await scene.job_appears(old)
        second = first + timedelta(minutes=1)
        await scene.advance_to(second + timedelta(seconds=1))
        new = job_name("swap", second)
        await scene.job_appears(new)
        await eventually_async(lambda: old not in scene.jobs())
        assert ("Normal", "SuccessfulDelete", f"Deleted job {old}") in scene.events("swap")
        active = await eventually_async(
            lambda: (
                [a["name"] for a in scene.cronjob("swap")["status"].get("active") or []] == [new]
            )
        )
        assert active


async def test_history_limit_deletes_the_oldest_finished_job(
    quiet_cluster: ClusterProcess,
) -> None:
    async with staged(quiet_cluster, "cron-history") as scene:
        clock = scene.clock
        made = scene.create("keep", successfulJobsHistoryLimit=1)
        first = scene.next_minute(made)
        names = []
        for minute in range(2):
            when = first + timedelta(minutes=minute)
            await scene.advance_to(when + timedelta(seconds=1))
            names.append(job_name("keep", when))
            await scene.job_appears(names[-1])
            await scene.complete(names[-1])
        await eventually_async(lambda: list(scene.jobs()) == [names[1]], nudge=clock)
        assert ("Normal", "SuccessfulDelete", f"Deleted job {names[0]}") in scene.events("keep")


async def test_suspended_and_late_runs_do_not_start(quiet_cluster: ClusterProcess) -> None:
    async with staged(quiet_cluster, "cron-late") as scene:
        made = scene.create("late", startingDeadlineSeconds=10)
        scene.create("paused", suspend=True)
        first = scene.next_minute(made)
        await scene.advance_to(first + timedelta(seconds=30))  # 30 s late, 10 s allowed
        second = first + timedelta(minutes=1)
        await scene.advance_to(second + timedelta(seconds=1))  # on time
        await scene.job_appears(job_name("late", second))
        assert job_name("late", first) not in scene.jobs()
        assert not [j for j in scene.jobs() if j.startswith("paused-")]


async def test_too_many_missed_times_runs_only_the_latest(quiet_cluster: ClusterProcess) -> None:
    async with staged(quiet_cluster, "cron-missed") as scene:
        clock = scene.clock
        made = scene.create("behind", suspend=True)
        first = scene.next_minute(made)
        clock.advance((first - clock.now()).total_seconds() + 150 * 60 + 1)
        scene.api.patch(f"{scene.base}/behind", {"spec": {"suspend": False}})
        latest = first + timedelta(minutes=150)
        await scene.job_appears(job_name("behind", latest))
        assert len(scene.jobs()) == 1
        warning = (
            "Warning",
            "TooManyMissedTimes",
            "too many missed start times: 151. Set or decrease .spec.startingDeadlineSeconds "
            "or check clock skew",
        )
        assert warning in scene.events("behind")


async def test_schedule_in_a_time_zone(quiet_cluster: ClusterProcess) -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    async with staged(quiet_cluster, "cron-zone") as scene:
        made = scene.create("morning", "0 9 * * *", timeZone="Asia/Tokyo")
        start = scene.next_minute(made).astimezone(tokyo)
        nine = start.replace(hour=9, minute=0)
        if nine < start:
            nine += timedelta(days=1)
        await scene.advance_to(nine.astimezone(UTC) + timedelta(seconds=1))
        job = await scene.job_appears(job_name("morning", nine))
        assert job["metadata"]["name"].endswith(str(int(nine.timestamp()) // 60))
        status = await eventually_async(
            lambda: scene.cronjob("morning")["status"].get("lastScheduleTime")
        )
        assert parse_time(status) == nine
