"""The manager: controller selection, one reconcile step, retries by error type, lifecycle."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import pytest

from atoll.controllers.clocks import ManualClock
from atoll.controllers.queueing import QueueStats, WorkQueue
from atoll.controllers.results import PermanentError, Result, TemporaryError
from atoll.controllers.runtime import (
    ControllerContext,
    ControllerManager,
    is_enabled,
    parse_selection,
    process_next,
)

if TYPE_CHECKING:
    from conftest import Until


class FakeInformers:
    """InformerFactory's start/wait_synced: one informer that runs until cancelled."""

    def __init__(self, *, synced: bool = True) -> None:
        self.running = False
        self.stopped = False
        self.synced = asyncio.Event()
        if synced:
            self.synced.set()

    def start(self, group: asyncio.TaskGroup) -> None:
        group.create_task(self._informer())

    async def _informer(self) -> None:
        self.running = True
        try:
            await asyncio.Event().wait()
        finally:
            self.running = False
            self.stopped = True

    async def wait_synced(self) -> None:
        await self.synced.wait()


class Recorder:
    """A controller that queues some keys in setup and fails chosen keys a number of times."""

    def __init__(
        self,
        name: str,
        keys: Iterable[str] = (),
        *,
        clock: ManualClock | None = None,
        failures: dict[str, int] | None = None,
    ) -> None:
        self.name = name
        self.keys = list(keys)
        self.clock = clock
        self.failures = failures or {}
        self.attempts: list[tuple[str, float]] = []
        self.ctx: ControllerContext | None = None

    async def setup(self, ctx: ControllerContext) -> None:
        self.ctx = ctx
        for key in self.keys:
            ctx.queue.add(key)

    async def reconcile(self, key: str) -> Result:
        self.attempts.append((key, self.clock.monotonic() if self.clock else 0.0))
        if self.failures.get(key, 0) > 0:
            self.failures[key] -= 1
            raise RuntimeError(f"boom {key}")
        return Result()

    def seen(self, key: str) -> int:
        return sum(1 for k, _ in self.attempts if k == key)


def manager(*controllers: Recorder, clock: ManualClock, **kwargs: Any) -> ControllerManager:
    kwargs.setdefault("informers", FakeInformers())
    return ControllerManager(controllers, client=None, clock=clock, **kwargs)  # type: ignore[arg-type]


# -- selection ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("*", ("*",)),
        ("*,-cronjob", ("*", "-cronjob")),
        (" job , ,-cronjob ", ("job", "-cronjob")),
        ("", ()),
        (["*", " -job"], ("*", "-job")),
    ],
)
def test_parse_selection(text: str | list[str], parsed: tuple[str, ...]) -> None:
    assert parse_selection(text) == parsed


@pytest.mark.parametrize(
    ("selection", "enabled"),
    [
        (["*"], True),
        (["*", "-job"], False),
        (["-job", "*"], False),
        (["job", "-job"], True),  # the first entry naming it wins
        (["cronjob"], False),
        (["job"], True),
        ([], False),
    ],
)
def test_is_enabled_like_kube_controller_manager(selection: list[str], enabled: bool) -> None:
    assert is_enabled("job", selection) is enabled


def test_manager_enables_by_selection(clock: ManualClock) -> None:
    a, b, c = Recorder("job"), Recorder("cronjob"), Recorder("deployment")
    assert manager(a, b, c, clock=clock).enabled == ["job", "cronjob", "deployment"]
    assert manager(a, b, c, clock=clock, enabled="*,-cronjob").enabled == ["job", "deployment"]
    assert manager(a, b, c, clock=clock, enabled=["job"]).enabled == ["job"]


def test_unknown_names_are_an_error_listing_the_valid_ones(clock: ManualClock) -> None:
    a, b = Recorder("job"), Recorder("cronjob")
    with pytest.raises(ValueError) as raised:
        manager(a, b, clock=clock, enabled="*,-cronjobs,nope")
    message = str(raised.value)
    assert "'-cronjobs', 'nope'" in message
    assert "known controllers: cronjob, job" in message


def test_names_must_be_unique_and_workers_positive(clock: ManualClock) -> None:
    with pytest.raises(ValueError, match="unique: job"):
        manager(Recorder("job"), Recorder("job"), clock=clock)
    with pytest.raises(ValueError, match="at least 1"):
        manager(Recorder("job"), clock=clock, workers_per_controller=0)


# -- keys -----------------------------------------------------------------------------------


