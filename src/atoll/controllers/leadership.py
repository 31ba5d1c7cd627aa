"""Leader election on a coordination.k8s.io/v1 Lease, as client-go's ``leaderelection`` does it.

Every replica runs a ``LeaderElector`` on the same Lease (``kube-system/atoll-controller-
manager`` by default). One step, ``try_acquire_or_renew``, reads the Lease and writes it back
with our identity when it is absent, ours, released, or expired (``renewTime +
leaseDurationSeconds < now``); the write carries the resourceVersion we read, so when two
replicas race, the API server lets exactly one win (the other gets Conflict and tries later).

``run(callback)`` tries every ``retry_period`` (with client-go's jitter) until it leads, then
runs the callback while renewing every ``retry_period``. If no renewal succeeds within
``renew_deadline`` it cancels the callback and raises ``LeadershipLost``; since
``renew_deadline < lease_duration``, the old leader has stopped before anyone else may take
over. When the callback ends, or ``run`` is cancelled, the Lease is released.

Release follows client-go: ``holderIdentity`` emptied, ``leaseDurationSeconds: 1``,
``leaseTransitions`` kept. A released Lease is free at once, and the next leader's takeover
still counts as a transition.

Expiry is judged from the ``renewTime`` written by the holder against our own wall clock, so
replicas' clocks must agree to well within ``lease_duration - renew_deadline`` (client-go
avoids this by timing the Lease's changes on the local clock instead; NTP makes this moot).
"""

from __future__ import annotations

import asyncio
import copy
import logging
import random
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from atoll.controllers.clocks import Clock, SystemClock, deadline
from atoll.errors import AlreadyExists, Conflict, NotFound
from atoll.kube.client import KubeClient, ResourceType

__all__ = [
    "LEASES",
    "LEASE_API_VERSION",
    "KubeLeases",
    "LeaderElectionSettings",
    "LeaderElector",
    "LeadershipLost",
    "SupportsLeases",
    "default_identity",
    "format_micro_time",
    "parse_time",
]

logger = logging.getLogger(__name__)

LEASES = ResourceType("coordination.k8s.io", "v1", "leases", "Lease", True)
LEASE_API_VERSION = LEASES.api_version


