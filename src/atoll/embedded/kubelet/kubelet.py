"""The kubelet: runs the pods bound to this node, as an ordinary client of the API.

It watches the pods whose ``spec.nodeName`` is this node (a field-selected informer, as the
real kubelet's), and gives each a ``PodWorker`` (``worker.py``) for its whole life. It
watches ConfigMaps, Secrets and Services too: their caches feed environments and volumes,
and a change to a ConfigMap or Secret refreshes the volumes of the pods that mount it.

Start: before any pod starts, whatever an earlier run left behind (``kill -9``) is killed
(``Runtime.cleanup``); pods still bound here then start afresh, counting the restart, so
nothing runs twice. Stop: every container is stopped (a short grace, SIGKILL after it) and
nothing is left running; the pods themselves stay in the API, as after a node reboot.

Images: a pod's image is pulled when a registry answers; when none does (as on machines
with no internet), the container runs on the host with a Warning event saying so, instead
of failing with ErrImagePull. The annotation ``atoll.io/runtime: process|runc`` forces a
runtime; the one used is reported in the pod's ``atoll.io/Runtime`` condition.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import aiohttp

from atoll.errors import ApiError, Conflict, NotFound
from atoll.kube.client import KubeClient, Object, ResourceType
from atoll.kube.events import EventRecorder
from atoll.kube.informers import InformerFactory

from ..hostinfo import HostInfo, read_host_info
from ..network.podnet import PodNetwork
from .image_references import ImageRef, credentials_from_pull_secrets
from .images import ImageStore, PullPolicy
from .log_reading import LogOptions
from .logs import LogHub, log_path
from .podhost import ImageInfo, LogSink
from .process import ProcessRuntime
from .registries import PullError, RegistryUnreachable
from .runc import RuncRuntime, runc_available
from .runtime import Runtime, StartError
from .sandboxes import ClusterDnsConfig, PodSandbox, Sandboxes
from .usage import UsageCollector
from .volumes import VolumeSource
from .worker import PodWorker

__all__ = ["Kubelet"]

logger = logging.getLogger(__name__)

PODS = ResourceType("", "v1", "pods", "Pod", True)
CONFIG_MAPS = ResourceType("", "v1", "configmaps", "ConfigMap", True)
SECRETS = ResourceType("", "v1", "secrets", "Secret", True)
SERVICES = ResourceType("", "v1", "services", "Service", True)
CLAIMS = ResourceType("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", True)
VOLUMES = ResourceType("", "v1", "persistentvolumes", "PersistentVolume", False)

SHUTDOWN_GRACE = 5.0  # seconds each container gets when the kubelet itself stops
UNREACHABLE_TTL = 60.0  # seconds a registry that could not be reached is not asked again
RUNTIME_ANNOTATION = "atoll.io/runtime"
EVENT_QUEUE_SIZE = 1000  # client-go's recorder buffers as many


def _default_policy(image: str) -> PullPolicy:
    """Kubernetes' default imagePullPolicy: Always for ``:latest`` or no tag."""
    last = image.rsplit("/", 1)[-1]
    if "@" in last:
        return "IfNotPresent"
    tag = last.partition(":")[2]
    return "Always" if tag in ("", "latest") else "IfNotPresent"


