"""ManualClock fires timers in time order; deadline() times out on the injected clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from atoll.controllers.clocks import ManualClock, SystemClock, deadline

if TYPE_CHECKING:
    from conftest import Until


def test_timers_fire_in_order_at_their_own_instant(clock: ManualClock) -> None:
    fired: list[tuple[str, float]] = []
    clock.call_later(2, lambda: fired.append(("b", clock.monotonic())))
    clock.call_later(1, lambda: fired.append(("a", clock.monotonic())))
    cancelled = clock.call_later(1.5, lambda: fired.append(("x", clock.monotonic())))
    cancelled.cancel()
    start = clock.monotonic()
    assert clock.pending == 2
    clock.advance(1)
    assert fired == [("a", start + 1)]
    clock.advance(5)
    assert fired == [("a", start + 1), ("b", start + 2)]
    assert clock.monotonic() == start + 6
    assert clock.pending == 0


def test_wall_clock_moves_with_monotonic(clock: ManualClock) -> None:
    before = clock.now()
    clock.advance(2.5)
    assert clock.now() - before == timedelta(seconds=2.5)
    assert clock.now().tzinfo is UTC
    with pytest.raises(ValueError):
        clock.advance(-1)


async def test_sleep_returns_when_time_is_advanced(clock: ManualClock, until: Until) -> None:
    sleeper = asyncio.create_task(clock.sleep(10))
    await until(lambda: clock.pending == 1)
    clock.advance(9)
    await asyncio.sleep(0)
    assert not sleeper.done()
    clock.advance(1)
    await until(sleeper.done)
    sleeper.result()


async def test_cancelled_sleep_leaves_no_timer(clock: ManualClock, until: Until) -> None:
    sleeper = asyncio.create_task(clock.sleep(10))
    await until(lambda: clock.pending == 1)
    sleeper.cancel()
    with pytest.raises(asyncio.CancelledError):
        await sleeper
    assert clock.pending == 0


async def test_deadline_raises_timeout_on_the_injected_clock(
    clock: ManualClock, until: Until
) -> None:
    never = asyncio.Event()

    async def overrun() -> None:
        async with deadline(clock, 3):
            await never.wait()

    task = asyncio.create_task(overrun())
    await until(lambda: clock.pending == 1)
    clock.advance(3)
    with pytest.raises(TimeoutError):
        await task


async def test_deadline_passes_results_and_outside_cancellation(
    clock: ManualClock, until: Until
) -> None:
    async with deadline(clock, 3):
        value = 42
    assert value == 42
    assert clock.pending == 0

    async def wait_forever() -> None:
        async with deadline(clock, 3):
            await asyncio.Event().wait()

    task = asyncio.create_task(wait_forever())
    await until(lambda: clock.pending == 1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert clock.pending == 0


async def test_system_clock_is_real_time() -> None:
    system = SystemClock()
    assert abs(system.now() - datetime.now(UTC)) < timedelta(seconds=5)
    fired = asyncio.Event()
    system.call_later(0, fired.set)
    await fired.wait()
    await system.sleep(0)
