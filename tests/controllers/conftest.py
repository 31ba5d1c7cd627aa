"""Helpers for the controller runtime's tests: a manual clock and polling with a deadline."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import pytest

from atoll.controllers.clocks import ManualClock

Until = Callable[[Callable[[], bool]], Awaitable[None]]


async def _until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """Yield to the event loop until ``predicate()`` holds; fail after ``timeout`` real seconds."""
    give_up = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > give_up:
            raise AssertionError("condition not reached before the deadline")
        await asyncio.sleep(0)


@pytest.fixture
def until() -> Until:
    return _until


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()
