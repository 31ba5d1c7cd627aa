"""What a pod worker needs from its kubelet: ``PodHost``, and the two values it hands over.

The worker (``worker.py``) never talks HTTP, reads caches or picks a runtime itself; the
kubelet (``kubelet.py``) implements ``PodHost``, and a test may implement it in-process.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import aiohttp

from .runtime import Runtime
from .sandboxes import PodSandbox
from .volumes import VolumeSource

__all__ = ["ImageInfo", "LogSink", "PodHost"]

Object = dict[str, Any]


@dataclass(frozen=True, slots=True)
class ImageInfo:
    """What a pulled image contributes; None from ``PodHost.image`` means run on the host."""

    rootfs: Path
    image_id: str
    entrypoint: Sequence[str]
    cmd: Sequence[str]
    env: Sequence[str]
    working_dir: str
    user: str


class LogSink(Protocol):
    def write(self, stream: str, data: bytes) -> None: ...

    def close(self) -> None: ...


class PodHost(Protocol):
    source: VolumeSource
    session: aiohttp.ClientSession
    host_ip: str
    node_cpu_millis: int
    node_memory: int

    def pod_dir(self, pod: Object) -> Path: ...

    def runtime_for(self, pod: Object, image: ImageInfo | None) -> Runtime: ...

    def open_log(self, pod: Object, container: str, restart_count: int) -> LogSink: ...

    async def image(self, pod: Object, container: Object) -> ImageInfo | None: ...

    async def write_status(self, pod: Object, status: Object) -> None: ...

    async def log_tail(
        self, pod: Object, container: str, restart_count: int, *, lines: int, limit: int
    ) -> str: ...

    async def delete_pod(self, pod: Object) -> None: ...

    async def sandbox(self, pod: Object) -> PodSandbox: ...

    async def release_sandbox(self, pod: Object) -> None: ...

    async def event(self, pod: Object, type: str, reason: str, message: str) -> None: ...
