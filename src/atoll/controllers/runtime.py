"""Running controllers: one queue and N workers per controller, inside one task group.

A controller (client-go's shape, STYLE point 10) has a ``name``, a ``setup(ctx)`` that
registers informer handlers which only enqueue keys, and a ``reconcile(key)`` that reads the
cache, is idempotent and returns a ``Result``. ``ControllerManager`` picks the enabled
controllers (kube-controller-manager's ``--controllers`` syntax), sets each up with its own
``WorkQueue``, starts the informers and waits for their caches, then runs workers until
cancelled or ``stop()``-ed. Every task it starts lives in its ``asyncio.TaskGroup``.

A worker is a loop around ``process_next``, the single step that takes one key, reconciles it
and decides what happens next from the ``Result`` or the error's type (see ``results``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from atoll.controllers.clocks import Clock, SystemClock
from atoll.controllers.queueing import (
    DEFAULT_BACKOFF_BASE,
    DEFAULT_BACKOFF_MAX,
    ExponentialBackoff,
    QueueShutDown,
    QueueStats,
    WorkQueue,
)
from atoll.controllers.results import PermanentError, Result, TemporaryError
from atoll.kube.client import KubeClient, Object
from atoll.kube.events import EventRecorder
from atoll.kube.informers import InformerFactory, key_of

__all__ = [
    "Controller",
    "ControllerContext",
    "ControllerManager",
    "ControllerSettings",
    "Reconcile",
    "is_enabled",
    "parse_selection",
    "process_next",
    "run_worker",
]

logger = logging.getLogger(__name__)

Reconcile = Callable[[str], Awaitable[Result]]


@dataclass(frozen=True, slots=True, kw_only=True)
class ControllerSettings:
    """Settings of the controller runtime, the same for every controller a manager runs."""

    # kube-controller-manager's --controllers: "*" all, "name" on, "-name" off; first match wins.
    enabled: tuple[str, ...] = ("*",)
    # Keys of one controller reconciled at once (client-go's ConcurrentSyncs); never the same key.
    workers_per_controller: int = 2
    # Back-off of a failing key: base * 2**failures seconds, capped (client-go's defaults).
    backoff_base: float = DEFAULT_BACKOFF_BASE
    backoff_max: float = DEFAULT_BACKOFF_MAX


@dataclass(frozen=True, slots=True, kw_only=True)
class ControllerContext:
    """What a controller gets in ``setup``: keep what ``reconcile`` needs."""

    name: str
    client: KubeClient
    informers: InformerFactory
    queue: WorkQueue[str]
    events: EventRecorder  # its component is "<name>-controller", as kube-controller-manager's
    clock: Clock
    settings: ControllerSettings
    logger: logging.Logger = field(repr=False)

    def enqueue(self, obj: Object) -> None:
        """An informer handler: queue the object's ``namespace/name`` key."""
        self.queue.add(key_of(obj))

    def enqueue_owner(self, obj: Object, *, kind: str, api_version: str) -> None:
        """An informer handler for owned objects: queue the key of the controlling owner.

        ``obj`` is, say, a Pod; the key queued is its ReplicaSet's (same namespace), if the
        Pod's controller owner reference is of ``kind`` in ``api_version``.
        """
        metadata = obj.get("metadata") or {}
        refs = metadata.get("ownerReferences") or ()
        owner = next((ref for ref in refs if ref.get("controller")), None)
        if owner is None or owner.get("kind") != kind or not owner.get("name"):
            return
        # Only the group must match: an owner written as apps/v1beta2 is still our apps/v1 kind.
        if owner.get("apiVersion", "").rpartition("/")[0] != api_version.rpartition("/")[0]:
            return
        namespace = metadata.get("namespace") or ""
        self.queue.add(f"{namespace}/{owner['name']}" if namespace else owner["name"])


class Controller(Protocol):
    @property
    def name(self) -> str:
        """Unique within a manager; what ``--controllers`` selects by (``deployment``)."""
        ...

    async def setup(self, ctx: ControllerContext) -> None:
        """Create informers and register handlers that only enqueue keys."""
        ...

    async def reconcile(self, key: str) -> Result:
        """Bring the object named by ``key`` to its desired state; idempotent."""
        ...


# -- selection ------------------------------------------------------------------------------


def parse_selection(selection: str | Sequence[str]) -> tuple[str, ...]:
    """``"*,-cronjob"`` or ``["*", "-cronjob"]`` → ``("*", "-cronjob")``; blanks dropped."""
    parts = selection.split(",") if isinstance(selection, str) else selection
    return tuple(part.strip() for part in parts if part.strip())


def is_enabled(name: str, selection: Sequence[str]) -> bool:
    """kube-controller-manager's IsControllerEnabled: the first entry naming it wins, else ``*``."""
    star = False
    for entry in selection:
        if entry == name:
            return True
        if entry == f"-{name}":
            return False
        star = star or entry == "*"
    return star


def _check_selection(selection: Sequence[str], known: Iterable[str]) -> None:
    known_names = sorted(known)
    unknown = [e for e in selection if e != "*" and e.removeprefix("-") not in known_names]
    if unknown:
        raise ValueError(
            f"unknown controller(s) {', '.join(map(repr, unknown))} in the selection; "
            f"known controllers: {', '.join(known_names) or '(none)'}"
        )


# -- workers --------------------------------------------------------------------------------


async def process_next(queue: WorkQueue[str], reconcile: Reconcile, *, name: str = "") -> bool:
    """Take one key, reconcile it, queue it again as the outcome says; False once shut down."""
    try:
        key = await queue.get()
    except QueueShutDown:
        return False
    try:
        await _reconcile_key(queue, reconcile, key, name)
    finally:
        queue.done(key)
    return True


