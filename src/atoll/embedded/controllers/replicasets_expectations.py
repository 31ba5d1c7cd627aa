"""Expectations: what a replica controller has asked for and not yet seen in its cache.

A controller that creates three Pods sees them come back one watch event at a time; each
event queues the owner again, and a reconcile that ran now would count the Pods not yet in
the cache as missing and create them a second time. client-go's answer
(``ControllerExpectations`` + ``UIDTrackingControllerExpectations``) is kept here: before
writing, the controller records how many creations and which deletions it expects; watch
handlers count them off as they arrive; until they all have, a reconcile may update status
but must not create or delete. Expectations that are never met (an event lost, a write that
failed silently) expire after five minutes, so the owner is managed again.

Deletions are tracked by Pod key, not by count, so the two events a graceful deletion
produces (update with ``deletionTimestamp``, then delete) count once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from atoll.controllers.clocks import Clock

__all__ = ["EXPECTATIONS_TIMEOUT", "Expectations"]

EXPECTATIONS_TIMEOUT = 5 * 60.0  # upstream ExpectationsTimeout


@dataclass(slots=True)
class _Expected:
    adds: int
    deletes: set[str] = field(default_factory=set)
    since: float = 0.0


class Expectations:
    """Per owner key: creations still expected, and the keys of Pods expected to go."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._by_key: dict[str, _Expected] = {}

    def satisfied(self, key: str) -> bool:
        """True when nothing is outstanding (or it expired): the owner may be managed."""
        expected = self._by_key.get(key)
        if expected is None:
            return True
        if expected.adds <= 0 and not expected.deletes:
            return True
        return self._clock.monotonic() - expected.since > EXPECTATIONS_TIMEOUT

    def expect_creations(self, key: str, count: int) -> None:
        self._by_key[key] = _Expected(count, since=self._clock.monotonic())

    def expect_deletions(self, key: str, pod_keys: Iterable[str]) -> None:
        self._by_key[key] = _Expected(0, set(pod_keys), since=self._clock.monotonic())

    def creation_observed(self, key: str) -> None:
        expected = self._by_key.get(key)
        if expected is not None:
            expected.adds -= 1

    def deletion_observed(self, key: str, pod_key: str) -> None:
        expected = self._by_key.get(key)
        if expected is not None:
            expected.deletes.discard(pod_key)

    def forget(self, key: str) -> None:
        """The owner is gone: drop what was expected of it."""
        self._by_key.pop(key, None)