def test_context_enqueues_objects_and_their_controlling_owner(clock: ManualClock) -> None:
    mgr = manager(Recorder("replicaset"), clock=clock)
    ctx = mgr._context(mgr.controllers[0])
    ctx.enqueue({"metadata": {"namespace": "ns", "name": "rs-1"}})
    ctx.enqueue({"metadata": {"name": "node-1"}})

    def pod(api_version: str, kind: str, *, controller: bool = True) -> dict[str, Any]:
        ref = {"apiVersion": api_version, "kind": kind, "name": "rs-2", "controller": controller}
        return {"metadata": {"namespace": "ns", "name": "p", "ownerReferences": [ref]}}

    ctx.enqueue_owner(pod("apps/v1", "ReplicaSet"), kind="ReplicaSet", api_version="apps/v1")
    ctx.enqueue_owner(pod("apps/v1", "StatefulSet"), kind="ReplicaSet", api_version="apps/v1")
    ctx.enqueue_owner(pod("other/v1", "ReplicaSet"), kind="ReplicaSet", api_version="apps/v1")
    ctx.enqueue_owner(
        pod("apps/v1", "ReplicaSet", controller=False), kind="ReplicaSet", api_version="apps/v1"
    )
    ctx.enqueue_owner({"metadata": {"name": "x"}}, kind="ReplicaSet", api_version="apps/v1")
    assert list(ctx.queue._queue) == ["ns/rs-1", "node-1", "ns/rs-2"]


# -- one step -------------------------------------------------------------------------------


@pytest.fixture
def queue(clock: ManualClock) -> WorkQueue[str]:
    return WorkQueue("test", clock=clock)


async def step(queue: WorkQueue[str], outcome: Result | BaseException) -> bool:
    async def reconcile(key: str) -> Result:
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    return await process_next(queue, reconcile, name="test")


async def test_success_forgets_the_back_off(queue: WorkQueue[str], clock: ManualClock) -> None:
    queue.add_rate_limited("k")
    clock.advance(1)
    assert await step(queue, Result())
    assert queue.num_requeues("k") == 0
    assert queue.stats() == QueueStats("test", 0, 0, 0, 1, 1)


async def test_requeue_after(queue: WorkQueue[str], clock: ManualClock) -> None:
    queue.add("k")
    assert await step(queue, Result(requeue_after=30))
    assert (len(queue), queue.stats().delayed, queue.num_requeues("k")) == (0, 1, 0)
    clock.advance(30)
    assert len(queue) == 1


async def test_requeue_uses_the_back_off(queue: WorkQueue[str], clock: ManualClock) -> None:
    queue.add("k")
    assert await step(queue, Result(requeue=True))
    assert queue.num_requeues("k") == 1
    clock.advance(0.005)
    assert len(queue) == 1


