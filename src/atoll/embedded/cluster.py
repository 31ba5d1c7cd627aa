"""One embedded cluster: storage, API server, bootstrap objects and the kubeconfig.

``EmbeddedCluster.run()`` opens the storage under the data directory, serves the Kubernetes
API with uvicorn on a socket it binds itself (so ``--port 0`` works and the real port is
known), creates what every cluster has from the first start (the four system namespaces
and the ``kubernetes`` Service), and writes ``<data-dir>/kubeconfig`` only once the server
answers — replacing a kubeconfig from an earlier run at that moment, never before.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import fcntl
import functools
import hashlib
import logging
import os
import secrets
import socket
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import uvicorn
import yaml

from atoll.controllers.leadership import (
    KubeLeases,
    LeaderElectionSettings,
    LeaderElector,
    LeadershipLost,
)
from atoll.controllers.runtime import ControllerManager
from atoll.errors import AlreadyExists
from atoll.kit.pki import ServingCertificate, ensure_serving_certificate
from atoll.kit.serving import QuietServer, bind
from atoll.kube.client import KubeClient
from atoll.kube.events import EventRecorder
from atoll.kube.informers import InformerFactory
from atoll.kube.kubeconfig import ClusterConfig
from atoll.settings import ClusterSettings

from .apiserver import builtins
from .apiserver.admission import ServiceIPs
from .apiserver.app import ApiServerApp
from .apiserver.crdserving import CrdServing
from .apiserver.defaultclasses import INGRESS_CLASSES, STORAGE_CLASSES, DefaultClass
from .apiserver.disruption import DisruptionBudgets
from .apiserver.kubeletproxy import KubeletProxy
from .apiserver.limitranges import LimitRangeAdmission
from .apiserver.metricsapi import MetricsApi
from .apiserver.options import WriteOptions
from .apiserver.quota import ResourceQuotaAdmission
from .apiserver.registry import Registry
from .apiserver.resources import Catalog
from .apiserver.schemas import SchemaCheck
from .bootstrap import bootstrap_objects
from .controllers import KUBELET_PORT, ControllerOptions, all_controllers
from .hostinfo import read_host_info
from .kubelet.kubelet import Kubelet
from .kubelet.sandboxes import ClusterDnsConfig
from .kubelet.server import KubeletApp
from .network.node import NetworkOptions, NodeNetwork
from .network.podnet import NetworkUnavailable, PodNetwork
from .storage.encryption import Sealer, load_or_create_key
from .storage.store import ResourceKey, Storage
from .upgrades import ProxyingProtocol, UpgradingProtocol

__all__ = ["EmbeddedCluster"]

logger = logging.getLogger(__name__)

_BOOTSTRAP = WriteOptions(field_manager="kube-apiserver")


def _read_or_create_token(path: Path) -> str:
    if path.exists():
        return path.read_text().strip()
    token = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token)
    return token


def _write_atomically(path: Path, text: str, mode: int = 0o600) -> None:
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class DataDirectoryInUse(RuntimeError):
    """Another process serves the same data directory."""


@contextlib.contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (released by the kernel even after ``kill -9``)."""
    with open(path, "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DataDirectoryInUse(
                f"another atoll cluster serve is using {path.parent}; stop it first"
            ) from None
        yield


def _directory_id(path: Path) -> str:
    return hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]


