"""A pod's volumes as directories on this machine, and the container's view of them.

Each volume becomes a host directory under the pod's directory (``volumes/<name>``), or an
existing host path (``hostPath``, a PersistentVolume's local path): emptyDir (``medium:
Memory`` is a tmpfs when root, with ``sizeLimit`` as its size); configMap, secret,
downwardAPI and projected (files with ``items``, ``defaultMode``/``mode``); hostPath (with
its ``type`` checks); persistentVolumeClaim (the bound PersistentVolume's ``hostPath`` or
``local.path``). The runtime then mounts each at its ``mountPath``.

Files of configMap, secret, downwardAPI and projected volumes are written the way the
kubelet's AtomicWriter writes them — a timestamped directory, a ``..data`` symlink to it and
one symlink per key through ``..data`` — so an update swaps one symlink and a container
never sees half of it; ``refresh`` rewrites them when their sources change.
"""

from __future__ import annotations

import base64
import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from atoll.kube.quantities import quantity_value

from .env import ConfigSource, EnvError, PodFacts, field_ref, resource_ref
from .runtime import Mount, StartError

__all__ = ["VolumeSource", "Volumes"]

Object = dict[str, Any]
_DEFAULT_MODE = 0o644


class VolumeSource(ConfigSource, Protocol):
    async def claim_path(self, namespace: str, claim: str) -> Path | None:
        """The host directory of a bound PersistentVolumeClaim, or None while unbound."""


def _write_atomic(directory: Path, files: Mapping[str, tuple[bytes, int]]) -> bool:
    """Write ``files`` (relative path → content, mode) as the kubelet's AtomicWriter does.

    Returns whether anything changed."""
    directory.mkdir(parents=True, exist_ok=True)
    current = directory / "..data"
    if current.is_symlink():
        old_dir = directory / os.readlink(current)
        old = {
            str(p.relative_to(old_dir)): (p.read_bytes(), p.stat().st_mode & 0o777)
            for p in old_dir.rglob("*")
            if p.is_file()
        }
        if old == dict(files):
            return False
    stamp = directory / f"..{time.strftime('%Y_%m_%d_%H_%M_%S')}.{time.monotonic_ns()}"
    stamp.mkdir()
    for relative, (content, mode) in files.items():
        target = stamp / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        target.chmod(mode)
    staged = directory / "..data_tmp"
    with contextlib.suppress(FileNotFoundError):
        staged.unlink()
    staged.symlink_to(stamp.name)
    old_target = os.readlink(current) if current.is_symlink() else None
    staged.replace(current)
    tops = {relative.split("/", 1)[0] for relative in files}
    for top in tops:
        link = directory / top
        if not link.is_symlink():
            link.symlink_to(f"..data/{top}")
    for entry in directory.iterdir():
        if not entry.name.startswith("..") and entry.name not in tops and entry.is_symlink():
            entry.unlink()
    if old_target:
        shutil.rmtree(directory / old_target, ignore_errors=True)
    return True


def _items(
    values: Mapping[str, bytes], items: list[Object] | None, mode: int, what: str, optional: bool
) -> dict[str, tuple[bytes, int]]:
    if not items:
        return {key: (value, mode) for key, value in values.items()}
    files = {}
    for item in items:
        key = item["key"]
        if key not in values:
            if optional:
                continue
            raise StartError("CreateContainerConfigError", f"couldn't find key {key} in {what}")
        files[item.get("path") or key] = (values[key], int(item.get("mode") or mode))
    return files