class SupportsLeases(Protocol):
    """The three Lease calls leader election makes; bodies and answers are plain dicts."""

    async def get_lease(self, namespace: str, name: str) -> dict[str, Any]:
        """The Lease, or raise ``atoll.errors.NotFound``."""
        ...

    async def create_lease(self, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        """Create it, or raise ``atoll.errors.AlreadyExists``."""
        ...

    async def replace_lease(
        self, namespace: str, name: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        """Replace it if ``metadata.resourceVersion`` is current, else raise ``Conflict``."""
        ...


class KubeLeases:
    """``SupportsLeases`` over a ``KubeClient`` (the client already raises atoll.errors)."""

    def __init__(self, client: KubeClient, *, field_manager: str = "atoll-leader-election"):
        self.client = client
        self.field_manager = field_manager

    async def get_lease(self, namespace: str, name: str) -> dict[str, Any]:
        return await self.client.get(LEASES, name, namespace=namespace)

    async def create_lease(self, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        return await self.client.create(
            LEASES, body, namespace=namespace, field_manager=self.field_manager
        )

    async def replace_lease(
        self, namespace: str, name: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        if (body.get("metadata") or {}).get("name") != name:
            raise ValueError(f"the body does not name Lease {name!r}")
        return await self.client.replace(
            LEASES, body, namespace=namespace, field_manager=self.field_manager
        )


class LeadershipLost(Exception):
    """The Lease could not be renewed within the renew deadline; the callback was cancelled."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LeaderElectionSettings:
    """Where the Lease lives and how leadership is kept (client-go's defaults for the times)."""

    namespace: str = "kube-system"
    name: str = "atoll-controller-manager"
    # How long a Lease stays valid after its last renewal; others wait this long to take over.
    lease_duration: float = 15.0
    # A leader that cannot renew for this long gives up; must be below lease_duration.
    renew_deadline: float = 10.0
    # Time between attempts, both to acquire and to renew.
    retry_period: float = 2.0
    # Acquire attempts wait retry_period * (1 + jitter * random()) so replicas spread out.
    jitter: float = 1.2
    # Release the Lease when the callback ends or run() is cancelled, so a successor starts
    # at once instead of after lease_duration.
    release_on_cancel: bool = True

    def __post_init__(self) -> None:
        if self.lease_duration < 1:
            raise ValueError("lease_duration must be at least 1 s (the Lease stores seconds)")
        if not self.lease_duration > self.renew_deadline:
            raise ValueError("lease_duration must be greater than renew_deadline")
        if self.retry_period <= 0 or self.jitter < 0:
            raise ValueError("retry_period must be positive and jitter not negative")
        if not self.renew_deadline > max(self.jitter, 1.0) * self.retry_period:
            raise ValueError("renew_deadline must be greater than jitter * retry_period")


def default_identity() -> str:
    """``<hostname>_<uuid>``: unique per process, and says which machine holds the Lease."""
    return f"{socket.gethostname()}_{uuid.uuid4()}"


def format_time(instant: datetime) -> str:
    """A metav1.Time: whole seconds, UTC (a naive time is taken as UTC already),
    ``2021-01-02T03:04:05Z``."""
    if instant.tzinfo is not None:
        instant = instant.astimezone(UTC)
    return instant.strftime("%Y-%m-%dT%H:%M:%SZ")


def format_micro_time(instant: datetime) -> str:
    """A metav1.MicroTime: ``2021-01-02T03:04:05.123456Z``."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: object) -> datetime | None:
    """A MicroTime or Time string as an aware datetime; ``None`` when absent or malformed."""
    if not isinstance(text, str) or not text:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class LeaderElector:
    """One replica's candidacy for one Lease; see the module docstring."""

    def __init__(
        self,
        leases: SupportsLeases,
        *,
        settings: LeaderElectionSettings | None = None,
        identity: str | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.leases = leases
        self.settings = settings or LeaderElectionSettings()
        self.identity = identity or default_identity()
        self.clock: Clock = clock or SystemClock()
        self._rng = rng or random.Random()
        self._observed: dict[str, Any] | None = None
        self._leading = False

    @property
    def is_leader(self) -> bool:
        return self._leading

    @property
    def leader(self) -> str:
        """The holder identity last seen on the Lease ("" when free or never read)."""
        spec = (self._observed or {}).get("spec") or {}
        return str(spec.get("holderIdentity") or "")

    @property
    def lock_name(self) -> str:
        return f"{self.settings.namespace}/{self.settings.name}"

    async def run(self, on_started_leading: Callable[[], Awaitable[None]]) -> None:
        """Wait to lead, run the callback while leading; raise ``LeadershipLost`` if lost."""
        await self._acquire()
        lost = False
        try:
            async with asyncio.TaskGroup() as tg:
                leading = tg.create_task(
                    _call(on_started_leading), name=f"leading {self.lock_name}"
                )
                lost = await self._keep_renewing(leading)
                if lost:
                    leading.cancel()
        finally:
            if lost:
                self._leading = False
            elif self.settings.release_on_cancel:
                await self.release()
        if lost:
            logger.error("%s: lost leadership of %s", self.identity, self.lock_name)
            raise LeadershipLost(f"{self.identity} could not renew {self.lock_name} in time")

    async def try_acquire_or_renew(self) -> bool:
        """One attempt: read the Lease, write it back as ours if we may; True if we now lead."""
        now = self.clock.now()
        namespace, name = self.settings.namespace, self.settings.name
        try:
            lease = await self.leases.get_lease(namespace, name)
        except NotFound:
            body = {
                "apiVersion": LEASE_API_VERSION,
                "kind": "Lease",
                "metadata": {"name": name, "namespace": namespace},
                "spec": self._spec(acquired=now, renewed=now, transitions=0),
            }
            try:
                self._observed = await self.leases.create_lease(namespace, body)
            except AlreadyExists:
                return False  # another candidate created it first
            return self._win()
        self._observed = lease
        spec = lease.get("spec") or {}
        holder = spec.get("holderIdentity") or ""
        if holder and holder != self.identity and not _expired(spec, now):
            return self._lose()
        ours = holder == self.identity
        transitions = int(spec.get("leaseTransitions") or 0)
        body = copy.deepcopy(lease)
        body["spec"] = self._spec(
            acquired=(parse_time(spec.get("acquireTime")) or now) if ours else now,
            renewed=now,
            transitions=transitions if ours else transitions + 1,
        )
        try:
            self._observed = await self.leases.replace_lease(namespace, name, body)
        except Conflict:
            return False  # written since we read it: look again next time
        return self._win()

    async def release(self) -> bool:
        """Give the Lease up if we hold it; True if released (or not ours to release)."""
        if not self._leading or self._observed is None:
            return True
        self._leading = False
        now = self.clock.now()
        body = copy.deepcopy(self._observed)
        transitions = int((body.get("spec") or {}).get("leaseTransitions") or 0)
        body["spec"] = {
            "holderIdentity": "",
            "leaseDurationSeconds": 1,
            "acquireTime": format_micro_time(now),
            "renewTime": format_micro_time(now),
            "leaseTransitions": transitions,
        }
        try:
            async with deadline(self.clock, self.settings.retry_period):
                self._observed = await self.leases.replace_lease(
                    self.settings.namespace, self.settings.name, body
                )
        except Conflict:
            logger.info(
                "%s: %s was taken over before we released it", self.identity, self.lock_name
            )
            return False
        except Exception as exc:  # best effort: the Lease still expires on its own
            logger.warning("%s: could not release %s: %r", self.identity, self.lock_name, exc)
            return False
        logger.info("%s: released %s", self.identity, self.lock_name)
        return True

    async def _acquire(self) -> None:
        while not await self._attempt(self.settings.renew_deadline):
            extra = self.settings.jitter * self._rng.random()
            await self.clock.sleep(self.settings.retry_period * (1 + extra))
        logger.info("%s: acquired %s", self.identity, self.lock_name)

    async def _keep_renewing(self, leading: asyncio.Task[None]) -> bool:
        """Renew every retry period until the callback ends (False) or renewing fails (True)."""
        while not await self._done_within(leading, self.settings.retry_period):
            if not await self._renew():
                return True
        return False

    async def _renew(self) -> bool:
        """Attempt every retry period until one succeeds or the renew deadline passes."""
        give_up_at = self.clock.monotonic() + self.settings.renew_deadline
        while (remaining := give_up_at - self.clock.monotonic()) > 0:
            if await self._attempt(remaining):
                return True
            remaining = give_up_at - self.clock.monotonic()
            if remaining > 0:
                await self.clock.sleep(min(self.settings.retry_period, remaining))
        return False

    async def _attempt(self, timeout: float) -> bool:
        """``try_acquire_or_renew`` bounded in time, with failures of any kind meaning no."""
        try:
            async with deadline(self.clock, timeout):
                return await self.try_acquire_or_renew()
        except Exception as exc:
            logger.warning("%s: cannot acquire or renew %s: %r", self.identity, self.lock_name, exc)
            return False

    async def _done_within(self, task: asyncio.Task[None], seconds: float) -> bool:
        """Wait up to ``seconds`` of the clock for ``task`` to finish; True if it did."""
        if task.done():
            return True
        wake = asyncio.Event()

        def on_done(_: asyncio.Task[None]) -> None:
            wake.set()

        timer = self.clock.call_later(seconds, wake.set)
        task.add_done_callback(on_done)
        try:
            await wake.wait()
        finally:
            timer.cancel()
            task.remove_done_callback(on_done)
        return task.done()

    def _spec(self, *, acquired: datetime, renewed: datetime, transitions: int) -> dict[str, Any]:
        return {
            "holderIdentity": self.identity,
            "leaseDurationSeconds": int(self.settings.lease_duration),
            "acquireTime": format_micro_time(acquired),
            "renewTime": format_micro_time(renewed),
            "leaseTransitions": transitions,
        }

    def _win(self) -> bool:
        self._leading = True
        return True

    def _lose(self) -> bool:
        self._leading = False
        return False


def _expired(spec: dict[str, Any], now: datetime) -> bool:
    renewed = parse_time(spec.get("renewTime"))
    duration = spec.get("leaseDurationSeconds")
    if renewed is None or not isinstance(duration, int | float):
        return True
    return renewed + timedelta(seconds=duration) < now


async def _call(callback: Callable[[], Awaitable[None]]) -> None:
    await callback()
