"""Build OCI (or Docker v2) images in memory and push them over the registry HTTP API.

A layer is a dict of path → content: ``bytes``/``str`` for a regular file, or one of
``File``, ``Dir``, ``Symlink``, ``Hardlink``, ``CharDevice``. Whiteouts are ordinary empty
files named ``.wh.<name>`` and ``.wh..wh..opq``; insertion order is the tar's order, so a
test can put an opaque marker after the entries it must keep. Names are written as given,
``../`` and absolute ones included, so unsafe layers can be built too.

``Pusher.push_image`` follows the protocol a client uses: ``HEAD`` each blob, ``POST
/v2/<repo>/blobs/uploads/`` then ``PUT <location>&digest=``, and ``PUT`` the manifest.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"

MTIME = 1_700_000_000


@dataclass(frozen=True)
class File:
    data: bytes = b""
    mode: int = 0o644
    uid: int = 0
    gid: int = 0


@dataclass(frozen=True)
class Dir:
    mode: int = 0o755


@dataclass(frozen=True)
class Symlink:
    target: str


@dataclass(frozen=True)
class Hardlink:
    target: str


@dataclass(frozen=True)
class CharDevice:
    major: int
    minor: int


Entry = bytes | str | File | Dir | Symlink | Hardlink | CharDevice


@dataclass(frozen=True)
class Blob:
    media_type: str
    data: bytes

    @property
    def digest(self) -> str:
        return "sha256:" + hashlib.sha256(self.data).hexdigest()

    def descriptor(self, **extra: Any) -> dict[str, Any]:
        return {
            "mediaType": self.media_type,
            "digest": self.digest,
            "size": len(self.data),
            **extra,
        }


@dataclass(frozen=True)
class Image:
    config: Blob
    layers: list[Blob]
    manifest: Blob  # media_type says OCI or Docker
    architecture: str

    @property
    def digest(self) -> str:
        return self.manifest.digest

    @property
    def blobs(self) -> list[Blob]:
        return [self.config, *self.layers]


def tar_bytes(files: Mapping[str, Entry]) -> bytes:
    """An uncompressed tar of ``files``, in insertion order, with fixed times."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, entry in files.items():
            info = tarfile.TarInfo(name)
            info.mtime = MTIME
            content = _tar_info(info, entry)
            tar.addfile(info, io.BytesIO(content) if content is not None else None)
    return out.getvalue()


def _tar_info(info: tarfile.TarInfo, entry: Entry) -> bytes | None:
    if isinstance(entry, str | bytes):
        entry = File(entry.encode() if isinstance(entry, str) else entry)
    if isinstance(entry, File):
        info.size, info.mode, info.uid, info.gid = len(entry.data), entry.mode, entry.uid, entry.gid
        return entry.data
    if isinstance(entry, Dir):
        info.type, info.mode = tarfile.DIRTYPE, entry.mode
    elif isinstance(entry, Symlink):
        info.type, info.linkname, info.mode = tarfile.SYMTYPE, entry.target, 0o777
    elif isinstance(entry, Hardlink):
        info.type, info.linkname = tarfile.LNKTYPE, entry.target
    else:
        info.type, info.devmajor, info.devminor, info.mode = (
            tarfile.CHRTYPE,
            entry.major,
            entry.minor,
            0o666,
        )
    return None


def layer(files: Mapping[str, Entry], *, media_type: str = OCI_LAYER_GZIP) -> Blob:
    raw = tar_bytes(files)
    if media_type in (OCI_LAYER_GZIP, DOCKER_LAYER):
        return Blob(media_type, gzip.compress(raw, mtime=0))
    return Blob(media_type, raw)


def image(
    layers: Sequence[Blob],
    *,
    architecture: str = "amd64",
    docker: bool = False,
    config: Mapping[str, Any] | None = None,
) -> Image:
    """An image of ``layers``; ``config`` is the runtime config (``Entrypoint``, ``Env`` ...)."""
    diff_ids = ["sha256:" + hashlib.sha256(_uncompressed(blob)).hexdigest() for blob in layers]
    document = {
        "architecture": architecture,
        "os": "linux",
        "config": dict(config or {}),
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }
    config_blob = Blob(DOCKER_CONFIG if docker else OCI_CONFIG, _json(document))
    manifest: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": DOCKER_MANIFEST if docker else OCI_MANIFEST,
        "config": config_blob.descriptor(),
        "layers": [blob.descriptor() for blob in layers],
    }
    manifest_blob = Blob(manifest["mediaType"], _json(manifest))
    return Image(config_blob, list(layers), manifest_blob, architecture)


def index(images: Sequence[Image], *, docker: bool = False) -> Blob:
    """A multi-arch index (or Docker manifest list) over ``images``."""
    media_type = DOCKER_LIST if docker else OCI_INDEX
    manifests = [
        img.manifest.descriptor(platform={"os": "linux", "architecture": img.architecture})
        for img in images
    ]
    return Blob(
        media_type, _json({"schemaVersion": 2, "mediaType": media_type, "manifests": manifests})
    )


def _uncompressed(blob: Blob) -> bytes:
    return gzip.decompress(blob.data) if blob.data[:2] == b"\x1f\x8b" else blob.data


def _json(document: Mapping[str, Any]) -> bytes:
    return json.dumps(document, sort_keys=True).encode()


@dataclass
class Pusher:
    """Pushes to one registry; ``authorization`` is a ready ``Authorization`` header value."""

    base_url: str  # "http://127.0.0.1:5000"
    authorization: str | None = None

    def _headers(self, **extra: str) -> dict[str, str]:
        auth = {"Authorization": self.authorization} if self.authorization else {}
        return {**auth, **extra}

    async def blob(self, session: aiohttp.ClientSession, repository: str, blob: Blob) -> None:
        url = f"{self.base_url}/v2/{repository}/blobs/{blob.digest}"
        async with session.head(url, headers=self._headers()) as found:
            if found.status == 200:
                return
        start = f"{self.base_url}/v2/{repository}/blobs/uploads/"
        async with session.post(start, headers=self._headers()) as started:
            assert started.status == 202, await started.text()
            location = started.headers["Location"]
        location = location if "://" in location else self.base_url + location
        separator = "&" if "?" in location else "?"
        put = f"{location}{separator}digest={blob.digest}"
        headers = self._headers(**{"Content-Type": "application/octet-stream"})
        async with session.put(put, data=blob.data, headers=headers) as done:
            assert done.status == 201, await done.text()

    async def manifest(
        self, session: aiohttp.ClientSession, repository: str, manifest: Blob, reference: str
    ) -> str:
        url = f"{self.base_url}/v2/{repository}/manifests/{reference}"
        headers = self._headers(**{"Content-Type": manifest.media_type})
        async with session.put(url, data=manifest.data, headers=headers) as done:
            assert done.status == 201, await done.text()
            assert done.headers["Docker-Content-Digest"] == manifest.digest
        return manifest.digest

    async def push_image(self, repository: str, img: Image, *, tag: str | None = None) -> str:
        """Push ``img``'s blobs and manifest (under ``tag``, else by digest); its digest."""
        async with aiohttp.ClientSession() as session:
            for blob in img.blobs:
                await self.blob(session, repository, blob)
            return await self.manifest(session, repository, img.manifest, tag or img.digest)

    async def push_index(
        self, repository: str, images: Sequence[Image], tag: str, *, docker: bool = False
    ) -> str:
        """Push every image by digest, then an index over them under ``tag``; its digest."""
        for img in images:
            await self.push_image(repository, img)
        async with aiohttp.ClientSession() as session:
            return await self.manifest(session, repository, index(images, docker=docker), tag)
