"""One pod's life on this node: the kubelet's pod worker.

``PodWorker.run`` takes a pod from bound to gone: it prepares the volumes, runs the init
containers one by one (each must succeed), then starts every container under a supervisor
that restarts it as ``restartPolicy`` says, with the kubelet's back-off (10 s doubling to
five minutes, shown as ``CrashLoopBackOff``; the first restart is immediate; a container
that ran ten minutes starts afresh). Probes run beside each container. Status is written
whenever it changes, coalesced: the writer always sends the newest state.

Deletion: once the pod has a deletionTimestamp, every container is stopped — preStop hook,
SIGTERM, then SIGKILL when the grace period runs out — and the pod is deleted for good
(grace 0, with a uid precondition so a newer pod of the same name is never hit). A pod that
vanished from the API (force-deleted) is killed at once.

``PodHost`` is what the worker needs from the kubelet; the worker never talks HTTP itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import signal
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .env import PodFacts, build_env
from .launching import command_line, container_launch, pod_hostname
from .podhost import LogSink, PodHost
from .probes import ProbeKind, Prober
from .runtime import Container, Exit, OutputFanout, StartError
from .sandboxes import PodSandbox
from .status import ContainerState, pod_status
from .volumes import Volumes

__all__ = ["PodWorker", "backoff_delay"]

logger = logging.getLogger(__name__)

Object = dict[str, Any]

BACKOFF_INITIAL = 10.0
BACKOFF_MAX = 300.0
BACKOFF_RESET = 600.0  # a container that ran this long restarts without back-off
DEFAULT_GRACE = 30
MESSAGE_FILE_LIMIT = 4096  # bytes of terminationMessagePath the kubelet reads
MESSAGE_LOG_LIMIT = 2048  # bytes of log tail for FallbackToLogsOnError


def launch_dir(state: ContainerState) -> str:
    return f"{state.name}-{state.restart_count}"


def backoff_delay(failures: int) -> float:
    """Seconds before restart number ``failures`` (1-based): 0, 10, 20, 40 … 300."""
    if failures <= 1:
        return 0.0
    return float(min(BACKOFF_INITIAL * 2.0 ** (failures - 2), BACKOFF_MAX))


class PodWorker:
    """Runs one pod; ``update`` hands it the newest object, ``run`` is its whole life."""

    def __init__(
        self, host: PodHost, pod: Object, *, refused: tuple[str, str] | None = None
    ) -> None:
        self.host = host
        self.pod = pod
        self.uid = str(pod["metadata"]["uid"])
        spec = pod.get("spec") or {}
        previous = self._previous_statuses(pod)
        self.init = [self._state(c, previous, init=True) for c in spec.get("initContainers") or []]
        self.apps = [self._state(c, previous) for c in spec.get("containers") or []]
        self.started_at = datetime.now(UTC)
        self.phase = "Pending"
        known = (pod.get("status") or {}).get("phase")
        self._finished_before = known in ("Succeeded", "Failed")
        if self._finished_before:  # it ran to its end before a kubelet restart: never rerun
            self.phase = str(known)
        self.running: dict[str, Container] = {}
        self.outputs: dict[str, OutputFanout] = {}  # of running containers, for attach
        self.sinks: dict[str, LogSink] = {}
        self._failures: dict[str, int] = {}
        self._why_failed: dict[str, str] = {}  # a container that could not start: why
        self._dirty = asyncio.Event()
        self._terminating = asyncio.Event()
        self._gone = False
        self._deleted = False
        self._grace_cap: float | None = None
        self._failed_because: tuple[str, str] | None = refused  # status reason and message
        if refused is not None:  # the node's admission refused it: Failed, never run
            self.phase = "Failed"
        self._written: Object | None = None
        self._volumes: Volumes | None = None
        self._sandbox: PodSandbox | None = None
        previous_ip = (pod.get("status") or {}).get("podIP")
        self._pod_ip = str(previous_ip) if self._finished_before and previous_ip else ""

    @staticmethod
    def _previous_statuses(pod: Object) -> dict[str, Object]:
        status = pod.get("status") or {}
        found = [
            *(status.get("initContainerStatuses") or []),
            *(status.get("containerStatuses") or []),
        ]
        return {s.get("name", ""): s for s in found}

    @staticmethod
    def _state(
        container: Object, previous: dict[str, Object], *, init: bool = False
    ) -> ContainerState:
        state = ContainerState(container["name"], container.get("image", ""), init=init)
        before = previous.get(container["name"])
        if before and before.get("containerID"):  # a kubelet restart: keep counting restarts
            state.restart_count = int(before.get("restartCount") or 0) + 1
        return state

    @property
    def name(self) -> str:
        meta = self.pod["metadata"]
        return f"{meta['namespace']}/{meta['name']}"

    # -- from the kubelet -------------------------------------------------------------

    def update(self, pod: Object) -> None:
        self.pod = pod
        if (pod.get("metadata") or {}).get("deletionTimestamp"):
            self._terminating.set()

    def gone(self, *, grace: float = 0, deleted: bool = True) -> None:
        """Stop everything within ``grace`` seconds, writing nothing more to the API: the pod
        was force-deleted (``deleted``), or the kubelet is shutting down."""
        self._gone = True
        self._deleted = self._deleted or deleted
        self._grace_cap = grace
        self._terminating.set()

    @property
    def netns(self) -> Path | None:
        """The pod's network namespace, once it has one (None: this machine's network)."""
        return self._sandbox.netns if self._sandbox is not None else None

    @property
    def gone_for_good(self) -> bool:
        """Whether the pod was deleted (its directory and logs can go)."""
        return self._deleted

    async def refresh_volumes(self) -> None:
        if self._volumes is not None and not self._terminating.is_set():
            await self._volumes.refresh()

    # -- the life of the pod ----------------------------------------------------------

    async def run(self) -> None:
        reporter = asyncio.create_task(self._report())
        life = asyncio.create_task(self._live())
        stop = asyncio.create_task(self._terminating.wait())
        try:
            await asyncio.wait([life, stop], return_when=asyncio.FIRST_COMPLETED)
            if life.done():
                if not life.cancelled() and life.exception() is not None:
                    logger.error(
                        "pod %s failed in the kubelet", self.name, exc_info=life.exception()
                    )
                    self.phase = "Failed"
                    self._changed()
                await stop  # a finished pod stays until it is deleted
            else:
                stop.cancel()
                life.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await life
            await self._terminate()
        finally:
            stop.cancel()
            if self._volumes is not None:
                self._volumes.teardown()
            if self._sandbox is not None:
                await asyncio.shield(self.host.release_sandbox(self.pod))
            await self._flush(reporter)
        if not self._gone:
            await self.host.delete_pod(self.pod)
            self._deleted = True

    async def _flush(self, reporter: asyncio.Task[None]) -> None:
        """Write the final status (unless the pod is gone), then stop the reporter."""
        reporter.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reporter
        if not self._gone:
            try:
                await self._write_status()
            except Exception:
                logger.exception("writing the final status of pod %s failed", self.name)

    @property
    def active(self) -> bool:
        """Whether the pod counts against the node's capacity: not finished, not leaving."""
        return self.phase not in ("Succeeded", "Failed") and not self._terminating.is_set()

    async def _live(self) -> None:
        if self._finished_before:
            return
        if self._failed_because is not None and self.phase == "Failed":
            self._changed()  # report the refusal; the pod waits for its deletion
            return
        deadline = (self.pod.get("spec") or {}).get("activeDeadlineSeconds")
        if deadline is None:
            await self._run_pod()
            return
        try:
            await asyncio.wait_for(self._run_pod(), float(deadline))
        except TimeoutError:  # the kubelet's active-deadline handler: stop everything, Failed
            await self.host.event(
                self.pod,
                "Normal",
                "DeadlineExceeded",
                "Pod was active on the node longer than the specified deadline",
            )
            self._failed_because = (
                "DeadlineExceeded",
                "Pod was active on the node longer than the specified deadline",
            )
            await self._terminate()
            self.phase = "Failed"
            self._changed()

    async def _run_pod(self) -> None:
        await self._prepare()
        if not await self._run_init_containers():
            self.phase = "Failed"
            self._changed()
            return
        self.phase = "Running"
        self._changed()
        policy = (self.pod.get("spec") or {}).get("restartPolicy") or "Always"
        specs = {c["name"]: c for c in (self.pod.get("spec") or {}).get("containers") or []}
        async with asyncio.TaskGroup() as group:
            for state in self.apps:
                group.create_task(self._supervise(state, specs[state.name], policy))
        failed = any(s.terminated and s.terminated.exit_code != 0 for s in self.apps)
        self.phase = "Failed" if failed else "Succeeded"
        self._changed()

    def _facts(self) -> PodFacts:
        """What ``fieldRef`` and ``resourceFieldRef`` read, from the newest pod object."""
        host = self.host
        return PodFacts(
            self.pod, host.host_ip, self._pod_ip, host.node_cpu_millis, host.node_memory
        )

    async def _prepare(self) -> None:
        while self._sandbox is None:
            try:
                self._sandbox = await self.host.sandbox(self.pod)
            except (OSError, RuntimeError) as error:
                await self.host.event(
                    self.pod,
                    "Warning",
                    "FailedCreatePodSandBox",
                    f"Failed to create pod sandbox: {error}",
                )
                self._changed()
                await asyncio.sleep(2.0)  # retry interval, as for a missing volume source
        self._pod_ip = self._sandbox.ip
        root = self.host.pod_dir(self.pod) / "volumes"
        volumes = Volumes(self.pod, root, self.host.source, self._facts())
        while True:
            try:
                await volumes.prepare()
                break
            except StartError as error:
                for state in [*self.init, *self.apps]:
                    state.set_waiting(
                        "ContainerCreating" if not state.init else "PodInitializing", ""
                    )
                await self.host.event(self.pod, "Warning", "FailedMount", error.message)
                self._changed()
                await asyncio.sleep(2.0)  # retry interval for a missing volume source
        self._volumes = volumes

    async def _run_init_containers(self) -> bool:
        specs = {c["name"]: c for c in (self.pod.get("spec") or {}).get("initContainers") or []}
        policy = (self.pod.get("spec") or {}).get("restartPolicy") or "Always"
        for state in self.apps:
            if self.init:
                state.set_waiting("PodInitializing")
        for state in self.init:
            first = True
            while True:
                await self._back_off(state)
                if not first and state.container_id:
                    state.restart_count += 1
                first = False
                exit = await self._run_container(state, specs[state.name])
                if exit is not None and exit.exit_code == 0:
                    break
                if exit is not None and policy == "Never":
                    return False
        for state in self.apps:
            state.set_waiting("ContainerCreating")
        return True

    async def _supervise(self, state: ContainerState, spec: Object, policy: str) -> None:
        first = True
        while True:
            await self._back_off(state)
            if not first and state.container_id:
                state.restart_count += 1  # counted as the new instance starts, as kube does
            first = False
            exit = await self._run_container(state, spec)
            if exit is None:
                continue  # could not start: back off and try again, whatever the policy
            if policy == "Never" or (policy == "OnFailure" and exit.exit_code == 0):
                return

    async def _back_off(self, state: ContainerState) -> None:
        failures = self._failures.get(state.name, 0)
        delay = backoff_delay(failures)
        if delay <= 0:
            return
        meta = self.pod["metadata"]
        why = self._why_failed.get(state.name)
        if why in ("ErrImagePull", "ImagePullBackOff"):
            state.set_waiting("ImagePullBackOff", f'Back-off pulling image "{state.image}"')
        elif why is not None:  # could not be started: the reason stays what it was
            state.set_waiting(*(state.waiting or (why, "")))
        else:
            message = (
                f"back-off {delay:.0f}s restarting failed container={state.name} "
                f"pod={meta['name']}_{meta['namespace']}({self.uid})"
            )
            state.set_waiting("CrashLoopBackOff", message)
        self._changed()
        pulling = why in ("ErrImagePull", "ImagePullBackOff")
        text = f'Back-off pulling image "{state.image}"' if pulling else None
        await self.host.event(
            self.pod, "Warning", "BackOff", text or "Back-off restarting failed container"
        )
        await asyncio.sleep(delay)  # the back-off itself, not a synchronisation

    async def _run_container(self, state: ContainerState, spec: Object) -> Exit | None:
        """Start one instance of the container and wait for it; None if it did not start."""
        try:
            container, sink = await self._start(state, spec)
        except StartError as error:
            self._failures[state.name] = self._failures.get(state.name, 0) + 1
            self._why_failed[state.name] = error.reason
            state.set_waiting(error.reason, error.message)
            self._changed()
            await self.host.event(self.pod, "Warning", "Failed", f"Error: {error.message}")
            return None
        self._why_failed.pop(state.name, None)
        self.running[state.name] = container
        state.set_running(container.container_id, container.started_at)
        if state.init:
            state.started = True
        self._changed()
        prober = None if state.init else asyncio.create_task(self._probe(state, spec, container))
        await self.host.event(self.pod, "Normal", "Started", f"Started container {state.name}")
        self.sinks[state.name] = sink
        try:
            exit = await container.wait()
        finally:  # on cancellation the container stays in ``running``, for ``_terminate``
            if prober is not None:
                prober.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await prober
        sink.close()
        self._output_ended(state.name)
        self.running.pop(state.name, None)
        self.sinks.pop(state.name, None)
        message = await self._termination_message(state, spec, exit)
        if message:
            exit = dataclasses.replace(exit, message=message)
        ran = (exit.finished_at - container.started_at).total_seconds()
        if exit.exit_code == 0 or ran >= BACKOFF_RESET:
            self._failures[state.name] = 1 if exit.exit_code else 0
        else:
            self._failures[state.name] = self._failures.get(state.name, 0) + 1
        state.set_terminated(exit)
        self._changed()
        return exit

    def _termination_log(self, state: ContainerState) -> Path:
        return self.host.pod_dir(self.pod) / "containers" / f"{launch_dir(state)}.termination-log"

    async def _termination_message(self, state: ContainerState, spec: Object, exit: Exit) -> str:
        """What the container wrote to its terminationMessagePath (runc only: a host process
        has no private /dev), else, for ``FallbackToLogsOnError`` after a failure, the tail
        of its log — at most 80 lines and 2 KiB, and 4 KiB from the file, as the kubelet."""
        written = self._termination_log(state)
        with contextlib.suppress(OSError):
            text = written.read_bytes()[:MESSAGE_FILE_LIMIT].decode("utf-8", "replace")
            if text:
                return text
        policy = spec.get("terminationMessagePolicy") or "File"
        if policy != "FallbackToLogsOnError" or exit.exit_code == 0:
            return ""
        return await self.host.log_tail(
            self.pod, state.name, state.restart_count, lines=80, limit=MESSAGE_LOG_LIMIT
        )

    async def _start(self, state: ContainerState, spec: Object) -> tuple[Container, LogSink]:
        image = await self.host.image(self.pod, spec)
        env = await build_env(
            spec, self._facts(), self.host.source, image_env=image.env if image else ()
        )
        env = {"HOSTNAME": pod_hostname(self.pod), **env}  # as runtimes set it; the pod's wins
        argv = command_line(spec, env, image)
        assert self._volumes is not None and self._sandbox is not None
        sink = self.host.open_log(self.pod, state.name, state.restart_count)
        on_output = OutputFanout(sink.write)
        launch = container_launch(
            self.pod,
            spec,
            instance=f"{self.uid}-{state.name}-{state.restart_count}",
            argv=argv,
            env=env,
            image=image,
            sandbox=self._sandbox,
            volumes=self._volumes.mounts(spec),
            state_dir=self.host.pod_dir(self.pod) / "containers" / launch_dir(state),
            termination_log=self._termination_log(state),
            on_output=on_output,
        )
        state.image_id = image.image_id if image else ""
        runtime = self.host.runtime_for(self.pod, image)
        state.runtime = runtime.name
        if runtime.name == "process" and image is None:
            state.extra["runtime"] = f"{state.name}: host process (image {state.image} not pulled)"
        elif runtime.name == "process":
            state.extra["runtime"] = f"{state.name}: host process from image {state.image}"
        else:
            state.extra["runtime"] = f"{state.name}: {runtime.name} container of {state.image}"
        try:
            container = await runtime.start(launch)
        except BaseException:
            sink.close()
            raise
        self.outputs[state.name] = on_output
        await self.host.event(self.pod, "Normal", "Created", f"Created container {state.name}")
        await self._post_start(spec, container)
        return container, sink

    def _output_ended(self, name: str) -> None:
        output = self.outputs.pop(name, None)
        if output is not None:
            output.close()

    async def _post_start(self, spec: Object, container: Container) -> None:
        hook = ((spec.get("lifecycle") or {}).get("postStart") or {}).get("exec")
        if hook:
            code, output = await container.exec(hook.get("command") or [], timeout=30)
            if code != 0:
                await self.host.event(
                    self.pod, "Warning", "FailedPostStartHook", output.decode(errors="replace")
                )

    async def _probe(self, state: ContainerState, spec: Object, container: Container) -> None:
        def started() -> None:
            state.started = True
            self._changed()

        def ready(value: bool) -> None:
            state.ready = value and state.running_since is not None
            self._changed()

        async def unhealthy(kind: ProbeKind, message: str) -> None:
            await self.host.event(
                self.pod, "Warning", "Unhealthy", f"{kind.capitalize()} probe failed: {message}"
            )

        async def restart(why: str) -> None:
            await self.host.event(
                self.pod, "Normal", "Killing", f"Container {state.name} {why}, will be restarted"
            )
            await self._stop(state.name, container, self._grace())  # its supervisor restarts it

        prober = Prober(
            spec,
            container,
            host=self._pod_ip,
            session=self.host.session,
            on_started=started,
            on_ready=ready,
            on_unhealthy=unhealthy,
            on_restart=restart,
        )
        await prober.run()

    # -- stopping -----------------------------------------------------------------------

    def _grace(self) -> float:
        meta, spec = self.pod.get("metadata") or {}, self.pod.get("spec") or {}
        grace = meta.get("deletionGracePeriodSeconds")
        if grace is None:
            grace = spec.get("terminationGracePeriodSeconds", DEFAULT_GRACE)
        grace = float(grace if grace is not None else DEFAULT_GRACE)
        return grace if self._grace_cap is None else min(grace, self._grace_cap)

    async def _terminate(self) -> None:
        grace = self._grace()
        states = {s.name: s for s in [*self.init, *self.apps]}

        async def stop(name: str, container: Container) -> None:
            if not self._gone:
                await self.host.event(self.pod, "Normal", "Killing", f"Stopping container {name}")
            exit = await self._stop(name, container, grace)
            states[name].set_terminated(exit)
            sink = self.sinks.pop(name, None)
            if sink is not None:
                sink.close()
            self._output_ended(name)
            self.running.pop(name, None)

        await asyncio.gather(*(stop(n, c) for n, c in list(self.running.items())))
        for state in states.values():
            if state.terminated is None and state.waiting is not None and not state.init:
                state.waiting = (
                    ("ContainerCreating", "") if state.restart_count == 0 else state.waiting
                )
        if self.phase not in ("Succeeded", "Failed"):
            failed = any(s.terminated and s.terminated.exit_code for s in self.apps)
            self.phase = "Failed" if failed else "Succeeded"
        self._changed()

    async def _stop(self, name: str, container: Container, grace: float) -> Exit:
        """preStop, SIGTERM, and SIGKILL when ``grace`` seconds have passed."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        containers = (self.pod.get("spec") or {}).get("containers") or []
        spec: Object = next((c for c in containers if c["name"] == name), {})
        hook = ((spec.get("lifecycle") or {}).get("preStop") or {}).get("exec")
        if hook and grace > 0:
            with contextlib.suppress(TimeoutError, OSError):
                await container.exec(hook.get("command") or [], timeout=grace)
        container.signal(signal.SIGTERM if grace > 0 else signal.SIGKILL)
        try:
            return await asyncio.wait_for(
                asyncio.shield(container.wait()), max(deadline - loop.time(), 0.5)
            )
        except TimeoutError:
            container.signal(signal.SIGKILL)
            return await container.wait()

    # -- status -------------------------------------------------------------------------

    def _changed(self) -> None:
        self._dirty.set()

    def status(self) -> Object:
        phase = self.phase
        if phase == "Running" and not any(s.container_id for s in self.apps):
            phase = "Pending"  # Running once a container has started, as kube reports
        return pod_status(
            self.pod,
            self.init,
            self.apps,
            phase=phase,
            host_ip=self.host.host_ip,
            pod_ip=self._pod_ip,
            started_at=self.started_at,
            runtime=self._runtime_condition(),
            message=self._failed_because,
        )

    def _runtime_condition(self) -> tuple[str, str] | None:
        """(reason, message) of the ``atoll.io/Runtime`` condition: how containers run."""
        states = [s for s in [*self.init, *self.apps] if s.runtime]
        if not states:
            return None
        kinds = {s.runtime for s in states}
        reason = {"process": "HostProcess", "runc": "Runc"}.get(next(iter(kinds)), "Mixed")
        if len(kinds) > 1:
            reason = "Mixed"
        return reason, "; ".join(s.extra.get("runtime", s.name) for s in states)

    async def _report(self) -> None:
        while True:
            await self._dirty.wait()
            await asyncio.sleep(0)  # let the changes of this loop iteration coalesce
            self._dirty.clear()
            try:
                await self._write_status()
            except Exception:
                logger.exception("writing the status of pod %s failed", self.name)

    async def _write_status(self) -> None:
        if self._finished_before:
            return  # its last status, written by an earlier run, stays as it was
        status = self.status()
        if status != self._written:
            await self.host.write_status(self.pod, status)
            self._written = status