async def test_temporary_error_retries_after_its_delay(
    queue: WorkQueue[str], clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    queue.add("k")
    with caplog.at_level(logging.WARNING, "atoll.controllers"):
        assert await step(queue, TemporaryError("volume not bound yet", delay=7))
    clock.advance(6.9)
    assert len(queue) == 0
    clock.advance(0.1)
    assert len(queue) == 1
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert record.exc_info is None
    assert "volume not bound yet; retrying in 7s" in record.getMessage()


async def test_permanent_error_is_logged_and_not_retried(
    queue: WorkQueue[str], clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    queue.add("k")
    with caplog.at_level(logging.WARNING, "atoll.controllers"):
        assert await step(queue, PermanentError("spec.replicas is negative"))
    clock.advance(10_000)
    assert len(queue) == 0
    assert queue.stats().delayed == 0
    [record] = caplog.records
    assert record.levelno == logging.ERROR
    assert "spec.replicas is negative; not retrying" in record.getMessage()


async def test_unexpected_errors_back_off_and_log_the_traceback_once_per_streak(
    queue: WorkQueue[str], clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    queue.add("k")
    with caplog.at_level(logging.WARNING, "atoll.controllers"):
        for delay in (0.005, 0.01, 0.02):
            assert await step(queue, RuntimeError("boom"))
            clock.advance(delay)
            assert len(queue) == 1
        assert await step(queue, Result())
        queue.add("k")
        assert await step(queue, RuntimeError("boom again"))
    assert [r.exc_info is not None for r in caplog.records] == [True, False, False, True]
    levels = [logging.ERROR, logging.WARNING, logging.WARNING, logging.ERROR]
    assert [r.levelno for r in caplog.records] == levels
    assert "failed again (2 in a row)" in caplog.records[1].getMessage()


async def test_the_key_is_done_even_when_the_reconcile_is_cancelled(
    queue: WorkQueue[str], until: Until
) -> None:
    started = asyncio.Event()

    async def hang(key: str) -> Result:
        started.set()
        await asyncio.Event().wait()
        return Result()

    queue.add("k")
    task = asyncio.create_task(process_next(queue, hang))
    await started.wait()
    queue.add("k")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert queue.stats().processing == 0
    assert len(queue) == 1, "re-added while processing, so queued again"


async def test_a_shut_down_queue_ends_the_worker(queue: WorkQueue[str]) -> None:
    queue.shutdown()
    assert not await step(queue, Result())


# -- the manager ----------------------------------------------------------------------------


async def test_a_failing_key_backs_off_while_others_continue(
    clock: ManualClock, until: Until, caplog: pytest.LogCaptureFixture
) -> None:
    jobs = Recorder("job", ["ns/bad", "ns/a", "ns/b"], clock=clock, failures={"ns/bad": 3})
    crons = Recorder("cronjob", ["ns/c"], clock=clock)
    mgr = manager(jobs, crons, clock=clock, workers_per_controller=1)
    start = clock.monotonic()
    with caplog.at_level(logging.WARNING, "atoll.controllers"):
        running = asyncio.create_task(mgr.run())
        await until(lambda: len(jobs.attempts) == 3 and len(crons.attempts) == 1)
        assert [k for k, _ in jobs.attempts] == ["ns/bad", "ns/a", "ns/b"]
        for delay in (0.005, 0.01, 0.02):
            seen = jobs.seen("ns/bad")
            await until(lambda: clock.pending == 1)  # parked on its back-off
            assert jobs.ctx is not None
            jobs.ctx.queue.add("ns/d")  # other keys go straight through meanwhile
            await until(lambda: jobs.seen("ns/d") == 1)
            jobs.attempts = [a for a in jobs.attempts if a[0] != "ns/d"]
            assert jobs.seen("ns/bad") == seen
            clock.advance(delay)

            def retried(seen: int = seen) -> bool:
                return jobs.seen("ns/bad") == seen + 1

            await until(retried)
        times = [t - start for k, t in jobs.attempts if k == "ns/bad"]
        assert times == pytest.approx([0, 0.005, 0.015, 0.035])
        assert mgr.queues["job"].num_requeues("ns/bad") == 0, "forgotten after the success"
        assert {s.name: s.retries for s in mgr.stats()} == {"job": 3, "cronjob": 0}
        mgr.stop()
        await asyncio.wait_for(running, 5)
    assert isinstance(mgr.informers, FakeInformers)
    assert mgr.informers.stopped
    assert all(q.shutting_down for q in mgr.queues.values())
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert len(tracebacks) == 1


async def test_disabled_controllers_are_not_set_up(clock: ManualClock, until: Until) -> None:
    on, off = Recorder("job", ["k"]), Recorder("cronjob", ["k"])
    mgr = manager(on, off, clock=clock, enabled="*,-cronjob")
    running = asyncio.create_task(mgr.run())
    await until(lambda: on.seen("k") == 1)
    assert off.ctx is None
    assert list(mgr.queues) == ["job"]
    mgr.stop()
    await asyncio.wait_for(running, 5)


async def test_cancelling_run_leaves_no_task_behind(clock: ManualClock, until: Until) -> None:
    hung = asyncio.Event()

    class Hanging(Recorder):
        async def reconcile(self, key: str) -> Result:
            hung.set()
            await asyncio.Event().wait()
            return Result()

    before = asyncio.all_tasks()
    mgr = manager(Hanging("job", ["k"]), Recorder("cronjob"), clock=clock)
    running = asyncio.create_task(mgr.run())
    await hung.wait()
    # run, the informers' group and its informer, the stop waiter, 2 x 2 workers
    assert len(asyncio.all_tasks() - before) == 1 + 2 + 1 + 2 * 2
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    assert asyncio.all_tasks() == before
    with pytest.raises(RuntimeError, match="runs once"):
        await mgr.run()


async def test_a_settings_snapshot_reaches_every_controller(clock: ManualClock) -> None:
    job = Recorder("job")
    mgr = manager(job, clock=clock, workers_per_controller=3, backoff_base=0.1, backoff_max=5)
    mgr.stop()
    await mgr.run()
    assert job.ctx is not None
    assert job.ctx.settings.workers_per_controller == 3
    assert job.ctx.queue.add_rate_limited("k") == 0.1
    assert job.ctx.clock is clock
    assert job.ctx.logger.name == "atoll.controllers.job"


async def test_stop_while_waiting_for_caches(clock: ManualClock, until: Until) -> None:
    informers = FakeInformers(synced=False)
    job = Recorder("job", ["k"])
    mgr = manager(job, clock=clock, informers=informers)
    running = asyncio.create_task(mgr.run())
    await until(lambda: informers.running)
    mgr.stop()
    await asyncio.wait_for(running, 5)
    assert job.attempts == [], "no worker starts before the caches are synced"
    assert informers.stopped


def test_each_controller_records_events_as_its_own_component(clock: ManualClock) -> None:
    mgr = manager(Recorder("job"), Recorder("cronjob"), clock=clock)
    recorders = [mgr._context(c).events for c in mgr.controllers]
    assert [r.component for r in recorders] == ["job-controller", "cronjob-controller"]
    assert recorders[0]._clock() == 1609556645123456000  # 2021-01-02T03:04:05.123456Z
