"""The kubelet's image store: pulls images over the OCI registry HTTP API into a shared rootfs.

API (the names a kubelet needs are re-exported here)::

    ImageRef.parse("python:3.11")      # docker.io/library/python:3.11; ValueError if invalid
    store = ImageStore(root, mirrors={"docker.io": "http://127.0.0.1:5001"},
                       insecure=["registry.lan:5000"], timeout=10.0, connect_timeout=2.5)
    image = await store.pull("127.0.0.1:5000/app:v1",
                             credentials=credentials_from_pull_secrets(secret_objects),
                             policy="IfNotPresent",           # or "Always", "Never"
                             progress=lambda done, total: ...)  # bytes of blobs
    image.rootfs, image.config.entrypoint, image.digest, image.image_id, image.size
    store.present(ref)                 # PulledImage | None, without the network
    await store.close()

A failed pull raises a ``PullError`` (tree in ``registries``); ``kind == "unreachable"``
(``RegistryUnreachable``) means no registry could be reached at all, which a kubelet on a
machine without network takes as the cue to run the command on the host instead.

Where a pull goes (``_endpoints``): first the mirror configured for the image's registry
(``docker.io`` for Docker Hub; any failure there falls back), then the registry itself.
HTTPS with certificate checks by default. Registries listed in ``insecure`` and loopback
hosts (localhost, 127/8, ::1 — Docker treats these as insecure too) try HTTPS without
verification first and plain HTTP when that cannot connect; the scheme that answered is
remembered, so later pulls go straight to it. Credentials are chosen by the host actually
contacted, so a registry's password never goes to its mirror.

Failing fast: every connection attempt (DNS included) is bounded by ``connect_timeout``
(2.5 s) and every read by ``timeout`` (10 s); nothing is retried inside a pull (the kubelet
backs off). A loopback registry may take two attempts (https, http). On a machine without
a network, ``python:3.11`` fails with ``RegistryUnreachable`` in a few milliseconds (the
name does not resolve). Proxy variables are ignored (``trust_env=False``).

Modules: ``image_references`` (names, pull secrets), ``registries`` (the HTTP protocol,
auth, blob verification, the error tree), ``unpacking`` (layers → rootfs), this one (the
store, policies, endpoints, the index).

What ``root`` holds:

- ``blobs/sha256/<hex>``: manifests, configs and layers, each verified against its digest
  before it is renamed into place (see ``registries``); a cached blob is never fetched again.
- ``images/<config hex>/rootfs``: the layers extracted in order with whiteouts (see
  ``unpacking``), in a thread, under ``images/.tmp-*`` first and renamed when complete, so a
  crash never leaves a rootfs that looks finished. An image already extracted needs no layer
  downloads. The rootfs is shared and read-only by convention: callers copy or overlay it.
- ``index.json``: ``registry/repo:tag`` → digest and digest → image (id, size, config), so
  ``present()`` answers offline and after a restart. One ``ImageStore`` per ``root``.

``digest`` is what the reference resolved to (an index's digest for a multi-arch image, as
Kubernetes shows in ``imageID``); ``image_id`` is the config's digest.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import platform
import shutil
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import aiohttp

from atoll.embedded.hostinfo import go_architecture
from atoll.embedded.kubelet.image_references import (
    ImageRef,
    credentials_from_pull_secrets,
    is_loopback,
    registry_key,
)
from atoll.embedded.kubelet.registries import (
    BadImage,
    Descriptor,
    Endpoint,
    Fetcher,
    ImageNeverPulled,
    ImageNotFound,
    InvalidImageName,
    Progress,
    ProgressCounter,
    PullError,
    PullUnauthorized,
    RegistryClient,
    RegistryUnreachable,
    write_atomically,
)
from atoll.embedded.kubelet.unpacking import LayerError, unpack_layers

__all__ = [
    "BadImage",
    "ImageConfig",
    "ImageNeverPulled",
    "ImageNotFound",
    "ImageRef",
    "ImageStore",
    "InvalidImageName",
    "Progress",
    "PullError",
    "PullPolicy",
    "PullUnauthorized",
    "PulledImage",
    "RegistryUnreachable",
    "credentials_from_pull_secrets",
    "registry_key",
]

logger = logging.getLogger(__name__)

PullPolicy = Literal["Always", "IfNotPresent", "Never"]

_MAX_CONFIG = 8 << 20
_CONCURRENT_LAYERS = 3  # Docker's max-concurrent-downloads


@dataclass(frozen=True, slots=True)
class ImageConfig:
    """What the image config says about running it (its ``config`` object)."""

    entrypoint: list[str] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)
    env: list[str] = field(default_factory=list)
    working_dir: str = ""
    user: str = ""
    exposed_ports: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_image_config(cls, document: Mapping[str, Any]) -> ImageConfig:
        config = document.get("config") or {}
        if not isinstance(config, Mapping):
            raise BadImage("image config: 'config' is not an object")
        return cls(
            entrypoint=[str(v) for v in config.get("Entrypoint") or []],
            cmd=[str(v) for v in config.get("Cmd") or []],
            env=[str(v) for v in config.get("Env") or []],
            working_dir=str(config.get("WorkingDir") or ""),
            user=str(config.get("User") or ""),
            exposed_ports=sorted(str(p) for p in config.get("ExposedPorts") or {}),
            labels={str(k): str(v) for k, v in (config.get("Labels") or {}).items()},
        )


@dataclass(frozen=True, slots=True)
class PulledImage:
    """An image on disk. ``digest`` is what the reference resolved to in the registry (the
    index's digest for a multi-arch image, as Kubernetes shows in ``imageID``);
    ``image_id`` is the config digest; ``size`` counts the config and compressed layers."""

    ref: ImageRef
    digest: str
    image_id: str
    config: ImageConfig
    rootfs: Path
    size: int


class ImageStore:
    """Pulls images into ``root`` and remembers them; one store per ``root``.

    ``mirrors`` maps a registry (``docker.io``) to a mirror: a URL, or a host that follows the
    same scheme rules as a registry. ``timeout`` bounds each read, ``connect_timeout`` each
    connection (DNS included), so an unreachable registry fails within seconds.
    ``architecture`` overrides the host's (Go names: amd64, arm64) when choosing from an index.
    """

    def __init__(
        self,
        root: Path,
        *,
        mirrors: Mapping[str, str] | None = None,
        insecure: Iterable[str] = (),
        timeout: float = 10.0,
        connect_timeout: float = 2.5,
        architecture: str | None = None,
    ) -> None:
        self.root = root
        self._mirrors = {registry_key(k): v.rstrip("/") for k, v in (mirrors or {}).items()}
        self._insecure = frozenset(registry_key(r) for r in insecure)
        self._registries = RegistryClient(
            blobs=root / "blobs" / "sha256",
            architecture=architecture or _host_architecture(),
            timeout=aiohttp.ClientTimeout(total=None, connect=connect_timeout, sock_read=timeout),
        )
        self._working_base: dict[str, str] = {}  # registry → the base URL that answered
        self._index: dict[str, dict[str, Any]] | None = None

    async def close(self) -> None:
        await self._registries.close()

    # ---- what is on disk -------------------------------------------------------------

    def present(self, ref: str | ImageRef) -> PulledImage | None:
        """The image if it was pulled before (by this tag or digest); never uses the network.
        ``ValueError`` if ``ref`` does not parse."""
        image_ref = ref if isinstance(ref, ImageRef) else ImageRef.parse(ref)
        index = self._loaded_index()
        digest = image_ref.digest or index["tags"].get(f"{image_ref.name}:{image_ref.tag}")
        entry = index["images"].get(digest) if digest else None
        if digest is None or entry is None:
            return None
        image_id = entry["image_id"]
        rootfs = self._image_dir(image_id) / "rootfs"
        if not rootfs.is_dir():
            return None
        config = ImageConfig(**entry["config"])
        return PulledImage(image_ref, digest, image_id, config, rootfs, int(entry["size"]))

    def _loaded_index(self) -> dict[str, dict[str, Any]]:
        if self._index is None:
            try:
                self._index = json.loads((self.root / "index.json").read_bytes())
            except FileNotFoundError:
                self._index = {"tags": {}, "images": {}}
            except ValueError:  # written atomically, so only a foreign hand breaks it
                logger.warning(
                    "%s is unreadable; starting with no images", self.root / "index.json"
                )
                self._index = {"tags": {}, "images": {}}
        assert self._index is not None
        return self._index

    async def _record(self, image: PulledImage) -> None:
        index = self._loaded_index()
        if image.ref.digest is None and image.ref.tag:
            index["tags"][f"{image.ref.name}:{image.ref.tag}"] = image.digest
        entry = {"image_id": image.image_id, "size": image.size, "config": asdict(image.config)}
        index["images"][image.digest] = entry
        text = json.dumps(index)
        async with self._registries.locks["index.json"]:
            await asyncio.to_thread(write_atomically, self.root / "index.json", text.encode())

    def _image_dir(self, image_id: str) -> Path:
        return self.root / "images" / image_id.removeprefix("sha256:")

    # ---- pulling ---------------------------------------------------------------------

    async def pull(
        self,
        ref: str | ImageRef,
        *,
        credentials: Mapping[str, tuple[str, str]] | None = None,
        policy: PullPolicy = "IfNotPresent",
        progress: Progress | None = None,
    ) -> PulledImage:
        """Make the image present as ``policy`` says; ``credentials`` map registry → (user,
        password). ``progress(done, total)`` gets bytes of blobs. Raises ``PullError``."""
        try:
            image_ref = ref if isinstance(ref, ImageRef) else ImageRef.parse(ref)
        except ValueError as exc:
            raise InvalidImageName(str(exc)) from None
        if policy not in ("Always", "IfNotPresent", "Never"):
            raise ValueError(f"unknown pull policy {policy!r}")
        if policy != "Always" and (image := self.present(image_ref)) is not None:
            return image
        if policy == "Never":
            raise ImageNeverPulled(f'image "{image_ref}" is not present with pull policy of Never')
        creds = {registry_key(k): v for k, v in (credentials or {}).items()}
        logger.info("pulling image %s", image_ref)
        failure: PullError | None = None
        for endpoint in self._endpoints(image_ref):
            try:
                image = await self._pull_from(
                    endpoint, image_ref, creds.get(endpoint.host), progress
                )
            except PullError as exc:
                if not isinstance(exc, RegistryUnreachable):  # it answered: the scheme works
                    self._working_base[endpoint.host] = endpoint.base
                if not isinstance(exc, endpoint.fall_back_on):
                    raise
                logger.info("pulling %s from %s failed: %s", image_ref, endpoint.base, exc)
                failure = exc
                continue
            self._working_base[endpoint.host] = endpoint.base
            await self._record(image)
            return image
        assert failure is not None  # the last endpoint falls back on nothing
        raise failure

    def _endpoints(self, ref: ImageRef) -> list[Endpoint]:
        """The mirror's endpoints (if any), then the registry's; see the module docstring."""
        endpoints: list[Endpoint] = []
        if mirror := self._mirrors.get(ref.registry):
            endpoints += self._candidates(mirror, registry_key(mirror), last=False)
        return endpoints + self._candidates(ref.api_host, ref.registry, last=True)

    def _candidates(self, location: str, host: str, *, last: bool) -> list[Endpoint]:
        lenient = host in self._insecure or is_loopback(registry_key(location))
        if "://" in location:
            bases = [location]
        elif lenient:
            bases = [f"https://{location}", f"http://{location}"]
            if self._working_base.get(host) == bases[1]:
                bases.reverse()
        else:
            bases = [f"https://{location}"]
        on_failure: tuple[type[PullError], ...] = (
            (PullError,) if not last else (RegistryUnreachable,)
        )
        return [
            Endpoint(base, host, not lenient, () if last and base == bases[-1] else on_failure)
            for base in bases
        ]

    async def _pull_from(
        self,
        endpoint: Endpoint,
        ref: ImageRef,
        creds: tuple[str, str] | None,
        progress: Progress | None,
    ) -> PulledImage:
        fetcher = Fetcher(self._registries, endpoint, ref.repository, creds)
        digest, manifest = await fetcher.resolve(ref.reference)
        config_desc = Descriptor.of(manifest.get("config"))
        layers = [Descriptor.of(layer) for layer in manifest.get("layers") or []]
        if config_desc.size > _MAX_CONFIG:
            raise BadImage(f"image config of {config_desc.size} bytes is too large")
        counter = ProgressCounter(config_desc.size + sum(d.size for d in layers), progress)
        config_path = await fetcher.blob(config_desc, counter)
        try:
            document = json.loads(await asyncio.to_thread(config_path.read_bytes))
        except ValueError:
            raise BadImage(f"image config {config_desc.digest} is not JSON") from None
        if not isinstance(document, dict):
            raise BadImage(f"image config {config_desc.digest} is not a JSON object")
        rootfs = self._image_dir(config_desc.digest) / "rootfs"
        if rootfs.is_dir():  # already extracted: the layers are not needed at all
            counter.add(sum(layer.size for layer in layers))
        else:
            paths = await _fetch_all(fetcher, layers, counter)
            media_types = [layer.media_type for layer in layers]
            await self._unpack(config_desc.digest, list(zip(paths, media_types, strict=True)))
        config = ImageConfig.from_image_config(document)
        return PulledImage(ref, digest, config_desc.digest, config, rootfs, counter.total)

    async def _unpack(self, image_id: str, layers: list[tuple[Path, str]]) -> None:
        final = self._image_dir(image_id)
        async with self._registries.locks[image_id]:
            if (final / "rootfs").is_dir():
                return
            staging = final.with_name(f".tmp-{final.name}-{uuid.uuid4().hex[:8]}")
            try:
                await asyncio.to_thread(unpack_layers, layers, staging / "rootfs")
                await asyncio.to_thread(_rename_unless_present, staging, final)
            except LayerError as exc:
                raise BadImage(f"image {image_id}: layer {exc}") from None
            except OSError as exc:  # disk full, permissions: not the image's fault
                raise PullError(f"image {image_id}: extracting failed: {exc}") from None
            finally:
                await asyncio.to_thread(shutil.rmtree, staging, True)


async def _fetch_all(
    fetcher: Fetcher, layers: list[Descriptor], counter: ProgressCounter
) -> list[Path]:
    """Download layers, a few at a time; the first failure cancels the rest and is raised."""
    limit = asyncio.Semaphore(_CONCURRENT_LAYERS)

    async def fetch(layer: Descriptor) -> Path:
        async with limit:
            return await fetcher.blob(layer, counter)

    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(fetch(layer)) for layer in layers]
    except ExceptionGroup as failed:
        raise failed.exceptions[0] from None
    return [task.result() for task in tasks]


def _host_architecture() -> str:
    return go_architecture(platform.machine())


def _rename_unless_present(staging: Path, final: Path) -> None:
    """Move a finished extraction into place; another process may have won the race."""
    try:
        os.rename(staging, final)
    except OSError:
        if not (final / "rootfs").is_dir():
            raise