class EmbeddedCluster:
    def __init__(self, settings: ClusterSettings) -> None:
        self.settings = settings
        self.data_dir = settings.data_dir
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.catalog = Catalog()
        kinds = {r.storage: (r.storage[0], r.kind) for r in self.catalog}
        self.storage = Storage(
            self.data_dir / "objects.db",
            attrs_of=lambda rk, obj: _attrs(kinds, rk, obj),
            sealer=Sealer(load_or_create_key(self.data_dir / "encryption.key")),
            sealed=frozenset({("", "secrets")}),
            history_size=settings.history_size,
        )
        self.registry = Registry(self.storage, self.catalog, schemas=SchemaCheck())
        self.tasks: set[asyncio.Task[None]] = set()
        self.crds = CrdServing(self.registry, self.tasks)
        ServiceIPs(self.registry, cidr=settings.service_cidr)
        LimitRangeAdmission(self.registry)
        DefaultClass(self.registry, STORAGE_CLASSES)
        DefaultClass(self.registry, INGRESS_CLASSES)
        ResourceQuotaAdmission(self.registry)
        DisruptionBudgets(self.registry, tasks=self.tasks)
        self.token = _read_or_create_token(self.data_dir / "token")
        if settings.tls_cert is not None and settings.tls_key is not None:
            self.tls = ServingCertificate(settings.tls_cert, settings.tls_key, None)
        else:
            self.tls = ensure_serving_certificate(self.data_dir, settings.host)
        self.url = ""
        self.kubelet_port: int | None = None
        self._stopping = asyncio.Event()
        self.ready = asyncio.Event()

    @property
    def kubeconfig_path(self) -> Path:
        return self.data_dir / "kubeconfig"

    def stop(self) -> None:
        self._stopping.set()

    async def until_ready(self, running: asyncio.Task[None]) -> None:
        """Wait until the cluster answers; ``running`` is ``run()``'s task: if it ends first,
        why it ended is raised here."""
        ready = asyncio.create_task(self.ready.wait())
        await asyncio.wait({running, ready}, return_when=asyncio.FIRST_COMPLETED)
        ready.cancel()
        if not self.ready.is_set():
            await running

    async def run(self) -> None:
        """Serve until ``stop()``; the kubeconfig appears once requests are answered."""
        with _exclusive(self.data_dir / "lock"):
            await self._run()

    async def _run(self) -> None:
        await self.storage.open()
        self.crds.load()
        sock = self._bind()
        port = sock.getsockname()[1]
        host = f"[{self.settings.host}]" if ":" in self.settings.host else self.settings.host
        self.url = f"https://{host}:{port}"
        kubelets = KubeletProxy(token=self.token, ca=self.tls.ca)
        app = ApiServerApp(
            self.registry,
            token=self.token,
            server_address=f"{self.settings.host}:{port}",
            kubelets=kubelets,
            metrics=MetricsApi(self.registry, kubelets) if self.settings.kubelet else None,
        )
        kubelet_socket = self._bind(port=0) if self.settings.kubelet else None
        self.kubelet_port = kubelet_socket.getsockname()[1] if kubelet_socket else None
        server = QuietServer(self._uvicorn_config(app))
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        try:
            await self._bootstrap(port)
            while not server.started:
                if serving.done():
                    await serving  # re-raise why it could not start
                await asyncio.sleep(0.01)
            self._write_kubeconfig()
            self.ready.set()
            logger.info("embedded cluster serving at %s", self.url)
            background = [
                asyncio.create_task(self._expire_events()),
                asyncio.create_task(self._run_controllers()),
            ]
            kubelet = (
                asyncio.create_task(self._run_kubelet(kubelet_socket))
                if kubelet_socket is not None
                else None
            )
            if kubelet is not None:
                kubelet.add_done_callback(_report_crash)
            await self._stopping.wait()
            if kubelet is not None:  # first, while the API still answers: pods stop cleanly
                kubelet.cancel()
                await asyncio.gather(kubelet, return_exceptions=True)
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
        finally:
            self.storage.close_watches()  # open watch streams end, so shutdown is quick
            server.should_exit = True
            with contextlib.suppress(asyncio.CancelledError):
                await serving
            for task in list(self.tasks):
                task.cancel()
            await kubelets.close()
            await self.storage.close()

    async def _run_kubelet(self, sock: socket.socket) -> None:
        """Run this node's pods, as an API client of this server (not under the Lease: a
        kubelet belongs to its node, not to the control plane), and serve its own API."""
        config = ClusterConfig.from_kubeconfig(self.kubeconfig_path)
        host = await asyncio.to_thread(
            functools.partial(read_host_info, self.data_dir, max_pods=self.settings.max_pods)
        )
        pods = await self._pod_network()
        dns = ClusterDnsConfig(
            nameserver=pods.gateway if pods is not None else None,
            domain=self.settings.cluster_domain,
        )
        async with KubeClient(config, user_agent=f"kubelet/{self.settings.node_name}") as client:
            kubelet = Kubelet(
                client,
                node_name=self.settings.node_name,
                data_dir=self.data_dir / "kubelet",
                node_cpu_millis=host.cpus * 1000,
                node_memory=host.memory_bytes,
                host=host,
                mirrors=self.settings.registry_mirrors,
                insecure=self.settings.insecure_registries,
                network=pods,
                dns=dns,
            )
            network = NodeNetwork(client, self._network_options(pods))
            server = QuietServer(self._uvicorn_config(KubeletApp(kubelet, token=self.token)))
            serving = asyncio.create_task(server.serve(sockets=[sock]))
            services = asyncio.create_task(network.run())
            try:
                await kubelet.run()
            finally:
                server.should_exit = True
                with contextlib.suppress(asyncio.CancelledError):
                    await serving
                services.cancel()
                await asyncio.gather(services, return_exceptions=True)
                if pods is not None:
                    await asyncio.shield(pods.close())

    def _network_options(self, pods: PodNetwork | None) -> NetworkOptions:
        ranges = [self.settings.service_cidr]
        if pods is not None:
            ranges.append(self.settings.pod_cidr)
        return NetworkOptions(
            node_name=self.settings.node_name,
            node_address="127.0.0.1",
            cluster_domain=self.settings.cluster_domain,
            dns_address=pods.gateway if pods is not None else None,
            reverse_networks=tuple(ranges),
            ingress_http_port=self.settings.ingress_http_port,
            ingress_https_port=self.settings.ingress_https_port,
        )

    async def _pod_network(self) -> PodNetwork | None:
        """This node's pod network, or None (pods share this machine's network) when it
        cannot have one — said once in the log."""
        if not PodNetwork.supported():
            logger.warning(
                "pods share this machine's network: own pod networks need root and the ip "
                "and nsenter commands"
            )
            return None
        try:
            network = PodNetwork(
                bridge=self.settings.bridge,
                cidr=self.settings.pod_cidr,
                service_cidr=self.settings.service_cidr,
            )
            await network.setup()
        except NetworkUnavailable as error:
            logger.warning("pods share this machine's network: %s", error)
            return None
        return network

    async def _run_controllers(self) -> None:
        """Run the controllers as API clients of this server, under a Lease (leader lock)."""
        config = ClusterConfig.from_kubeconfig(self.kubeconfig_path)
        options = ControllerOptions(
            node_name=self.settings.node_name,
            kubelet=self.settings.kubelet,
            kubelet_port=self.kubelet_port or KUBELET_PORT,
            max_pods=self.settings.max_pods,
            data_dir=self.data_dir,
        )
        async with KubeClient(config, user_agent="atoll-controller-manager") as client:
            elector = LeaderElector(
                KubeLeases(client),
                settings=LeaderElectionSettings(name="atoll-embedded-controller-manager"),
                # One process per data directory (the lock above), so the identity can be the
                # directory's: after a crash the next start renews its own Lease at once
                # instead of waiting for it to expire.
                identity=f"{self.settings.node_name}_{_directory_id(self.data_dir)}",
            )

            async def lead() -> None:
                manager = ControllerManager(
                    all_controllers(options),
                    client=client,
                    informers=InformerFactory(client),
                    events=lambda component: EventRecorder(
                        client, f"{component}-controller", self.settings.node_name
                    ),
                    enabled=self.settings.controllers,
                )
                await manager.run()

            while True:
                try:
                    await elector.run(lead)
                except LeadershipLost:
                    logger.warning("controllers lost their leader lease; campaigning again")

    def _bind(self, port: int | None = None) -> socket.socket:
        return bind(self.settings.host, self.settings.port if port is None else port)

    def _uvicorn_config(self, app: ApiServerApp | KubeletApp) -> uvicorn.Config:
        # Both take SPDY upgrades (kubectl exec/attach/port-forward) over; the API server
        # relays WebSocket ones to the kubelet as bytes too (see ``upgrades``).
        protocol = ProxyingProtocol if isinstance(app, ApiServerApp) else UpgradingProtocol
        return uvicorn.Config(
            app,
            loop="none",
            http=protocol,
            ws_ping_interval=None,  # a kubelet does not ping exec clients, which may not read
            lifespan="off",
            log_level="warning",
            access_log=False,
            timeout_keep_alive=120,
            timeout_graceful_shutdown=10,
            ssl_certfile=str(self.tls.cert),
            ssl_keyfile=str(self.tls.key),
        )

    async def _bootstrap(self, port: int) -> None:
        """Create what every cluster has, where missing (a restart changes nothing)."""
        for group, version, plural, namespace, obj in bootstrap_objects(port):
            resource = self.catalog.get(group, version, plural)
            assert resource is not None
            name = obj["metadata"]["name"]
            if self.storage.latest(resource.storage, namespace or "", name) is None:
                with contextlib.suppress(AlreadyExists):
                    await self.registry.create(resource, namespace, obj, _BOOTSTRAP)

    def _write_kubeconfig(self) -> None:
        name = "atoll-embedded"
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": name, "cluster": {"server": self.url}}],
            "users": [{"name": name, "user": {"token": self.token}}],
            "contexts": [
                {"name": name, "context": {"cluster": name, "user": name, "namespace": "default"}}
            ],
            "current-context": name,
            "preferences": {},
        }
        cluster: dict[str, Any] = config["clusters"][0]["cluster"]  # type: ignore[index]
        if self.tls.ca is not None:
            ca = base64.b64encode(self.tls.ca.read_bytes()).decode()
            cluster["certificate-authority-data"] = ca
        _write_atomically(self.kubeconfig_path, yaml.safe_dump(config, sort_keys=False))

    async def _expire_events(self) -> None:
        """Delete Events an hour after their last write, as kube's event TTL does."""
        ttl = timedelta(seconds=self.settings.event_ttl_seconds)
        while True:
            await asyncio.sleep(min(60.0, ttl.total_seconds() / 4))
            cutoff = datetime.now(UTC) - ttl
            for entry in list(self.storage.iter(("", "events"))):
                if _event_time(entry.decode()) < cutoff:
                    with contextlib.suppress(Exception):
                        await self.storage.delete(
                            ("", "events"), entry.namespace, entry.name, expected_rv=entry.rv
                        )


def _report_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("the kubelet stopped", exc_info=task.exception())


def _event_time(event: Mapping[str, Any]) -> datetime:
    meta = event.get("metadata") or {}
    stamps = [
        event.get("lastTimestamp"),
        event.get("eventTime"),
        (event.get("series") or {}).get("lastObservedTime"),
        meta.get("creationTimestamp"),
    ]
    for stamp in stamps:
        if isinstance(stamp, str) and stamp:
            with contextlib.suppress(ValueError):
                return datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return datetime.now(UTC)


def _attrs(
    kinds: Mapping[ResourceKey, tuple[str, str]], rk: ResourceKey, obj: Mapping[str, Any]
) -> tuple[dict[str, str], dict[str, str]]:
    meta = obj.get("metadata") or {}
    labels = dict(meta.get("labels") or {})
    group_kind = kinds.get(rk)
    if group_kind is None:  # a custom resource
        fields = {
            "metadata.name": meta.get("name", ""),
            "metadata.namespace": meta.get("namespace", ""),
        }
    else:
        fields = builtins.field_attrs(group_kind[0], group_kind[1], obj)
    return labels, fields