class Kubelet:
    """See the module doc. ``run()`` until cancelled; cancelling stops every pod."""

    def __init__(
        self,
        client: KubeClient,
        *,
        node_name: str,
        data_dir: Path,
        host_ip: str = "127.0.0.1",
        node_cpu_millis: int = 1000,
        node_memory: int = 2**30,
        runtime: Runtime | None = None,
        host: HostInfo | None = None,
        mirrors: Mapping[str, str] | None = None,
        insecure: Iterable[str] = (),
        network: PodNetwork | None = None,
        dns: ClusterDnsConfig | None = None,
    ) -> None:
        self.client = client
        self.node_name = node_name
        self.root = data_dir
        self.host_ip = host_ip
        self.node_cpu_millis = node_cpu_millis
        self.node_memory = node_memory
        self.process: Runtime = runtime or ProcessRuntime()
        self.runc: Runtime | None = RuncRuntime(data_dir / "runc") if runc_available() else None
        self.images = ImageStore(data_dir / "images", mirrors=mirrors, insecure=insecure)
        self._unreachable: dict[str, float] = {}  # registry -> until when we do not retry
        self.source: VolumeSource = (
            self  # ConfigMaps, Secrets, Services and claims come from our caches
        )
        self.session: aiohttp.ClientSession
        self.logs_root = data_dir / "logs"
        self.logs = LogHub()
        self.workers: dict[str, PodWorker] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._informers = InformerFactory(client)
        self._pods = self._informers.informer(PODS, field_selector=f"spec.nodeName={node_name}")
        self._config_maps = self._informers.informer(CONFIG_MAPS)
        self._secrets = self._informers.informer(SECRETS)
        self._services = self._informers.informer(SERVICES)
        self._claims = self._informers.informer(CLAIMS)
        self._volumes = self._informers.informer(VOLUMES)
        self._events = EventRecorder(client, "kubelet", node_name)
        self._warned: set[tuple[str, str]] = set()
        self._event_queue: asyncio.Queue[tuple[Object, str, str, str]] = asyncio.Queue(
            EVENT_QUEUE_SIZE
        )
        self._group: asyncio.TaskGroup | None = None
        self.sandboxes = Sandboxes(
            network, host_ip=host_ip, dns=dns or ClusterDnsConfig(), on_event=self.event
        )
        host = host or read_host_info(data_dir)
        self.max_pods = host.max_pods
        self.usage = UsageCollector(
            lambda: list(self.workers.values()), node_name=node_name, host=host, root=data_dir
        )

    # -- running ----------------------------------------------------------------------

    async def run(self) -> None:
        killed = await asyncio.to_thread(self.process.cleanup, self.root / "pods")
        if self.runc is not None:
            killed += await asyncio.to_thread(self.runc.cleanup, self.root / "pods")
        if killed:
            logger.warning("kubelet: stopped %d leftover processes of an earlier run", killed)
        self._pods.add_handler(self._on_pod, lambda _old, new: self._on_pod(new), self._on_pod_gone)
        for informer in (self._config_maps, self._secrets):
            informer.add_handler(
                on_update=lambda _old, new: self._on_source(new),
                on_add=self._on_source,
            )
        async with aiohttp.ClientSession() as session, asyncio.TaskGroup() as group:
            self.session = session
            self._group = group
            self._informers.start(group)
            group.create_task(self.logs.run())
            group.create_task(self.usage.run())
            group.create_task(self._write_events())
            try:
                await asyncio.Event().wait()
            finally:
                self._informers.stop()
                await self._stop_all()
                await self.images.close()

    async def _stop_all(self) -> None:
        for worker in self.workers.values():
            worker.gone(grace=SHUTDOWN_GRACE, deleted=False)
        tasks = list(self._tasks.values())
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    # -- pods -------------------------------------------------------------------------

    def _on_pod(self, pod: Object) -> None:
        uid = str(pod["metadata"]["uid"])
        worker = self.workers.get(uid)
        if worker is not None:
            worker.update(pod)
            return
        if self._group is None:
            return
        worker = PodWorker(self, pod, refused=self._admit(pod))
        worker.update(pod)
        self.workers[uid] = worker
        self._tasks[uid] = self._group.create_task(self._run_worker(worker), name=f"pod {uid}")

    def _admit(self, pod: Object) -> tuple[str, str] | None:
        """Why this node refuses a new pod (the kubelet's admission), or None: only the pod
        count (``OutOfpods``), since the scheduler already placed it by its requests."""
        if ((pod.get("status") or {}).get("phase")) in ("Succeeded", "Failed"):
            return None
        active = sum(1 for w in self.workers.values() if w.active)
        capacity = self.max_pods
        if active < capacity:
            return None
        return (
            "OutOfpods",
            f"Pod Node didn't have enough resource: pods, requested: 1, used: {active}, "
            f"capacity: {capacity}",
        )

    def _on_pod_gone(self, pod: Object) -> None:
        worker = self.workers.get(str(pod["metadata"]["uid"]))
        if worker is not None:
            worker.gone()

    async def _run_worker(self, worker: PodWorker) -> None:
        try:
            await worker.run()
        except Exception:
            logger.exception("the worker of pod %s failed", worker.name)
        finally:
            self.workers.pop(worker.uid, None)
            self._tasks.pop(worker.uid, None)
            if worker.gone_for_good:
                await asyncio.to_thread(self._forget, worker.pod)

    def _forget(self, pod: Object) -> None:
        """Remove a deleted pod's directory and logs."""
        shutil.rmtree(self.pod_dir(pod), ignore_errors=True)
        meta = pod["metadata"]
        logs = self.logs_root / f"{meta['namespace']}_{meta['name']}_{meta['uid']}"
        shutil.rmtree(logs, ignore_errors=True)

    def _on_source(self, obj: Object) -> None:
        """A ConfigMap or Secret changed: refresh the volumes of its namespace's pods."""
        namespace = obj["metadata"].get("namespace")
        if self._group is None:
            return
        for worker in list(self.workers.values()):
            if worker.pod["metadata"]["namespace"] == namespace:
                self._group.create_task(worker.refresh_volumes())

    # -- PodHost ----------------------------------------------------------------------

    def worker_of(self, namespace: str, name: str) -> PodWorker | None:
        """The worker of the pod ``namespace/name`` on this node (the newest, if several)."""
        found = [
            w
            for w in self.workers.values()
            if w.pod["metadata"]["namespace"] == namespace and w.pod["metadata"]["name"] == name
        ]
        return found[-1] if found else None

    def pod_dir(self, pod: Object) -> Path:
        return self.root / "pods" / str(pod["metadata"]["uid"])

    def open_log(self, pod: Object, container: str, restart_count: int) -> LogSink:
        meta = pod["metadata"]
        path = log_path(
            self.logs_root, meta["namespace"], meta["name"], meta["uid"], container, restart_count
        )
        return self.logs.open(path)

    async def sandbox(self, pod: Object) -> PodSandbox:
        return await self.sandboxes.create(pod, self.pod_dir(pod))

    async def release_sandbox(self, pod: Object) -> None:
        await self.sandboxes.release(pod)

    def runtime_for(self, pod: Object, image: ImageInfo | None) -> Runtime:
        """runc for a pulled image when it can run here, else a host process; the
        ``atoll.io/runtime`` annotation forces one (runc still needs a pulled image)."""
        wanted = ((pod["metadata"].get("annotations") or {}).get(RUNTIME_ANNOTATION) or "").lower()
        if wanted == "process" or image is None or self.runc is None:
            return self.process
        return self.runc

    async def image(self, pod: Object, container: Object) -> ImageInfo | None:
        """The pulled image, or None to run the command on the host (see the module doc).

        Raises ``StartError`` (ErrImagePull, ImagePullBackOff, ErrImageNeverPull,
        InvalidImageName) when a reachable registry refuses the image, as a kubelet does."""
        name = str(container.get("image") or "")
        if not name:
            return None
        policy: PullPolicy = container.get("imagePullPolicy") or _default_policy(name)
        if policy not in ("Always", "IfNotPresent", "Never"):
            policy = _default_policy(name)
        credentials = credentials_from_pull_secrets(
            [
                found
                for ref in (pod.get("spec") or {}).get("imagePullSecrets") or []
                if (found := await self.secret(pod["metadata"]["namespace"], ref.get("name", "")))
            ]
        )
        try:
            pulled = self.images.present(name) if policy != "Always" else None
            if pulled is None:
                registry = ImageRef.parse(name).registry
                if self._unreachable.get(registry, 0.0) > time.monotonic():
                    raise RegistryUnreachable(f"registry {registry} was unreachable moments ago")
                await self.event(pod, "Normal", "Pulling", f'Pulling image "{name}"')
                started = time.monotonic()
                pulled = await self.images.pull(name, credentials=credentials, policy=policy)
                took = time.monotonic() - started
                await self.event(
                    pod, "Normal", "Pulled", f'Successfully pulled image "{name}" in {took:.3f}s'
                )
        except RegistryUnreachable as error:
            self._unreachable[ImageRef.parse(name).registry] = time.monotonic() + UNREACHABLE_TTL
            key = (str(pod["metadata"]["uid"]), str(container.get("name")))
            if key not in self._warned:
                self._warned.add(key)
                await self.event(
                    pod,
                    "Warning",
                    "ImagePullFallback",
                    f'Image "{name}" could not be pulled ({error.message}): running container '
                    f"{container.get('name')} as a host process",
                )
            return None
        except ValueError as error:
            raise StartError(
                "InvalidImageName", f'Failed to apply default image tag "{name}": {error}'
            ) from error
        except PullError as error:
            await self.event(
                pod, "Warning", "Failed", f'Failed to pull image "{name}": {error.message}'
            )
            raise StartError(error.reason, error.message) from error
        config = pulled.config
        return ImageInfo(
            rootfs=pulled.rootfs,
            image_id=f"{pulled.ref.registry}/{pulled.ref.repository}@{pulled.digest}",
            entrypoint=config.entrypoint,
            cmd=config.cmd,
            env=config.env,
            working_dir=config.working_dir,
            user=config.user,
        )

    async def write_status(self, pod: Object, status: Object) -> None:
        meta = pod["metadata"]
        patch = {"metadata": {"uid": meta["uid"]}, "status": status}
        with contextlib.suppress(NotFound, Conflict):  # gone, or a newer pod took its name
            await self.client.patch(
                PODS, meta["name"], patch, namespace=meta["namespace"], subresource="status"
            )

    async def log_tail(
        self, pod: Object, container: str, restart_count: int, *, lines: int, limit: int
    ) -> str:
        meta = pod["metadata"]
        path = log_path(
            self.logs_root, meta["namespace"], meta["name"], meta["uid"], container, restart_count
        )
        chunks = []
        with contextlib.suppress(NotFound):
            async for chunk in self.logs.read(path, LogOptions(tail_lines=lines)):
                chunks.append(chunk)
        return b"".join(chunks)[-limit:].decode("utf-8", "replace")

    async def delete_pod(self, pod: Object) -> None:
        meta = pod["metadata"]
        with contextlib.suppress(NotFound, Conflict):
            await self.client.delete(
                PODS,
                meta["name"],
                namespace=meta["namespace"],
                grace_period_seconds=0,
                preconditions={"uid": meta["uid"]},
            )

    async def event(self, pod: Object, type: str, reason: str, message: str) -> None:
        """Queue an Event; a pod worker never waits for it to be written (as client-go's
        recorder). When the queue is full the Event is dropped, as client-go drops them."""
        try:
            self._event_queue.put_nowait((pod, type, reason, message))
        except asyncio.QueueFull:
            logger.debug("event %s for %s dropped: queue full", reason, pod["metadata"].get("name"))

    async def _write_events(self) -> None:
        while True:
            pod, type, reason, message = await self._event_queue.get()
            try:
                await self._events.record(pod, reason, message=message, type=type)  # type: ignore[arg-type]
            except ApiError:
                logger.debug("event %s for %s not recorded", reason, pod["metadata"].get("name"))

    # -- ConfigSource / VolumeSource, from the caches ---------------------------------

    async def config_map(self, namespace: str, name: str) -> Object | None:
        return await self._cached(self._config_maps, CONFIG_MAPS, namespace, name)

    async def secret(self, namespace: str, name: str) -> Object | None:
        return await self._cached(self._secrets, SECRETS, namespace, name)

    async def services(self, namespace: str) -> list[Object]:
        await self._services.wait_synced()
        return self._services.list(namespace=namespace)

    async def claim_path(self, namespace: str, claim: str) -> Path | None:
        found = await self._cached(self._claims, CLAIMS, namespace, claim)
        volume_name = ((found or {}).get("spec") or {}).get("volumeName")
        if not volume_name:
            return None
        await self._volumes.wait_synced()
        volume: dict[str, Any] = self._volumes.get(str(volume_name)) or {}
        spec = volume.get("spec") or {}
        path = (spec.get("hostPath") or {}).get("path") or (spec.get("local") or {}).get("path")
        return Path(path) if path else None

    async def _cached(
        self, informer: Any, rt: ResourceType, namespace: str, name: str
    ) -> Object | None:
        await informer.wait_synced()
        found: Object | None = informer.get(f"{namespace}/{name}")
        if found is None:  # the cache may not have seen a brand-new object yet
            with contextlib.suppress(NotFound):
                found = await self.client.get(rt, name, namespace=namespace)
        return found
