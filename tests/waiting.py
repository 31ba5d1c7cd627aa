"""``eventually``: poll a condition with a deadline; tests never sleep to synchronise."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal, TypeVar

__all__ = ["eventually"]

T = TypeVar("T")


def eventually(
    probe: Callable[[], T | Literal[False] | None], *, timeout: float = 30.0, what: str = ""
) -> T:
    """Call ``probe`` until it returns something truthy; return that, or fail at the deadline."""
    give_up = time.monotonic() + timeout
    while True:
        last = probe()
        if last:
            return last
        if time.monotonic() > give_up:
            shown = what or getattr(probe, "__qualname__", repr(probe))
            raise AssertionError(f"not reached within {timeout} s: {shown} (last: {last!r})")
        time.sleep(0.05)  # a poll interval, not a synchronisation point
