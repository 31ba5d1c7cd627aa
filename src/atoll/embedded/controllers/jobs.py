"""Jobs: run pods from a template until enough succeed, or give up (kube's job controller).

``job`` keeps ``parallelism`` pods running (never more than the completions still missing),
counts succeeded and failed pods, and finishes the Job with a ``Complete`` condition once
``completions`` pods succeeded (for a work-queue Job without ``completions``: once one
succeeded and none is left running) or a ``Failed`` condition when more pods failed than
``backoffLimit`` allows (reason ``BackoffLimitExceeded``) or the Job ran longer than
``activeDeadlineSeconds`` (``DeadlineExceeded``); active pods of a failed Job are deleted.
A pod that replaces a failed one waits kube 1.20's back-off: none after the first failure,
then 10 s, 20 s, … up to 6 minutes after the latest failure. Status carries ``active``,
``succeeded``, ``failed``, ``startTime`` and ``completionTime``; Events say what happened
(``SuccessfulCreate``, ``SuccessfulDelete``, ``FailedCreate``, ``Completed``,
``BackoffLimitExceeded``, ``DeadlineExceeded``).

``ttl-after-finished`` deletes finished Jobs ``ttlSecondsAfterFinished`` after they finished,
with Background propagation (the garbage collector removes their pods).

Pods are found through the owner-uid index (the Job's pods carry its ``controller-uid`` and
``job-name`` labels, which the API server put in the template when it generated the
selector). Creations and deletions are tracked as expectations, so a reconcile that runs
before the cache has caught up does not create the same pods twice.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from atoll.controllers.leadership import format_time, parse_time
from atoll.controllers.results import Result
from atoll.controllers.runtime import Controller, ControllerContext
from atoll.errors import ApiError, Conflict, NotFound
from atoll.kube.client import Object, ResourceType
from atoll.kube.events import EventType
from atoll.kube.informers import OWNER_UID_INDEX, Informer, by_owner_uid, key_of, split_key

from . import ControllerOptions
from .replicasets_expectations import Expectations
from .workload_pods import (
    PODS,
    controller_of,
    is_ready,
    is_terminating,
    pod_from_template,
)

__all__ = [
    "CONTROLLERS",
    "JOBS",
    "JobController",
    "TTLAfterFinishedController",
    "finished_condition",
    "rfc3339",
]

JOBS = ResourceType("batch", "v1", "jobs", "Job", True)

_BACKOFF_BASE = 10.0  # kube's DefaultJobBackOff
_BACKOFF_MAX = 360.0  # kube's MaxJobBackOff
_TERMINAL = ("Succeeded", "Failed")

_Event = tuple[EventType, str, str]  # type, reason, message


rfc3339 = format_time  # the name the batch controllers know it by


def finished_condition(job: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The True ``Complete`` or ``Failed`` condition of a finished Job, else None."""
    for condition in (job.get("status") or {}).get("conditions") or ():
        if (
            isinstance(condition, Mapping)
            and condition.get("type") in ("Complete", "Failed")
            and condition.get("status") == "True"
        ):
            return condition
    return None


def _phase(pod: Mapping[str, Any]) -> str:
    return str((pod.get("status") or {}).get("phase") or "")


def _is_active(pod: Mapping[str, Any]) -> bool:
    """``controller.IsPodActive``: neither terminal nor being deleted."""
    return _phase(pod) not in _TERMINAL and not is_terminating(pod)


def _deletion_rank(pod: Mapping[str, Any]) -> tuple[int, int, int]:
    """``controller.ActivePods`` order: unscheduled, pending and not-ready pods go first."""
    scheduled = 1 if (pod.get("spec") or {}).get("nodeName") else 0
    running = {"Pending": 0, "Unknown": 1, "Running": 2}.get(_phase(pod), 0)
    return (scheduled, running, 1 if is_ready(pod) else 0)


