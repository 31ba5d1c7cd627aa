"""WorkQueue: client-go's dedup, dirty re-queue, delays, per-key back-off and shutdown."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest

from atoll.controllers.clocks import ManualClock
from atoll.controllers.queueing import ExponentialBackoff, QueueShutDown, WorkQueue

if TYPE_CHECKING:
    from conftest import Until


@pytest.fixture
def queue(clock: ManualClock) -> WorkQueue[str]:
    return WorkQueue("test", clock=clock)


async def test_a_key_is_queued_once(queue: WorkQueue[str]) -> None:
    for key in ("a", "b", "a", "a", "b", "c"):
        queue.add(key)
    assert len(queue) == 3
    assert [await queue.get() for _ in range(3)] == ["a", "b", "c"]
    assert queue.stats().adds == 3


async def test_a_key_re_added_while_processing_comes_back_after_done(
    queue: WorkQueue[str],
) -> None:
    queue.add("a")
    assert await queue.get() == "a"
    queue.add("a")
    queue.add("a")
    assert len(queue) == 0, "not handed to a second worker while the first holds it"
    assert queue.stats().processing == 1
    queue.done("a")
    assert len(queue) == 1
    assert await queue.get() == "a"
    queue.done("a")
    assert len(queue) == 0


async def test_done_without_re_add_forgets_the_key(queue: WorkQueue[str]) -> None:
    queue.add("a")
    await queue.get()
    queue.done("a")
    assert len(queue) == 0
    assert queue.stats().processing == 0
    queue.done("never-seen")  # harmless, as in client-go


async def test_a_waiting_get_wakes_on_add(queue: WorkQueue[str], until: Until) -> None:
    getters = [asyncio.create_task(queue.get()) for _ in range(2)]
    await asyncio.sleep(0)
    assert not any(g.done() for g in getters)
    queue.add("a")
    await until(lambda: any(g.done() for g in getters))
    queue.add("b")
    await until(lambda: all(g.done() for g in getters))
    assert sorted(g.result() for g in getters) == ["a", "b"]


async def test_add_after_waits_on_the_clock(queue: WorkQueue[str], clock: ManualClock) -> None:
    queue.add_after("a", 5)
    assert len(queue) == 0
    assert queue.stats().delayed == 1
    clock.advance(4.9)
    assert len(queue) == 0
    clock.advance(0.1)
    assert len(queue) == 1
    assert queue.stats().delayed == 0
    assert await queue.get() == "a"


async def test_the_earliest_delay_wins_and_one_timer_serves_all(
    queue: WorkQueue[str], clock: ManualClock
) -> None:
    queue.add_after("a", 10)
    queue.add_after("a", 2)  # earlier: moves it forward
    queue.add_after("a", 30)  # later: ignored
    queue.add_after("b", 4)
    queue.add_after("c", 1)
    assert clock.pending == 1
    clock.advance(1)
    assert [await queue.get()] == ["c"]
    clock.advance(1)
    assert await queue.get() == "a"
    clock.advance(2)
    assert await queue.get() == "b"
    clock.advance(100)
    assert len(queue) == 0, "the superseded delays of a do not fire again"
    assert clock.pending == 0


async def test_a_delayed_key_wakes_a_waiting_get(
    queue: WorkQueue[str], clock: ManualClock, until: Until
) -> None:
    getter = asyncio.create_task(queue.get())
    queue.add_after("a", 3)
    await asyncio.sleep(0)
    assert not getter.done()
    clock.advance(3)
    await until(getter.done)
    assert getter.result() == "a"


async def test_non_positive_delay_adds_at_once(queue: WorkQueue[str], clock: ManualClock) -> None:
    queue.add_after("a", 0)
    queue.add_after("b", -1)
    assert len(queue) == 2
    assert clock.pending == 0


async def test_rate_limited_adds_back_off_exponentially_until_forgotten(
    queue: WorkQueue[str], clock: ManualClock
) -> None:
    delays = [queue.add_rate_limited("a") for _ in range(4)]
    assert delays == [0.005, 0.01, 0.02, 0.04]
    assert queue.num_requeues("a") == 4
    assert queue.add_rate_limited("b") == 0.005, "back-off is per key"
    clock.advance(0.005)
    assert len(queue) == 2, "a's first (earliest) delay releases it"
    queue.forget("a")
    assert queue.num_requeues("a") == 0
    assert queue.add_rate_limited("a") == 0.005
    assert queue.stats().retries == 6


def test_back_off_is_capped() -> None:
    backoff = ExponentialBackoff()
    delays = [backoff.when("k") for _ in range(40)]
    assert delays[-1] == 1000.0
    assert max(delays) == 1000.0
    assert delays.index(1000.0) == 18  # 0.005 * 2**18 = 1310.72 > 1000
    for _ in range(2000):
        backoff.when("k")
    assert backoff.when("k") == 1000.0
    with pytest.raises(ValueError):
        ExponentialBackoff(0, 1)


async def test_shutdown_stops_getters_and_refuses_keys(
    queue: WorkQueue[str], clock: ManualClock, until: Until
) -> None:
    getter = asyncio.create_task(queue.get())
    queue.add_after("later", 5)
    await asyncio.sleep(0)
    queue.shutdown()
    await until(getter.done)
    with pytest.raises(QueueShutDown):
        getter.result()
    assert clock.pending == 0, "delayed keys are dropped"
    queue.add("a")
    queue.add_after("b", 1)
    queue.add_rate_limited("c")
    clock.advance(10)
    assert len(queue) == 0
    assert queue.shutting_down
    with pytest.raises(QueueShutDown):
        await queue.get()


async def test_shutdown_does_not_drain(queue: WorkQueue[str]) -> None:
    queue.add("a")
    queue.add("b")
    assert await queue.get() == "a"
    queue.add("a")
    queue.shutdown()
    with pytest.raises(QueueShutDown):
        await queue.get()
    queue.done("a")  # the worker finishing its key after shutdown is fine
    assert len(queue) == 1, "b stays where it was; a is not queued again"


async def test_stats_snapshot(queue: WorkQueue[str], clock: ManualClock) -> None:
    queue.add("a")
    queue.add("b")
    await queue.get()
    queue.add_after("c", 1)
    stats = queue.stats()
    assert (stats.name, stats.depth, stats.processing, stats.delayed) == ("test", 1, 1, 1)
    assert (stats.adds, stats.retries) == (2, 1)
    clock.advance(1)
    assert queue.stats().adds == 3
