"""Following a collection through list + watch: the kubelet stand-in's feed and the waits.

``watch_events`` is the informer loop written once: list, watch from the list's
resourceVersion, re-watch from the last version seen when a stream ends, relist on 410
Gone. ``Follower`` runs it in the background and keeps the names of the objects that meet
a condition, so "until every Deployment is rolled out" is decided on each event, not by
polling, and the moment it is met is read within a few milliseconds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import orjson

from .client import RequestFailed

__all__ = ["RELISTED", "Follower", "Object", "follow", "get_json", "watch_events"]

Object = dict[str, Any]
RELISTED = "RELISTED"
"""The event type ``watch_events`` yields (with an empty object) before a (re)list's items."""


async def get_json(
    session: aiohttp.ClientSession, path: str, *, params: Mapping[str, str] | None = None
) -> Any:
    async with session.get(path, params=params) as resp:
        body = await resp.read()
        if resp.status != 200:
            raise RequestFailed(f"GET {path}: {resp.status} {body[:300]!r}")
    return orjson.loads(body)


async def watch_events(
    session: aiohttp.ClientSession, path: str, *, params: Mapping[str, str] | None = None
) -> AsyncIterator[tuple[str, Object]]:
    """``(type, object)`` for every change at ``path``, forever; each list as ADDED events."""
    query = dict(params or {})
    while True:
        listed = await get_json(session, path, params=query)
        version: str | None = listed["metadata"]["resourceVersion"]
        yield RELISTED, {}
        for item in listed["items"]:
            yield "ADDED", item
        while version is not None:  # None: too old to resume (410 Gone), so list again
            watch = {**query, "watch": "true", "allowWatchBookmarks": "true"}
            async with session.get(path, params={**watch, "resourceVersion": version}) as resp:
                if resp.status == 410:
                    version = None
                    continue
                if resp.status != 200:
                    raise RequestFailed(f"watch {path}: {resp.status} {await resp.text()}")
                async for line in resp.content:
                    if not line.strip():
                        continue
                    event = orjson.loads(line)
                    kind, obj = event["type"], event["object"]
                    if kind == "ERROR" and obj.get("code") == 410:
                        version = None
                        break
                    if kind == "ERROR":
                        raise RequestFailed(f"watch {path}: {obj}")
                    version = obj["metadata"]["resourceVersion"]
                    if kind != "BOOKMARK":
                        yield kind, obj


class Follower:
    """The names of the objects at a path that meet ``condition``, kept current by a watch."""

    def __init__(self, condition: Callable[[Object], bool]) -> None:
        self._condition = condition
        self._changed = asyncio.Event()
        self.seen: dict[str, Object] = {}
        self.met: set[str] = set()
        self.first_met: dict[str, float] = {}
        """``perf_counter()`` when each name first met the condition."""

    def apply(self, kind: str, obj: Object) -> None:
        """The single step: take one event into ``seen`` and ``met``."""
        if kind == RELISTED:
            self.seen.clear()
            self.met.clear()
            return
        name = obj["metadata"]["name"]
        if kind == "DELETED":
            self.seen.pop(name, None)
            self.met.discard(name)
        else:
            self.seen[name] = obj
            if self._condition(obj):
                self.met.add(name)
                self.first_met.setdefault(name, time.perf_counter())
            else:
                self.met.discard(name)
        self._changed.set()

    async def wait(self, count: int, *, timeout: float, what: str) -> float:
        """Until ``count`` objects meet the condition; return ``perf_counter()`` then."""
        deadline = time.monotonic() + timeout
        while len(self.met) < count:
            self._changed.clear()
            remaining = deadline - time.monotonic()
            try:
                await asyncio.wait_for(self._changed.wait(), timeout=max(0.0, remaining))
            except TimeoutError:
                raise RequestFailed(
                    f"{what}: {len(self.met)} of {count} after {timeout:.0f} s"
                ) from None
        return time.perf_counter()


@asynccontextmanager
async def follow(
    session: aiohttp.ClientSession,
    path: str,
    condition: Callable[[Object], bool],
    *,
    params: Mapping[str, str] | None = None,
) -> AsyncIterator[Follower]:
    """A ``Follower`` of ``path`` for the length of the block (its watch then ends)."""
    follower = Follower(condition)

    async def feed() -> None:
        async for kind, obj in watch_events(session, path, params=params):
            follower.apply(kind, obj)

    async with asyncio.TaskGroup() as tg:
        task = tg.create_task(feed())
        try:
            yield follower
        finally:
            task.cancel()
