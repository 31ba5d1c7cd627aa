"""Leader election against an in-memory Lease store with the API server's concurrency rules."""

from __future__ import annotations

import asyncio
import copy
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from atoll.controllers.clocks import ManualClock
from atoll.controllers.leadership import (
    LeaderElectionSettings,
    LeaderElector,
    LeadershipLost,
    default_identity,
    format_micro_time,
    parse_time,
)
from atoll.errors import AlreadyExists, Conflict, NotFound

if TYPE_CHECKING:
    from conftest import Until

START = "2021-01-02T03:04:05.123456Z"  # ManualClock's wall clock at the start


class LeaseStore:
    """Leases by (namespace, name) with resourceVersion checks, like the API server's."""

    def __init__(self) -> None:
        self.leases: dict[tuple[str, str], dict[str, Any]] = {}
        self.version = 0
        self.writes = 0

    def lease(self) -> dict[str, Any]:
        return self.leases["kube-system", "atoll-controller-manager"]

    def spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = self.lease()["spec"]
        return spec

    def _stamp(self, body: dict[str, Any]) -> dict[str, Any]:
        self.version += 1
        self.writes += 1
        stored = copy.deepcopy(body)
        stored["metadata"]["resourceVersion"] = str(self.version)
        return stored


class FakeLeases:
    """One replica's view of the store; ``partitioned`` makes its calls hang forever."""

    def __init__(self, store: LeaseStore, *, yield_in_get: bool = False) -> None:
        self.store = store
        self.partitioned = False
        self.yield_in_get = yield_in_get

    async def _reach(self) -> None:
        if self.partitioned:
            await asyncio.Event().wait()

    async def get_lease(self, namespace: str, name: str) -> dict[str, Any]:
        await self._reach()
        if self.yield_in_get:
            await asyncio.sleep(0)  # let a racing candidate read too
        found = self.store.leases.get((namespace, name))
        if found is None:
            raise NotFound.of("leases", "coordination.k8s.io", name)
        return copy.deepcopy(found)

    async def create_lease(self, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        await self._reach()
        name = body["metadata"]["name"]
        assert body["metadata"]["namespace"] == namespace
        if (namespace, name) in self.store.leases:
            raise AlreadyExists.of("leases", "coordination.k8s.io", name)
        stored = self.store.leases[namespace, name] = self.store._stamp(body)
        return copy.deepcopy(stored)

    async def replace_lease(
        self, namespace: str, name: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        await self._reach()
        current = self.store.leases.get((namespace, name))
        if current is None:
            raise NotFound.of("leases", "coordination.k8s.io", name)
        if body["metadata"].get("resourceVersion") != current["metadata"]["resourceVersion"]:
            raise Conflict.modified("leases", "coordination.k8s.io", name)
        stored = self.store.leases[namespace, name] = self.store._stamp(body)
        return copy.deepcopy(stored)


SETTINGS = LeaderElectionSettings(jitter=0.0)  # 15 s lease, 10 s renew deadline, 2 s retry


@pytest.fixture
def store() -> LeaseStore:
    return LeaseStore()


def elector(
    store: LeaseStore, clock: ManualClock, identity: str, **kwargs: Any
) -> tuple[LeaderElector, FakeLeases]:
    leases = FakeLeases(store, yield_in_get=kwargs.pop("yield_in_get", False))
    settings = kwargs.pop("settings", SETTINGS)
    return LeaderElector(leases, settings=settings, identity=identity, clock=clock), leases


# -- one step -------------------------------------------------------------------------------


async def test_the_first_candidate_creates_the_lease(store: LeaseStore, clock: ManualClock) -> None:
    a, _ = elector(store, clock, "a")
    assert await a.try_acquire_or_renew()
    assert a.is_leader and a.leader == "a"
    lease = store.lease()
    assert lease["apiVersion"] == "coordination.k8s.io/v1"
    assert lease["kind"] == "Lease"
    assert lease["metadata"]["name"] == "atoll-controller-manager"
    assert lease["metadata"]["namespace"] == "kube-system"
    assert lease["spec"] == {
        "holderIdentity": "a",
        "leaseDurationSeconds": 15,
        "acquireTime": START,
        "renewTime": START,
        "leaseTransitions": 0,
    }


async def test_renewing_moves_only_renew_time(store: LeaseStore, clock: ManualClock) -> None:
    a, _ = elector(store, clock, "a")
    await a.try_acquire_or_renew()
    clock.advance(2)
    assert await a.try_acquire_or_renew()
    assert store.spec()["acquireTime"] == START
    assert store.spec()["renewTime"] == "2021-01-02T03:04:07.123456Z"
    assert store.spec()["leaseTransitions"] == 0


async def test_takeover_only_after_expiry_counts_a_transition(
    store: LeaseStore, clock: ManualClock
) -> None:
    a, _ = elector(store, clock, "a")
    b, _ = elector(store, clock, "b")
    assert await a.try_acquire_or_renew()
    assert not await b.try_acquire_or_renew()
    assert not b.is_leader and b.leader == "a"
    clock.advance(15)
    assert not await b.try_acquire_or_renew(), "renewTime + 15 s is not yet in the past"
    clock.advance(0.001)
    assert await b.try_acquire_or_renew()
    assert store.spec()["holderIdentity"] == "b"
    assert store.spec()["leaseTransitions"] == 1
    assert store.spec()["acquireTime"] == "2021-01-02T03:04:20.124456Z"
    assert not await a.try_acquire_or_renew()
    assert not a.is_leader and a.leader == "b"


async def test_racing_candidates_one_wins_by_optimistic_concurrency(
    store: LeaseStore, clock: ManualClock
) -> None:
    a, _ = elector(store, clock, "a", yield_in_get=True)
    b, _ = elector(store, clock, "b", yield_in_get=True)
    both = await asyncio.gather(a.try_acquire_or_renew(), b.try_acquire_or_renew())
    assert sorted(both) == [False, True], "both saw no Lease; one create got AlreadyExists"
    clock.advance(60)
    both = await asyncio.gather(a.try_acquire_or_renew(), b.try_acquire_or_renew())
    assert sorted(both) == [False, True], "both saw it expired; one replace got Conflict"
    assert store.spec()["leaseTransitions"] in (0, 1)  # 0 if the old holder renewed
    assert [a.is_leader, b.is_leader].count(True) == 1


async def test_a_garbled_lease_counts_as_expired(store: LeaseStore, clock: ManualClock) -> None:
    a, _ = elector(store, clock, "a")
    await a.try_acquire_or_renew()
    store.lease()["spec"]["renewTime"] = "yesterday-ish"
    b, _ = elector(store, clock, "b")
    assert await b.try_acquire_or_renew()


# -- running --------------------------------------------------------------------------------


class Candidate:
    """A replica: its elector, its view of the store, its run() task, and what it saw."""

    def __init__(
        self, store: LeaseStore, clock: ManualClock, identity: str, log: list[tuple[str, ...]]
    ) -> None:
        self.elector, self.leases = elector(store, clock, identity)
        self.identity = identity
        self.clock = clock
        self.log = log
        self.leading = False
        self.finish = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    async def lead(self) -> None:
        self.leading = True
        self.log.append((self.identity, "start", f"{self.clock.monotonic() - 1000:g}"))
        try:
            await self.finish.wait()
        finally:
            self.leading = False
            self.log.append((self.identity, "stop", f"{self.clock.monotonic() - 1000:g}"))

    def start(self) -> None:
        self.task = asyncio.create_task(self.elector.run(self.lead))

    @property
    def alive(self) -> bool:
        return self.task is not None and not self.task.done()


async def tick(clock: ManualClock, until: Until, candidates: list[Candidate], seconds: int) -> None:
    """Advance time one second at a time, each time once every live candidate is parked:
    waiting on the clock, with its callback running exactly while its elector leads."""

    def parked() -> bool:
        settled = all(c.elector.is_leader == c.leading for c in candidates if c.alive)
        return settled and clock.pending == sum(c.alive for c in candidates)

    for _ in range(seconds):
        await until(parked)
        clock.advance(1)
        assert sum(c.leading for c in candidates) <= 1, "two leaders at once"
    await until(parked)


async def test_two_electors_one_leads_and_the_other_takes_over_after_expiry(
    store: LeaseStore, clock: ManualClock, until: Until
) -> None:
    log: list[tuple[str, ...]] = []
    a, b = Candidate(store, clock, "a", log), Candidate(store, clock, "b", log)
    a.start()
    await until(lambda: a.leading)
    b.start()
    await tick(clock, until, [a, b], 6)
    assert log == [("a", "start", "0")]
    assert store.spec()["renewTime"] == "2021-01-02T03:04:11.123456Z", "renewed every 2 s"

    a.leases.partitioned = True  # a's requests now hang: it cannot renew, b cannot hear it
    await tick(clock, until, [a, b], 20)
    assert a.task is not None
    with pytest.raises(LeadershipLost):
        await a.task
    # a last renewed at 6; its renewal at 8 timed out at 18 (renew deadline): a stopped.
    # The Lease expired at 6 + 15 = 21; b's next attempt, at 22, took it over.
    assert log == [("a", "start", "0"), ("a", "stop", "18"), ("b", "start", "22")]
    assert store.spec()["holderIdentity"] == "b"
    assert store.spec()["leaseTransitions"] == 1
    assert store.spec()["acquireTime"] == "2021-01-02T03:04:27.123456Z"
    assert b.elector.is_leader and not a.elector.is_leader


async def test_a_clean_shutdown_releases_the_lease_for_an_immediate_successor(
    store: LeaseStore, clock: ManualClock, until: Until
) -> None:
    log: list[tuple[str, ...]] = []
    a, b = Candidate(store, clock, "a", log), Candidate(store, clock, "b", log)
    a.start()
    await until(lambda: a.leading)
    b.start()
    await tick(clock, until, [a, b], 3)
    assert a.task is not None
    a.task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await a.task
    assert store.spec() == {
        "holderIdentity": "",
        "leaseDurationSeconds": 1,
        "acquireTime": "2021-01-02T03:04:08.123456Z",
        "renewTime": "2021-01-02T03:04:08.123456Z",
        "leaseTransitions": 0,
    }
    await tick(clock, until, [a, b], 1)
    assert log == [("a", "start", "0"), ("a", "stop", "3"), ("b", "start", "4")]
    assert store.spec()["holderIdentity"] == "b"
    assert store.spec()["leaseTransitions"] == 1


async def test_a_callback_that_returns_ends_run_and_releases(
    store: LeaseStore, clock: ManualClock
) -> None:
    a, _ = elector(store, clock, "a")
    done: list[bool] = []

    async def work() -> None:
        done.append(a.is_leader)

    await a.run(work)
    assert done == [True]
    assert not a.is_leader
    assert store.spec()["holderIdentity"] == ""


async def test_a_failing_callback_propagates_and_releases(
    store: LeaseStore, clock: ManualClock
) -> None:
    a, _ = elector(store, clock, "a")

    async def broken() -> None:
        raise RuntimeError("controllers crashed")

    with pytest.raises(ExceptionGroup) as raised:
        await a.run(broken)
    assert raised.group_contains(RuntimeError, match="controllers crashed")
    assert store.spec()["holderIdentity"] == ""


async def test_api_errors_while_acquiring_are_retried(
    store: LeaseStore, clock: ManualClock, until: Until
) -> None:
    a, leases = elector(store, clock, "a")
    calls = 0
    real_get = leases.get_lease

    async def flaky_get(namespace: str, name: str) -> dict[str, Any]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionResetError("the API server went away")
        return await real_get(namespace, name)

    leases.get_lease = flaky_get  # type: ignore[method-assign]
    started = asyncio.Event()

    async def lead() -> None:
        started.set()

    task = asyncio.create_task(a.run(lead))
    await until(lambda: clock.pending == 1)
    assert not started.is_set()
    clock.advance(2)
    await asyncio.wait_for(task, 5)
    assert started.is_set()


# -- values ---------------------------------------------------------------------------------


def test_settings_defaults_and_validation() -> None:
    settings = LeaderElectionSettings()
    assert (settings.lease_duration, settings.renew_deadline, settings.retry_period) == (
        15.0,
        10.0,
        2.0,
    )
    assert (settings.namespace, settings.name) == ("kube-system", "atoll-controller-manager")
    with pytest.raises(ValueError, match="greater than renew_deadline"):
        LeaderElectionSettings(lease_duration=10, renew_deadline=10)
    with pytest.raises(ValueError, match="jitter"):
        LeaderElectionSettings(renew_deadline=2.4, retry_period=2)  # needs > 1.2 * 2
    with pytest.raises(ValueError, match="at least 1"):
        LeaderElectionSettings(lease_duration=0.5, renew_deadline=0.2, retry_period=0.1)


def test_identity_and_micro_time() -> None:
    host, _, rest = default_identity().rpartition("_")
    assert host and len(rest) == 36
    instant = datetime(2021, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
    assert format_micro_time(instant) == START
    assert parse_time(START) == instant
    assert parse_time("2021-01-02T03:04:05Z") == instant.replace(microsecond=0)
    assert parse_time("") is None
    assert parse_time(None) is None
    assert parse_time("not a time") is None
