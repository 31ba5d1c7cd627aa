"""Images for kubelet tests: a real registry on loopback and an image built FROM scratch.

``static_image`` is ``<registry>/static/busybox:1``: Debian's static busybox at ``/bin``,
``sh`` linked to it, an ``/etc/passwd``, a marker file ``/etc/image-marker`` and
``FROM_IMAGE=yes`` in its environment. Test modules import both fixtures.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.embedded.kubelet.oci_support import File, Pusher, Symlink, image, layer
from tests.embedded.kubelet.registry_support import Registry, start_registry

__all__ = ["BUSYBOX", "needs_runc", "registry", "static_image"]

BUSYBOX = Path("/bin/busybox")
needs_runc = pytest.mark.skipif(
    os.geteuid() != 0 or not Path("/usr/sbin/runc").exists(), reason="runc needs root and runc"
)


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    found = start_registry(tmp_path_factory.mktemp("registry"))
    yield found
    found.stop()


@pytest.fixture(scope="module")
def static_image(registry: Registry) -> str:
    """``<registry>/static/busybox:1``: busybox at /bin, sh linked to it, nothing else."""
    if not BUSYBOX.exists():
        pytest.skip("Debian's busybox-static is not installed (scripts/setup.sh installs it)")
    files: dict[str, Any] = {
        "bin/busybox": File(BUSYBOX.read_bytes(), mode=0o755),
        "bin/sh": Symlink("busybox"),
        "etc/passwd": File(b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/sh\n"),
        "etc/image-marker": File(b"from-the-image\n"),
    }
    built = image(
        [layer(files)], config={"Env": ["PATH=/bin", "FROM_IMAGE=yes"], "Cmd": ["/bin/sh"]}
    )
    host = registry.url.split("://", 1)[1]
    asyncio.run(Pusher(registry.url).push_image("static/busybox", built, tag="1"))
    return f"{host}/static/busybox:1"