def _restarts(pod: Mapping[str, Any]) -> int:
    status = pod.get("status") or {}
    statuses = list(status.get("initContainerStatuses") or [])
    statuses += list(status.get("containerStatuses") or [])
    return sum(int(s.get("restartCount") or 0) for s in statuses if isinstance(s, Mapping))


def _past_backoff_limit_on_failure(spec: Mapping[str, Any], pods: Sequence[Object]) -> bool:
    """``pastBackoffLimitOnFailure``: container restarts of an OnFailure Job count as retries."""
    if ((spec.get("template") or {}).get("spec") or {}).get("restartPolicy") != "OnFailure":
        return False
    limit = int(spec.get("backoffLimit", 6))
    restarts = sum(_restarts(p) for p in pods if _phase(p) in ("Running", "Pending"))
    return restarts > 0 if limit == 0 else restarts >= limit


def _failed_at(pod: Mapping[str, Any]) -> datetime | None:
    """When a failed pod finished: its containers' ``finishedAt``, else its Ready transition."""
    status = pod.get("status") or {}
    times = [
        parse_time(((s.get("state") or {}).get("terminated") or {}).get("finishedAt"))
        for s in status.get("containerStatuses") or ()
        if isinstance(s, Mapping)
    ]
    times += [
        parse_time(c.get("lastTransitionTime"))
        for c in status.get("conditions") or ()
        if isinstance(c, Mapping) and c.get("type") == "Ready"
    ]
    known = [t for t in times if t is not None]
    return max(known) if known else None


def _backoff_remaining(failed: Sequence[Object], now: datetime) -> float:
    """Seconds until a pod may replace the failed ones (0 after the first failure)."""
    if len(failed) <= 1:
        return 0.0
    delay = min(_BACKOFF_BASE * 2 ** (len(failed) - 2), _BACKOFF_MAX)
    last = max((t for t in map(_failed_at, failed) if t is not None), default=None)
    if last is None:
        return 0.0
    return max((last + timedelta(seconds=delay) - now).total_seconds(), 0.0)


def _condition(kind: str, now: datetime, reason: str = "", message: str = "") -> dict[str, Any]:
    condition: dict[str, Any] = {
        "type": kind,
        "status": "True",
        "lastProbeTime": rfc3339(now),
        "lastTransitionTime": rfc3339(now),
    }
    if reason:
        condition["reason"] = reason
    if message:
        condition["message"] = message
    return condition


