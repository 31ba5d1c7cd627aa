"""CronJobs: start a Job at each time of a cron schedule (kube's CronJob controller, v2).

Each reconcile of a CronJob:

1. brings ``status.active`` in line with its Jobs: a finished Job leaves it
   (``SawCompletedJob``), a vanished one too (``MissingJob``), an unfinished Job it owns but
   does not list is reported (``UnexpectedJob``); the newest ``completionTime`` of its
   complete Jobs becomes ``status.lastSuccessfulTime``;
2. unless the CronJob is suspended or being deleted, finds the most recent scheduled time
   not yet run (since ``lastScheduleTime``, or its creation; no earlier than
   ``startingDeadlineSeconds`` ago), warns ``TooManyMissedTimes`` past 100 missed runs, and
   starts the Job ``<cronjob>-<scheduled time in Unix minutes>`` — the name is the lock that
   keeps one time from running twice — honouring ``concurrencyPolicy`` (``Allow``;
   ``Forbid``: not while one runs, ``JobAlreadyActive``; ``Replace``: delete the running ones
   first) and ``startingDeadlineSeconds`` (too late: ``MissSchedule``);
3. deletes the oldest finished Jobs beyond ``successfulJobsHistoryLimit`` and
   ``failedJobsHistoryLimit`` (``SuccessfulDelete``);
4. writes the status and asks to be looked at again just after the next scheduled time.

"Now" is the injected clock's, so a test drives schedules with a ``ManualClock``. Schedules
are read in ``spec.timeZone`` (or a ``CRON_TZ=`` prefix), else in the host's zone.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from atoll.controllers.leadership import parse_time
from atoll.controllers.results import Result
from atoll.controllers.runtime import Controller, ControllerContext
from atoll.errors import AlreadyExists, ApiError, Conflict, NotFound
from atoll.kube.client import Object, ResourceType
from atoll.kube.informers import OWNER_UID_INDEX, Informer, by_owner_uid, split_key

from . import ControllerOptions
from .cronjobs_schedule import CronError, CronSchedule, parse_cron
from .jobs import JOBS, finished_condition, rfc3339
from .workload_pods import controller_of, controller_ref

__all__ = ["CONTROLLERS", "CRONJOBS", "CronJobController", "job_name"]

CRONJOBS = ResourceType("batch", "v1", "cronjobs", "CronJob", True)

_NEXT_SCHEDULE_DELTA = 0.1  # kube's nextScheduleDelta: wake just after the scheduled time


def job_name(cronjob: str, scheduled: datetime) -> str:
    """``<cronjob>-<scheduled time in Unix minutes>`` (kube's getJobName)."""
    return f"{cronjob}-{int(scheduled.timestamp()) // 60}"


def _rfc1123z(when: datetime) -> str:
    """Go's time.RFC1123Z, as kube's MissSchedule message prints the missed time."""
    return when.strftime("%a, %d %b %Y %H:%M:%S +0000")


def _job_ref(job: Mapping[str, Any]) -> dict[str, str]:
    meta = job.get("metadata") or {}
    return {
        "kind": "Job",
        "namespace": meta.get("namespace", ""),
        "name": meta.get("name", ""),
        "uid": meta.get("uid", ""),
        "apiVersion": "batch/v1",
        "resourceVersion": meta.get("resourceVersion", ""),
    }


def _started(job: Mapping[str, Any]) -> tuple[str, str, str]:
    """Sort key of kube's byJobStartTime: start time, else creation time; then the name.

    The name (``<cronjob>-<minutes>``) orders Jobs started within one second by schedule.
    """
    status, meta = job.get("status") or {}, job.get("metadata") or {}
    created = str(meta.get("creationTimestamp") or "")
    name = str(meta.get("name") or "")
    return (str(status.get("startTime") or created), created, name.rjust(300))


class CronJobController:
    """Kube's CronJob controller; see the module docstring."""

    name = "cronjob"

    def __init__(self, options: ControllerOptions) -> None:
        self._options = options

    async def setup(self, ctx: ControllerContext) -> None:
        self._ctx = ctx
        self._cronjobs: Informer = ctx.informers.informer(CRONJOBS)
        self._jobs: Informer = ctx.informers.informer(JOBS)
        self._jobs.add_indexer(OWNER_UID_INDEX, by_owner_uid)
        self._cronjobs.add_handler(ctx.enqueue, lambda _old, new: ctx.enqueue(new))
        self._jobs.add_handler(
            self._job_changed, lambda _old, new: self._job_changed(new), self._job_changed
        )

    def _job_changed(self, job: Object) -> None:
        self._ctx.enqueue_owner(job, kind="CronJob", api_version="batch/v1")

    async def reconcile(self, key: str) -> Result:
        cronjob = self._cronjobs.get(key)
        if cronjob is None:
            return Result()
        uid = cronjob["metadata"].get("uid")
        jobs = [j for j in self._jobs.by_index(OWNER_UID_INDEX, uid) if _owned(j, uid)]
        cronjob = await self._fresh_if_stale(key, cronjob, jobs)
        status: dict[str, Any] = copy.deepcopy(cronjob.get("status") or {})
        await self._track_jobs(cronjob, status, jobs)
        requeue: float | None = None
        spec = cronjob.get("spec") or {}
        if not cronjob["metadata"].get("deletionTimestamp") and not spec.get("suspend"):
            requeue = await self._schedule(cronjob, status)
        await self._clean_up(cronjob, status, jobs)
        if status != (cronjob.get("status") or {}):
            try:
                await self._ctx.client.replace_status(CRONJOBS, {**cronjob, "status": status})
            except (Conflict, NotFound):
                return Result(requeue=True)
        return Result() if requeue is None else Result(requeue_after=requeue)

    # -- 1. active jobs -------------------------------------------------------------------

    async def _fresh_if_stale(self, key: str, cronjob: Object, jobs: Sequence[Object]) -> Object:
        """Read the CronJob from the server when the cache may not show a Job it just started."""
        active = {ref.get("uid") for ref in (cronjob.get("status") or {}).get("active") or ()}
        unlisted = [j for j in jobs if j["metadata"]["uid"] not in active]
        if not any(finished_condition(j) is None for j in unlisted):
            return cronjob
        namespace, name = split_key(key)
        try:
            return await self._ctx.client.get(CRONJOBS, name, namespace=namespace)
        except NotFound:
            return cronjob

    async def _track_jobs(
        self, cronjob: Object, status: dict[str, Any], jobs: Sequence[Object]
    ) -> None:
        events = self._ctx.events
        active: list[dict[str, Any]] = list(status.get("active") or [])
        listed = {ref.get("uid") for ref in active}
        for job in jobs:
            meta, condition = job["metadata"], finished_condition(job)
            if condition is None and meta["uid"] not in listed:
                message = f"Saw a job that the controller did not create or forgot: {meta['name']}"
                await events.warning(cronjob, "UnexpectedJob", message=message)
            elif condition is not None and meta["uid"] in listed:
                active = [ref for ref in active if ref.get("uid") != meta["uid"]]
                message = f"Saw completed job: {meta['name']}, status: {condition['type']}"
                await events.normal(cronjob, "SawCompletedJob", message=message)
            if condition is not None and condition["type"] == "Complete":
                _note_success(status, job)
        present = {j["metadata"]["uid"] for j in jobs}
        for ref in list(active):
            if ref.get("uid") not in present and await self._missing(ref):
                active.remove(ref)
                message = f"Active job went missing: {ref.get('name')}"
                await events.normal(cronjob, "MissingJob", message=message)
        _set_active(status, active)

    async def _missing(self, ref: Mapping[str, Any]) -> bool:
        """Not in the cache: ask the server before believing it is gone (a slow watch)."""
        try:
            live = await self._ctx.client.get(JOBS, ref["name"], namespace=ref["namespace"])
        except NotFound:
            return True
        return bool(live["metadata"].get("uid") != ref.get("uid"))

    # -- 2. scheduling --------------------------------------------------------------------

    async def _schedule(self, cronjob: Object, status: dict[str, Any]) -> float | None:
        """Start the Job due now, if any; seconds until just after the next scheduled time."""
        schedule = await self._parse(cronjob)
        if schedule is None:
            return None
        now = self._ctx.clock.now()
        following = schedule.next(now)
        wait = None
        if following is not None:
            wait = (following - now).total_seconds() + _NEXT_SCHEDULE_DELTA
        scheduled = await self._due(cronjob, schedule, now)
        if scheduled is not None and not await self._run(cronjob, status, scheduled, now):
            return 10.0 if wait is None else min(wait, 10.0)  # retry a failed create
        return wait

    async def _run(
        self, cronjob: Object, status: dict[str, Any], scheduled: datetime, now: datetime
    ) -> bool:
        """Start the Job of ``scheduled`` unless policy or deadline says no; False on failure."""
        spec = cronjob.get("spec") or {}
        deadline = spec.get("startingDeadlineSeconds")
        if isinstance(deadline, int) and (now - scheduled).total_seconds() > deadline:
            message = f"Missed scheduled time to start a job: {_rfc1123z(scheduled)}"
            await self._ctx.events.warning(cronjob, "MissSchedule", message=message)
            return True
        name = job_name(cronjob["metadata"]["name"], scheduled)
        active = list(status.get("active") or [])
        if any(ref.get("name") == name for ref in active):
            return True
        if parse_time(status.get("lastScheduleTime")) == scheduled:
            return True
        if spec.get("concurrencyPolicy") == "Forbid" and active:
            message = (
                "Not starting job because prior execution is running and concurrency policy "
                "is Forbid"
            )
            await self._ctx.events.normal(cronjob, "JobAlreadyActive", message=message)
            return True
        if spec.get("concurrencyPolicy") == "Replace":
            for ref in active:
                await self._delete_job(cronjob, ref["namespace"], ref["name"])
            active = []
        job = await self._start(cronjob, name)
        if job is None:
            return False
        if finished_condition(job) is None:
            active.append(_job_ref(job))
        _set_active(status, active)
        status["lastScheduleTime"] = rfc3339(scheduled)
        return True

    async def _parse(self, cronjob: Object) -> CronSchedule | None:
        spec = cronjob.get("spec") or {}
        text = str(spec.get("schedule") or "")
        try:
            return parse_cron(text, spec.get("timeZone"))
        except CronError as exc:
            if spec.get("timeZone") and str(exc).startswith("unknown time zone"):
                message = f"invalid timeZone: {spec['timeZone']!r}: {exc}"
                await self._ctx.events.warning(cronjob, "UnknownTimeZone", message=message)
            else:
                message = f'unparseable schedule: "{text}" : {exc}'
                await self._ctx.events.warning(cronjob, "UnparseableSchedule", message=message)
            return None

    async def _due(self, cronjob: Object, schedule: CronSchedule, now: datetime) -> datetime | None:
        """kube's getNextScheduleTime: the latest time not run, warning when many were missed."""
        status, spec = cronjob.get("status") or {}, cronjob.get("spec") or {}
        earliest = parse_time(status.get("lastScheduleTime")) or parse_time(
            cronjob["metadata"].get("creationTimestamp")
        )
        if earliest is None:
            return None
        deadline = spec.get("startingDeadlineSeconds")
        if isinstance(deadline, int):
            earliest = max(earliest, now - timedelta(seconds=deadline))
        if earliest > now:
            return None
        scheduled, missed = schedule.most_recent(earliest, now)
        if missed > 100:
            message = (
                f"too many missed start times: {missed}. Set or decrease "
                ".spec.startingDeadlineSeconds or check clock skew"
            )
            await self._ctx.events.warning(cronjob, "TooManyMissedTimes", message=message)
        return scheduled

    async def _start(self, cronjob: Object, name: str) -> Object | None:
        """Create the Job of one scheduled time; None if that failed."""
        template = (cronjob.get("spec") or {}).get("jobTemplate") or {}
        tmeta = template.get("metadata") or {}
        namespace = cronjob["metadata"]["namespace"]
        meta: dict[str, Any] = {
            "name": name,
            "namespace": namespace,
            "ownerReferences": [controller_ref(cronjob)],
        }
        for field in ("labels", "annotations"):
            if tmeta.get(field):
                meta[field] = dict(tmeta[field])
        job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": meta}
        job["spec"] = copy.deepcopy(template.get("spec") or {})
        try:
            made = await self._ctx.client.create(JOBS, job, namespace=namespace)
        except AlreadyExists:
            # Started before, by us, but the status write was lost: adopt it into the status.
            made = await self._ctx.client.get(JOBS, name, namespace=namespace)
            return made if _owned(made, cronjob["metadata"]["uid"]) else None
        except ApiError as exc:
            message = f"Error creating job: {exc}"
            await self._ctx.events.warning(cronjob, "FailedCreate", message=message)
            return None
        await self._ctx.events.normal(cronjob, "SuccessfulCreate", message=f"Created job {name}")
        return made

    # -- 3. history -----------------------------------------------------------------------

    async def _clean_up(
        self, cronjob: Object, status: dict[str, Any], jobs: Sequence[Object]
    ) -> None:
        spec = cronjob.get("spec") or {}
        for kind, limit_field in (
            ("Complete", "successfulJobsHistoryLimit"),
            ("Failed", "failedJobsHistoryLimit"),
        ):
            limit = spec.get(limit_field)
            if not isinstance(limit, int):
                continue
            done = [j for j in jobs if (finished_condition(j) or {}).get("type") == kind]
            done.sort(key=_started)
            for job in done[: max(len(done) - limit, 0)]:
                meta = job["metadata"]
                await self._delete_job(cronjob, meta["namespace"], meta["name"])
                active = [r for r in status.get("active") or [] if r.get("uid") != meta["uid"]]
                _set_active(status, active)

    async def _delete_job(self, cronjob: Object, namespace: str, name: str) -> None:
        try:
            await self._ctx.client.delete(
                JOBS, name, namespace=namespace, propagation_policy="Background"
            )
        except NotFound:
            return  # deleted already: the cache had not caught up
        except ApiError as exc:
            message = f"Deleted job: {exc}"
            await self._ctx.events.warning(cronjob, "FailedDelete", message=message)
            return
        await self._ctx.events.normal(cronjob, "SuccessfulDelete", message=f"Deleted job {name}")


def _owned(job: Mapping[str, Any], uid: object) -> bool:
    ref = controller_of(job)
    return ref is not None and ref.get("uid") == uid


def _set_active(status: dict[str, Any], active: list[dict[str, Any]]) -> None:
    if active:
        status["active"] = active
    else:
        status.pop("active", None)


def _note_success(status: dict[str, Any], job: Mapping[str, Any]) -> None:
    completed = parse_time((job.get("status") or {}).get("completionTime"))
    if completed is None:
        return
    known = parse_time(status.get("lastSuccessfulTime"))
    if known is None or completed > known:
        status["lastSuccessfulTime"] = rfc3339(completed)


def _cronjob_controller(options: ControllerOptions) -> Controller:
    return CronJobController(options)


CONTROLLERS = [_cronjob_controller]
