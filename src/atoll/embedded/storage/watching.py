"""Watches over the storage: one bounded queue per watcher, filtered as kube's watch cache does.

A watcher sees an object change through its predicate (namespace, label and field
selectors). As in kube-apiserver, an object that stops matching is reported as DELETED
and one that starts matching as ADDED, so a filtered watch always mirrors a filtered list.
A watcher that falls ``max_queue`` events behind is closed instead of growing without
bound; its client reconnects from the last revision it saw, as every client does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .store import Entry, ResourceKey

__all__ = ["Event", "Predicate", "Watcher"]

Predicate = Callable[["Entry"], bool]


@dataclass(slots=True, frozen=True)
class Event:
    type: str  # ADDED, MODIFIED, DELETED
    rk: ResourceKey
    entry: Entry
    old: Entry | None


class Watcher:
    """Receives events through ``offer`` (storage side); read with ``next`` (HTTP side)."""

    def __init__(self, *, namespace: str | None, predicate: Predicate, max_queue: int) -> None:
        self._namespace = namespace
        self._predicate = predicate
        self._queue: asyncio.Queue[tuple[str, Entry] | None] = asyncio.Queue()
        self._max_queue = max_queue
        self.closed = False
        self.overflowed = False
        self.on_close: Callable[[], None] | None = None

    def _matches(self, entry: Entry | None) -> bool:
        if entry is None:
            return False
        if self._namespace is not None and entry.namespace != self._namespace:
            return False
        return self._predicate(entry)

    def offer(self, event: Event) -> None:
        if self.closed:
            return
        new_match = self._matches(event.entry)
        old_match = event.old is not None and self._matches(event.old)
        if event.type == "DELETED":
            kind = "DELETED" if (old_match or new_match) else None
        elif new_match:
            kind = "MODIFIED" if old_match else "ADDED"
        elif old_match:
            kind = "DELETED"
        else:
            kind = None
        if kind is None:
            return
        if self._queue.qsize() >= self._max_queue:
            self.overflowed = True
            self.close()
            return
        entry = event.entry
        if kind == "DELETED" and event.type != "DELETED" and event.old is not None:
            # Leaving the selector: kube reports the last state that matched, stamped with
            # the revision of the change that made it leave.
            entry = event.old.restamped(event.entry.rv)
        self._queue.put_nowait((kind, entry))

    async def next(self, timeout: float | None = None) -> tuple[str, Entry] | None:
        """The next (type, entry); None when closed, or when ``timeout`` passes first."""
        if self.closed and self._queue.empty():
            return None
        try:
            return await asyncio.wait_for(self._queue.get(), timeout)
        except TimeoutError:
            return None

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._queue.put_nowait(None)
        if self.on_close is not None:
            self.on_close()