async def _reconcile_key(queue: WorkQueue[str], reconcile: Reconcile, key: str, name: str) -> None:
    try:
        result = await reconcile(key)
    except TemporaryError as exc:
        logger.warning("%s %s: %s; retrying in %gs", name, key, exc or "temporary error", exc.delay)
        queue.forget(key)
        queue.add_after(key, exc.delay)
    except PermanentError as exc:
        logger.error("%s %s: %s; not retrying", name, key, exc or "permanent error")
        queue.forget(key)
    except Exception as exc:
        first = queue.num_requeues(key) == 0
        delay = queue.add_rate_limited(key)
        if first:
            logger.exception("%s %s: reconcile failed; retrying in %.3gs", name, key, delay)
        else:
            logger.warning(
                "%s %s: reconcile failed again (%d in a row): %r; retrying in %.3gs",
                name,
                key,
                queue.num_requeues(key),
                exc,
                delay,
            )
    else:
        if result.requeue_after is not None:
            queue.forget(key)
            queue.add_after(key, result.requeue_after)
        elif result.requeue:
            queue.add_rate_limited(key)
        else:
            queue.forget(key)


async def run_worker(queue: WorkQueue[str], reconcile: Reconcile, *, name: str = "") -> None:
    """Process keys until the queue shuts down."""
    while await process_next(queue, reconcile, name=name):
        pass


# -- the manager ----------------------------------------------------------------------------


class ControllerManager:
    """Runs the enabled controllers; see the module docstring.

    One manager serves one term: its informers and queues end with ``run()``. Under leader
    election, build a new manager (and informer factory) each time leadership is acquired.
    """

    def __init__(
        self,
        controllers: Iterable[Controller],
        *,
        client: KubeClient,
        informers: InformerFactory,
        events: Callable[[str], EventRecorder] | None = None,
        clock: Clock | None = None,
        enabled: str | Sequence[str] = "*",
        workers_per_controller: int = 2,
        backoff_base: float = DEFAULT_BACKOFF_BASE,
        backoff_max: float = DEFAULT_BACKOFF_MAX,
    ) -> None:
        """``events`` makes the recorder of one controller from its name; by default one
        writing through ``client`` as component ``<name>-controller``."""
        controllers = list(controllers)
        names = [c.name for c in controllers]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"controller names must be unique: {', '.join(duplicates)}")
        if workers_per_controller < 1:
            raise ValueError("workers_per_controller must be at least 1")
        selection = parse_selection(enabled)
        _check_selection(selection, names)
        self.settings = ControllerSettings(
            enabled=selection,
            workers_per_controller=workers_per_controller,
            backoff_base=backoff_base,
            backoff_max=backoff_max,
        )
        self.controllers = [c for c in controllers if is_enabled(c.name, selection)]
        self.client = client
        self.informers = informers
        self.clock: Clock = clock or SystemClock()
        self._events = events or self._default_recorder
        self.queues: dict[str, WorkQueue[str]] = {}
        self._stopping = asyncio.Event()
        self._started = False

    @property
    def enabled(self) -> list[str]:
        return [c.name for c in self.controllers]

    def stats(self) -> list[QueueStats]:
        """Per-controller queue counters, for metrics."""
        return [queue.stats() for queue in self.queues.values()]

    def stop(self) -> None:
        """Ask ``run()`` to finish: workers complete the key in hand, then everything ends."""
        self._stopping.set()

    async def run(self) -> None:
        """Set up, start informers, wait for their caches, run workers until stopped."""
        if self._started:
            raise RuntimeError("a ControllerManager runs once")
        self._started = True
        contexts = [self._context(c) for c in self.controllers]
        for controller, ctx in zip(self.controllers, contexts, strict=True):
            await controller.setup(ctx)
        async with asyncio.TaskGroup() as tg:
            informing = tg.create_task(self._run_informers(), name="informers")
            stopping = tg.create_task(self._stopping.wait(), name="manager stop")
            syncing = tg.create_task(self.informers.wait_synced(), name="informers sync")
            await asyncio.wait({stopping, syncing}, return_when=asyncio.FIRST_COMPLETED)
            if not stopping.done():
                logger.info("caches synced; starting controllers: %s", ", ".join(self.enabled))
                for controller, ctx in zip(self.controllers, contexts, strict=True):
                    for n in range(self.settings.workers_per_controller):
                        worker = run_worker(ctx.queue, controller.reconcile, name=controller.name)
                        tg.create_task(worker, name=f"{controller.name} worker {n}")
                await stopping
            logger.info("stopping controllers")
            syncing.cancel()
            for queue in self.queues.values():
                queue.shutdown()
            informing.cancel()

    async def _run_informers(self) -> None:
        """Run the informers not started elsewhere, in a group that ends with the manager."""
        async with asyncio.TaskGroup() as group:
            self.informers.start(group)
            await asyncio.get_running_loop().create_future()  # until cancelled

    def _context(self, controller: Controller) -> ControllerContext:
        queue: WorkQueue[str] = WorkQueue(
            controller.name,
            clock=self.clock,
            rate_limiter=ExponentialBackoff(self.settings.backoff_base, self.settings.backoff_max),
        )
        self.queues[controller.name] = queue
        return ControllerContext(
            name=controller.name,
            client=self.client,
            informers=self.informers,
            queue=queue,
            events=self._events(controller.name),
            clock=self.clock,
            settings=self.settings,
            logger=logging.getLogger(f"atoll.controllers.{controller.name}"),
        )

    def _default_recorder(self, name: str) -> EventRecorder:
        return EventRecorder(self.client, f"{name}-controller", clock=self._wall_ns)

    def _wall_ns(self) -> int:
        now = self.clock.now()
        return int(now.timestamp()) * 10**9 + now.microsecond * 1000