class JobController:
    """Kube's job controller; see the module docstring."""

    name = "job"

    def __init__(self, options: ControllerOptions) -> None:
        self._options = options

    async def setup(self, ctx: ControllerContext) -> None:
        self._ctx = ctx
        self._expectations = Expectations(ctx.clock)
        self._jobs: Informer = ctx.informers.informer(JOBS)
        self._pods: Informer = ctx.informers.informer(PODS)
        self._pods.add_indexer(OWNER_UID_INDEX, by_owner_uid)
        self._jobs.add_handler(ctx.enqueue, lambda _old, new: ctx.enqueue(new), self._job_gone)
        self._pods.add_handler(self._pod_added, self._pod_updated, self._pod_deleted)

    # -- handlers: they only count off expectations and enqueue ------------------------------

    def _owner_key(self, pod: Object) -> str | None:
        ref = controller_of(pod)
        if ref is None or ref.get("kind") != "Job" or not ref.get("name"):
            return None
        if str(ref.get("apiVersion", "")).partition("/")[0] != "batch":
            return None
        return f"{(pod.get('metadata') or {}).get('namespace', '')}/{ref['name']}"

    def _pod_added(self, pod: Object) -> None:
        key = self._owner_key(pod)
        if key is not None:
            self._expectations.creation_observed(key)
            self._ctx.queue.add(key)

    def _pod_updated(self, old: Object, new: Object) -> None:
        key = self._owner_key(new)
        if key is not None:
            if is_terminating(new):
                self._expectations.deletion_observed(key, key_of(new))
            self._ctx.queue.add(key)

    def _pod_deleted(self, pod: Object) -> None:
        key = self._owner_key(pod)
        if key is not None:
            self._expectations.deletion_observed(key, key_of(pod))
            self._ctx.queue.add(key)

    def _job_gone(self, job: Object) -> None:
        self._expectations.forget(key_of(job))

    # -- reconcile ----------------------------------------------------------------------------

    async def reconcile(self, key: str) -> Result:
        job = self._jobs.get(key)
        if job is None:
            return Result()
        finished = finished_condition(job)
        if finished is not None:
            if finished.get("type") == "Failed":
                return await self._clear_failed(job)
            return Result()
        status, events, requeue = await self._sync(key, job)
        if status != (job.get("status") or {}):
            try:
                await self._write_status(
                    job, status, must_land=finished_condition({"status": status}) is not None
                )
            except (Conflict, NotFound):
                return Result(requeue=True)
        for kind, reason, message in events:
            await self._ctx.events.record(job, reason, message=message, type=kind)
        return Result() if requeue is None else Result(requeue_after=requeue)

    async def _write_status(self, job: Object, status: dict[str, Any], *, must_land: bool) -> None:
        """Write the Job's status. A finishing status follows pod deletions that cannot be
        undone, and a retry would no longer see those pods to count them: so when the cached
        Job is stale, the status goes onto the stored one instead of a requeue."""
        namespace, name = split_key(key_of(job))
        for _ in range(5 if must_land else 1):
            try:
                await self._ctx.client.replace_status(JOBS, {**job, "status": status})
                return
            except Conflict:
                if not must_land:
                    raise
                job = await self._ctx.client.get(JOBS, name, namespace=namespace)
                if finished_condition(job) is not None:
                    return  # another writer finished it already
        raise Conflict(f"the status of Job {namespace}/{name} kept changing")

    async def _clear_failed(self, job: Object) -> Result:
        """Delete a pod the cache had not shown yet when the Job failed (a failed Job leaves
        nothing running), counting it as failed, as the pods deleted then were."""
        if not self._expectations.satisfied(key_of(job)):
            return Result()  # the deletions made at failure are not all seen yet
        late = [p for p in self._owned(job) if _is_active(p)]
        if not late:
            return Result()
        await self._delete_pods(job, late)
        status = dict(job.get("status") or {})
        status["failed"] = int(status.get("failed") or 0) + len(late)
        try:
            await self._ctx.client.replace_status(JOBS, {**job, "status": status})
        except (Conflict, NotFound):
            return Result(requeue=True)
        return Result()

    def _owned(self, job: Object) -> list[Object]:
        uid = job["metadata"].get("uid", "")
        return [p for p in self._pods.by_index(OWNER_UID_INDEX, uid) if _controlled_by(p, uid)]

    async def _sync(
        self, key: str, job: Object
    ) -> tuple[dict[str, Any], list[_Event], float | None]:
        """Manage the pods; the status they add up to, the Events to record, when to look again."""
        pods = self._owned(job)
        now = self._ctx.clock.now()
        status: dict[str, Any] = dict(job.get("status") or {})
        started = parse_time(status.get("startTime"))
        if started is None:
            started = now
            status["startTime"] = rfc3339(now)
        active = [p for p in pods if _is_active(p)]
        failed = [p for p in pods if _phase(p) == "Failed"]
        succeeded = sum(1 for p in pods if _phase(p) == "Succeeded")
        failure = self._failure(job, pods, len(failed), started, now)
        if failure is not None:
            await self._delete_pods(job, active)
            _set_counts(status, active=0, succeeded=succeeded, failed=len(failed) + len(active))
            condition = _condition("Failed", now, *failure)
            status["conditions"] = [*status.get("conditions", []), condition]
            return status, [("Warning", *failure)], None
        running, requeue = await self._manage(key, job, active, succeeded, failed, now)
        _set_counts(status, active=running, succeeded=succeeded, failed=len(failed))
        events = self._completion(job, status, running, succeeded, now)
        if finished_condition({"status": status}) is None:
            requeue = _earliest(requeue, self._deadline_in(job, started, now))
        return status, events, requeue

    def _failure(
        self, job: Object, pods: Sequence[Object], failed: int, started: datetime, now: datetime
    ) -> tuple[str, str] | None:
        spec = job.get("spec") or {}
        if failed > int(spec.get("backoffLimit", 6)) or _past_backoff_limit_on_failure(spec, pods):
            return ("BackoffLimitExceeded", "Job has reached the specified backoff limit")
        deadline = self._deadline_in(job, started, now)
        if deadline is not None and deadline <= 0:
            return ("DeadlineExceeded", "Job was active longer than specified deadline")
        return None

    @staticmethod
    def _deadline_in(job: Object, started: datetime, now: datetime) -> float | None:
        seconds = (job.get("spec") or {}).get("activeDeadlineSeconds")
        if not isinstance(seconds, int) or isinstance(seconds, bool):
            return None
        return (started + timedelta(seconds=seconds) - now).total_seconds()

    def _completion(
        self, job: Object, status: dict[str, Any], active: int, succeeded: int, now: datetime
    ) -> list[_Event]:
        """Finish the Job when enough pods succeeded; the Events that go with it."""
        completions = (job.get("spec") or {}).get("completions")
        events: list[_Event] = []
        if completions is None:
            complete = succeeded > 0 and active == 0
        else:
            complete = succeeded >= int(completions)
            if complete and active > 0:
                message = "Too many active pods running after completion count reached"
                events.append(("Warning", "TooManyActivePods", message))
            if succeeded > int(completions):
                message = "Too many succeeded pods running after completion count reached"
                events.append(("Warning", "TooManySucceededPods", message))
        if complete:
            status["conditions"] = [*status.get("conditions", []), _condition("Complete", now)]
            status["completionTime"] = rfc3339(now)
            events.append(("Normal", "Completed", "Job completed"))
        return events

    async def _manage(
        self,
        key: str,
        job: Object,
        active: list[Object],
        succeeded: int,
        failed: list[Object],
        now: datetime,
    ) -> tuple[int, float | None]:
        """Create or delete pods towards the wanted number; (active count, requeue delay)."""
        if not self._expectations.satisfied(key) or job["metadata"].get("deletionTimestamp"):
            return len(active), None
        spec = job.get("spec") or {}
        parallelism = int(spec.get("parallelism", 1))
        if len(active) > parallelism:
            excess = sorted(active, key=_deletion_rank)[: len(active) - parallelism]
            deleted = await self._delete_pods(job, excess)
            return len(active) - deleted, None
        completions = spec.get("completions")
        if completions is None:
            wanted = len(active) if succeeded > 0 else parallelism
        else:
            wanted = min(int(completions) - succeeded, parallelism)
        missing = max(wanted - len(active), 0)
        if missing == 0:
            return len(active), None
        wait = _backoff_remaining(failed, now)
        if wait > 0:
            return len(active), wait
        created, error = await self._create_pods(key, job, missing)
        if error:
            return len(active) + created, float(_BACKOFF_BASE)
        return len(active) + created, None

    async def _create_pods(self, key: str, job: Object, count: int) -> tuple[int, bool]:
        """Create ``count`` pods in slow-start batches (1, 2, 4, …); (created, failed)."""
        template = (job.get("spec") or {}).get("template") or {}
        namespace = job["metadata"]["namespace"]
        self._expectations.expect_creations(key, count)
        created, batch, remaining = 0, 1, count
        while remaining > 0:
            size = min(batch, remaining)
            results = await asyncio.gather(
                *(self._create_pod(job, template, namespace) for _ in range(size))
            )
            ok = sum(results)
            created += ok
            remaining -= size
            if ok < size:
                for _ in range(size - ok + remaining):
                    self._expectations.creation_observed(key)  # never coming
                return created, True
            batch *= 2
        return created, False

    async def _create_pod(self, job: Object, template: Mapping[str, Any], namespace: str) -> bool:
        pod = pod_from_template(template, job)
        try:
            made = await self._ctx.client.create(PODS, pod, namespace=namespace)
        except ApiError as exc:
            await self._ctx.events.warning(job, "FailedCreate", message=f"Error creating: {exc}")
            return False
        name = made["metadata"]["name"]
        await self._ctx.events.normal(job, "SuccessfulCreate", message=f"Created pod: {name}")
        return True

    async def _delete_pods(self, job: Object, pods: Sequence[Object]) -> int:
        if not pods:
            return 0
        key = key_of(job)
        self._expectations.expect_deletions(key, [key_of(p) for p in pods])
        results = await asyncio.gather(*(self._delete_pod(job, key, p) for p in pods))
        return sum(results)

    async def _delete_pod(self, job: Object, key: str, pod: Object) -> bool:
        namespace, name = split_key(key_of(pod))
        try:
            await self._ctx.client.delete(PODS, name, namespace=namespace)
        except NotFound:
            self._expectations.deletion_observed(key, key_of(pod))
            return True
        except ApiError as exc:
            self._expectations.deletion_observed(key, key_of(pod))
            await self._ctx.events.warning(job, "FailedDelete", message=f"Error deleting: {exc}")
            return False
        await self._ctx.events.normal(job, "SuccessfulDelete", message=f"Deleted pod: {name}")
        return True