class Volumes:
    """The volumes of one pod; ``prepare`` makes them, ``mounts`` maps a container's mounts."""

    def __init__(self, pod: Object, root: Path, source: VolumeSource, facts: PodFacts) -> None:
        self.pod = pod
        self.root = root
        self.source = source
        self.facts = facts
        self.paths: dict[str, Path] = {}
        self._tmpfs: list[Path] = []

    @property
    def _namespace(self) -> str:
        return str(self.pod["metadata"]["namespace"])

    async def prepare(self) -> None:
        """Create or refresh every volume; raises ``StartError`` for what cannot be made."""
        for volume in (self.pod.get("spec") or {}).get("volumes") or []:
            self.paths[volume["name"]] = await self._prepare(volume)

    async def refresh(self) -> None:
        """Rewrite configMap, secret, downwardAPI and projected volumes from their sources."""
        for volume in (self.pod.get("spec") or {}).get("volumes") or []:
            if any(k in volume for k in ("configMap", "secret", "downwardAPI", "projected")):
                with contextlib.suppress(StartError):
                    await self._prepare(volume)

    async def _prepare(self, volume: Object) -> Path:
        path = self.root / str(volume["name"])
        if "hostPath" in volume:
            return self._host_path(volume["hostPath"])
        if "persistentVolumeClaim" in volume:
            claim = volume["persistentVolumeClaim"]["claimName"]
            found = await self.source.claim_path(self._namespace, claim)
            if found is None:
                raise StartError(
                    "ContainerCreating", f'persistentvolumeclaim "{claim}" is not bound'
                )
            found.mkdir(parents=True, exist_ok=True)
            return found
        if "emptyDir" in volume:
            self._empty_dir(path, volume["emptyDir"] or {})
            return path
        files = await self._files(volume)
        _write_atomic(path, files)
        return path

    def _host_path(self, spec: Object) -> Path:
        path, kind = Path(spec["path"]), spec.get("type") or ""
        if kind == "DirectoryOrCreate":
            path.mkdir(parents=True, exist_ok=True)
        elif kind == "FileOrCreate" and not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch()
        elif kind == "Directory" and not path.is_dir():
            raise StartError(
                "ContainerCreating", f"hostPath type check failed: {path} is not a directory"
            )
        elif kind == "File" and not path.is_file():
            raise StartError(
                "ContainerCreating", f"hostPath type check failed: {path} is not a file"
            )
        elif kind == "Socket" and not path.is_socket():
            raise StartError(
                "ContainerCreating", f"hostPath type check failed: {path} is not a socket"
            )
        return path

    def _empty_dir(self, path: Path, spec: Object) -> None:
        if path.is_dir():
            return
        path.mkdir(parents=True)
        if spec.get("medium") == "Memory" and os.geteuid() == 0:
            size = spec.get("sizeLimit")
            options = f"size={quantity_value(size)}" if size else "size=50%"
            done = subprocess.run(
                ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
                capture_output=True,
                check=False,
            )
            if done.returncode == 0:
                self._tmpfs.append(path)

    async def _files(self, volume: Object) -> dict[str, tuple[bytes, int]]:
        if "projected" in volume:
            spec = volume["projected"] or {}
            mode = int(spec.get("defaultMode") or _DEFAULT_MODE)
            files: dict[str, tuple[bytes, int]] = {}
            for source in spec.get("sources") or []:
                files.update(await self._source_files(source, mode))
            return files
        for kind in ("configMap", "secret", "downwardAPI"):
            if kind in volume:
                spec = volume[kind] or {}
                mode = int(spec.get("defaultMode") or _DEFAULT_MODE)
                return await self._source_files({kind: spec}, mode)
        raise StartError(
            "ContainerCreating", f"volume {volume['name']!r}: this kind of volume is not supported"
        )

    async def _source_files(self, source: Object, mode: int) -> dict[str, tuple[bytes, int]]:
        if "configMap" in source:
            spec = source["configMap"]
            name, optional = spec.get("name", ""), bool(spec.get("optional"))
            found = await self.source.config_map(self._namespace, name)
            if found is None:
                if optional:
                    return {}
                raise EnvError(f'configmap "{name}" not found')
            values = {k: str(v).encode() for k, v in (found.get("data") or {}).items()}
            values |= {k: base64.b64decode(v) for k, v in (found.get("binaryData") or {}).items()}
            what = f"ConfigMap {self._namespace}/{name}"
            return _items(values, spec.get("items"), mode, what, optional)
        if "secret" in source:
            spec = source["secret"]
            name = spec.get("secretName") or spec.get("name", "")
            optional = bool(spec.get("optional"))
            secret = await self.source.secret(self._namespace, name)
            if secret is None:
                if optional:
                    return {}
                raise EnvError(f'secret "{name}" not found')
            values = {k: base64.b64decode(v) for k, v in (secret.get("data") or {}).items()}
            what = f"Secret {self._namespace}/{name}"
            return _items(values, spec.get("items"), mode, what, optional)
        if "downwardAPI" in source:
            files = {}
            for item in (source["downwardAPI"] or {}).get("items") or []:
                if "fieldRef" in item:
                    value = field_ref(item["fieldRef"], self.facts)
                else:
                    container = self._container(item["resourceFieldRef"].get("containerName"))
                    value = resource_ref(item["resourceFieldRef"], container, self.facts)
                files[item["path"]] = (value.encode(), int(item.get("mode") or mode))
            return files
        return {}

    def _container(self, name: str | None) -> Object:
        for container in (self.pod.get("spec") or {}).get("containers") or []:
            if name is None or container["name"] == name:
                return dict(container)
        return {}

    def mounts(self, container: Object) -> list[Mount]:
        """The container's volumeMounts as host paths; unknown volumes fail the start."""
        mounts = []
        for mount in container.get("volumeMounts") or []:
            source = self.paths.get(mount["name"])
            if source is None:
                raise StartError(
                    "CreateContainerConfigError", f"volume {mount['name']!r} is not defined"
                )
            mounts.append(
                Mount(
                    source=source,
                    target=mount["mountPath"],
                    read_only=bool(mount.get("readOnly")),
                    sub_path=mount.get("subPath") or "",
                )
            )
        return mounts

    def teardown(self) -> None:
        """Unmount tmpfs volumes; the caller removes the pod's directory."""
        for path in self._tmpfs:
            subprocess.run(["umount", "-l", str(path)], capture_output=True, check=False)
        self._tmpfs.clear()
