"""The watch loop: each step on its own (fakes and the real cluster), then the loop as a whole.

The loop must survive the server ending a stream (resume from the last resourceVersion, no
relist), 410 Expired (relist) and connection errors (back off, retry), and stop promptly.
A second embedded cluster with a five-event history makes 410 cheap to provoke for real.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import ClusterProcess, start_cluster

from atoll.errors import Expired, Forbidden
from atoll.kit.backoff import Backoff
from atoll.kube.client import ConnectionFailed, KubeClient, Object, ResourceType
from atoll.kube.kubeconfig import ClusterConfig
from atoll.kube.watching import (
    Changed,
    Listed,
    Step,
    WatchState,
    list_objects,
    watch_objects,
    watch_step,
)

Until = Callable[[Callable[[], bool]], Awaitable[None]]  # the ``until`` fixture
CONFIGMAPS = ResourceType("", "v1", "configmaps", "ConfigMap", True)
NAMESPACES = ResourceType("", "v1", "namespaces", "Namespace", False)


def _list(rv: str, *names: str, token: str | None = None) -> Object:
    meta: dict[str, Any] = {"resourceVersion": rv}
    if token:
        meta["continue"] = token
    return {
        "items": [{"metadata": {"name": n, "namespace": "ns"}} for n in names],
        "metadata": meta,
    }


def _event(kind: str, name: str, rv: str) -> Object:
    meta = {"name": name, "namespace": "ns", "resourceVersion": rv}
    return {"type": kind, "object": {"metadata": meta}}


class FakeClient:
    """Scripted lists and watch sessions; a session beyond the script blocks until cancelled."""

    def __init__(self, lists: list[Any], watches: list[list[Any]] | None = None) -> None:
        self.lists = lists
        self.watches = watches or []
        self.list_calls: list[dict[str, Any]] = []
        self.watch_calls: list[dict[str, Any]] = []

    async def list(self, rt: ResourceType, **kwargs: Any) -> Object:
        self.list_calls.append(kwargs)
        answer = self.lists.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        result: Object = answer
        return result

    async def watch_stream(self, rt: ResourceType, **kwargs: Any) -> AsyncGenerator[Object, None]:
        self.watch_calls.append(kwargs)
        if not self.watches:
            await asyncio.Event().wait()
        for item in self.watches.pop(0):
            if isinstance(item, BaseException):
                raise item
            yield item


class RecordingBackoff(Backoff):
    def __init__(self) -> None:
        super().__init__(initial=0.001, maximum=0.01)
        self.delays: list[float] = []

    def next_delay(self) -> float:
        delay = super().next_delay()
        self.delays.append(delay)
        return delay


class Collector:
    def __init__(self) -> None:
        self.steps: list[Step] = []

    async def __call__(self, step: Step) -> None:
        self.steps.append(step)

    @property
    def listed(self) -> list[Listed]:
        return [s for s in self.steps if isinstance(s, Listed)]

    @property
    def changed(self) -> list[Changed]:
        return [s for s in self.steps if isinstance(s, Changed)]


# --- Backoff --------------------------------------------------------------------------------


def test_backoff_grows_to_its_cap_with_bounded_jitter_and_resets() -> None:
    backoff = Backoff(initial=1, maximum=8, factor=2, jitter=0.25, rng=random.Random(1))
    delays = [backoff.next_delay() for _ in range(6)]
    for delay, base in zip(delays, [1, 2, 4, 8, 8, 8], strict=True):
        assert base * 0.75 <= delay <= base * 1.25
    assert backoff.failures == 6
    backoff.reset()
    assert 0.75 <= backoff.next_delay() <= 1.25
    assert Backoff(initial=2, jitter=0).next_delay() == 2


async def test_backoff_wait_returns_early_when_stopped() -> None:
    stop = asyncio.Event()
    stop.set()
    assert await Backoff(initial=3600).wait(stop) is True
    assert await Backoff(initial=0.001).wait(asyncio.Event()) is False
    assert await Backoff(initial=0.001).wait() is False


# --- steps on fakes -------------------------------------------------------------------------


async def test_paged_list_falls_back_to_one_piece_when_its_token_expires() -> None:
    client = FakeClient([_list("5", "a", token="t1"), Expired("too old"), _list("9", "a", "b")])
    listed = await list_objects(client, CONFIGMAPS, namespace="ns")
    assert [o["metadata"]["name"] for o in listed.objects] == ["a", "b"]
    assert listed.resource_version == "9"
    assert all(o["kind"] == "ConfigMap" and o["apiVersion"] == "v1" for o in listed.objects)
    limits = [(c["limit"], c["continue_"]) for c in client.list_calls]
    assert limits == [(500, None), (500, "t1"), (None, None)]


async def test_bookmarks_move_the_resource_version_without_a_hand_over() -> None:
    bookmark = {"type": "BOOKMARK", "object": {"metadata": {"resourceVersion": "7"}}}
    client = FakeClient([], [[_event("ADDED", "a", "3"), bookmark]])
    state, collect = WatchState("1"), Collector()
    assert await watch_step(client, CONFIGMAPS, state, on_event=collect, timeout_seconds=9)
    assert state.resource_version == "7"
    assert [(c.type, c.object["metadata"]["name"]) for c in collect.changed] == [("ADDED", "a")]
    assert client.watch_calls[0]["resource_version"] == "1"
    assert client.watch_calls[0]["allow_bookmarks"] is True


async def test_expired_watch_clears_the_state_so_the_next_step_lists() -> None:
    client = FakeClient([_list("20", "a")], [[_event("ADDED", "a", "4"), Expired("too old")]])
    state, collect = WatchState("1"), Collector()
    assert await watch_step(client, CONFIGMAPS, state, on_event=collect)
    assert state.resource_version is None
    assert await watch_step(client, CONFIGMAPS, state, on_event=collect)
    assert state.resource_version == "20"
    assert isinstance(collect.steps[-1], Listed)


async def test_a_failed_hand_over_does_not_advance_the_state() -> None:
    async def refuse(step: Step) -> None:
        if isinstance(step, Changed) and step.object["metadata"]["name"] == "b":
            raise RuntimeError("handler broke")

    client = FakeClient([], [[_event("ADDED", "a", "2"), _event("ADDED", "b", "3")]])
    state = WatchState("1")
    with pytest.raises(RuntimeError):
        await watch_step(client, CONFIGMAPS, state, on_event=refuse)
    assert state.resource_version == "2"  # "b" comes again on the next session


# --- the loop on fakes ----------------------------------------------------------------------


async def _run_until(client: FakeClient, until: Until, done: Any, **kwargs: Any) -> Collector:
    collect, stop = Collector(), asyncio.Event()
    async with asyncio.TaskGroup() as group:
        group.create_task(watch_objects(client, CONFIGMAPS, on_event=collect, stop=stop, **kwargs))
        await until(lambda: done(collect))
        stop.set()
    return collect


async def test_loop_backs_off_on_connection_errors_and_retries(until: Until) -> None:
    down = ConnectionFailed("connection refused")
    client = FakeClient([down, Forbidden("not yet"), down, _list("5", "a")])
    backoff = RecordingBackoff()
    await _run_until(client, until, lambda c: c.listed, backoff=backoff)
    assert len(client.list_calls) == 4
    assert len(backoff.delays) == 3
    assert backoff.delays[0] < backoff.delays[1] < backoff.delays[2]
    assert backoff.failures == 0  # reset by the successful list


async def test_loop_resumes_after_stream_end_and_relists_after_410(until: Until) -> None:
    sessions: list[list[Any]] = [
        [_event("ADDED", "b", "6")],  # ends: resume from 6
        [Expired("too old")],  # relist
        [_event("DELETED", "b", "12")],
    ]
    client = FakeClient([_list("5", "a"), _list("11", "a", "b")], sessions)
    backoff = RecordingBackoff()
    collect = await _run_until(
        client,
        until,
        lambda c: any(getattr(s, "type", "") == "DELETED" for s in c.steps),
        backoff=backoff,
    )
    kinds = [s.type if isinstance(s, Changed) else "LISTED" for s in collect.steps]
    assert kinds == ["LISTED", "ADDED", "LISTED", "DELETED"]
    versions = [c["resource_version"] for c in client.watch_calls[:3]]
    assert versions == ["5", "6", "11"]
    assert backoff.delays == []  # neither a stream end nor a 410 is a failure


async def test_loop_backs_off_when_sessions_end_at_once_without_events(until: Until) -> None:
    client = FakeClient([_list("5")], [[], [], [_event("ADDED", "a", "6")]])
    backoff = RecordingBackoff()
    collect = await _run_until(client, until, lambda c: c.changed, backoff=backoff)
    assert len(backoff.delays) == 2
    assert collect.changed[0].object["metadata"]["name"] == "a"


async def test_loop_stops_promptly_while_a_session_waits() -> None:
    client = FakeClient([_list("5")])
    collect, stop = Collector(), asyncio.Event()
    task = asyncio.create_task(watch_objects(client, CONFIGMAPS, on_event=collect, stop=stop))
    while not client.watch_calls:
        await asyncio.sleep(0)
    stop.set()
    await asyncio.wait_for(task, 5)


# --- against the embedded cluster -----------------------------------------------------------


def _configmap(name: str) -> Object:
    return {"metadata": {"name": name}, "data": {"k": "v"}}


async def test_list_objects_reads_every_page(kube: KubeClient, namespace: str) -> None:
    for i in range(5):
        await kube.create(CONFIGMAPS, _configmap(f"cm-{i}"), namespace=namespace)
    listed = await list_objects(kube, CONFIGMAPS, namespace=namespace, page_size=2)
    assert [o["metadata"]["name"] for o in listed.objects] == [f"cm-{i}" for i in range(5)]
    assert {(o["kind"], o["apiVersion"]) for o in listed.objects} == {("ConfigMap", "v1")}
    assert int(listed.resource_version) > 0


async def test_watch_step_lists_then_watches(kube: KubeClient, namespace: str) -> None:
    state, collect = WatchState(), Collector()
    assert await watch_step(kube, CONFIGMAPS, state, on_event=collect, namespace=namespace)
    assert collect.listed[0].objects == []
    created = await kube.create(CONFIGMAPS, _configmap("new"), namespace=namespace)
    got = await watch_step(
        kube, CONFIGMAPS, state, on_event=collect, namespace=namespace, timeout_seconds=1
    )
    assert got
    assert [(c.type, c.object["metadata"]["name"]) for c in collect.changed] == [("ADDED", "new")]
    assert state.resource_version == created["metadata"]["resourceVersion"]


class CountingClient(KubeClient):
    def __init__(self, config: ClusterConfig) -> None:
        super().__init__(config)
        self.sessions = 0

    async def watch_stream(self, rt: ResourceType, **kwargs: Any) -> AsyncGenerator[Object, None]:
        self.sessions += 1
        async for event in super().watch_stream(rt, **kwargs):
            yield event


@pytest.fixture
async def counting(cluster: ClusterProcess) -> AsyncIterator[CountingClient]:
    async with CountingClient(ClusterConfig.from_kubeconfig(cluster.kubeconfig)) as client:
        yield client


async def test_loop_survives_the_server_ending_streams(
    counting: CountingClient, namespace: str, until: Until
) -> None:
    collect, stop = Collector(), asyncio.Event()
    loop = watch_objects(
        counting, CONFIGMAPS, on_event=collect, stop=stop, namespace=namespace, timeout_seconds=1
    )
    async with asyncio.TaskGroup() as group:
        group.create_task(loop)
        await until(lambda: counting.sessions >= 2)  # the first stream ended, a second began
        await counting.create(CONFIGMAPS, _configmap("late"), namespace=namespace)
        await until(lambda: bool(collect.changed))
        stop.set()
    assert len(collect.listed) == 1  # resumed, never listed again
    assert collect.changed[0].object["metadata"]["name"] == "late"


# --- 410 Expired, for real ------------------------------------------------------------------


@pytest.fixture(scope="module")
def short_history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterProcess]:
    """A cluster that remembers five watch events: older resourceVersions get 410."""
    data_dir: Path = tmp_path_factory.mktemp("short-history") / "data"
    data_dir.mkdir()
    proc = start_cluster(data_dir, settings={"HISTORY_SIZE": "5"})
    yield proc
    if proc.process.poll() is None:
        proc.stop()


@pytest.fixture
async def short(short_history: ClusterProcess) -> AsyncIterator[tuple[KubeClient, str]]:
    async with KubeClient(ClusterConfig.from_kubeconfig(short_history.kubeconfig)) as client:
        name = f"t-{uuid.uuid4().hex[:10]}"
        await client.create(NAMESPACES, {"metadata": {"name": name}})
        yield client, name


async def _churn(client: KubeClient) -> None:
    """Ten writes elsewhere: more than the history holds."""
    prefix = uuid.uuid4().hex[:8]
    for i in range(10):
        await client.create(CONFIGMAPS, _configmap(f"churn-{prefix}-{i}"), namespace="default")


async def test_watch_step_from_a_forgotten_version_gets_410(short: tuple[KubeClient, str]) -> None:
    client, namespace = short
    state, collect = WatchState(), Collector()
    await watch_step(client, CONFIGMAPS, state, on_event=collect, namespace=namespace)
    await _churn(client)
    with pytest.raises(Expired):
        async for _ in client.watch_stream(
            CONFIGMAPS, namespace=namespace, resource_version=state.resource_version
        ):
            pass
    assert await watch_step(client, CONFIGMAPS, state, on_event=collect, namespace=namespace)
    assert state.resource_version is None


async def test_loop_relists_after_410(short: tuple[KubeClient, str], until: Until) -> None:
    client, namespace = short
    await client.create(CONFIGMAPS, _configmap("before"), namespace=namespace)
    collect, stop = Collector(), asyncio.Event()
    loop = watch_objects(
        client, CONFIGMAPS, on_event=collect, stop=stop, namespace=namespace, timeout_seconds=1
    )
    async with asyncio.TaskGroup() as group:
        group.create_task(loop)
        await until(lambda: len(collect.listed) == 1)
        await _churn(client)  # unseen by this watch: its resourceVersion falls out of history
        await until(lambda: len(collect.listed) == 2)
        await client.create(CONFIGMAPS, _configmap("after"), namespace=namespace)
        await until(lambda: bool(collect.changed))
        stop.set()
    assert [o["metadata"]["name"] for o in collect.listed[1].objects] == ["before"]
    assert [c.object["metadata"]["name"] for c in collect.changed] == ["after"]