def _controlled_by(pod: Object, uid: str) -> bool:
    ref = controller_of(pod)
    return ref is not None and ref.get("uid") == uid


def _set_counts(status: dict[str, Any], *, active: int, succeeded: int, failed: int) -> None:
    """``active``/``succeeded``/``failed``, omitted when zero as Go's omitempty does."""
    for name, value in (("active", active), ("succeeded", succeeded), ("failed", failed)):
        if value:
            status[name] = value
        else:
            status.pop(name, None)


def _earliest(a: float | None, b: float | None) -> float | None:
    known = [max(v, 0.0) for v in (a, b) if v is not None]
    return min(known) if known else None


class TTLAfterFinishedController:
    """Deletes a finished Job ``ttlSecondsAfterFinished`` seconds after it finished."""

    name = "ttl-after-finished"

    def __init__(self, options: ControllerOptions) -> None:
        self._options = options

    async def setup(self, ctx: ControllerContext) -> None:
        self._ctx = ctx
        self._jobs: Informer = ctx.informers.informer(JOBS)
        self._jobs.add_handler(ctx.enqueue, lambda _old, new: ctx.enqueue(new))

    async def reconcile(self, key: str) -> Result:
        job = self._jobs.get(key)
        if job is None or job["metadata"].get("deletionTimestamp"):
            return Result()
        ttl = (job.get("spec") or {}).get("ttlSecondsAfterFinished")
        condition = finished_condition(job)
        if not isinstance(ttl, int) or isinstance(ttl, bool) or condition is None:
            return Result()
        finished = parse_time(condition.get("lastTransitionTime")) or self._ctx.clock.now()
        remaining = (finished + timedelta(seconds=ttl) - self._ctx.clock.now()).total_seconds()
        if remaining > 0:
            return Result(requeue_after=remaining)
        namespace, name = split_key(key)
        # NotFound: gone already; Conflict: a new Job of the same name, not ours to delete.
        with contextlib.suppress(NotFound, Conflict):
            await self._ctx.client.delete(
                JOBS,
                name,
                namespace=namespace,
                propagation_policy="Background",
                preconditions={"uid": job["metadata"]["uid"]},
            )
        return Result()


def _job_controller(options: ControllerOptions) -> Controller:
    return JobController(options)


def _ttl_controller(options: ControllerOptions) -> Controller:
    return TTLAfterFinishedController(options)


CONTROLLERS = [_job_controller, _ttl_controller]
