"""Chromium in a network namespace of its own, reaching Atoll through a Unix socket.

Chromium drops every request in flight when the machine's network changes
(``ERR_NETWORK_CHANGED``), and the embedded clusters of these tests and of the tests running
beside them make bridges, veths and addresses all the time. So Chromium runs in a namespace
that has only its loopback: nothing there ever changes. ``socat`` carries its connections to
Atoll: in the namespace it listens on 127.0.0.1 at Atoll's own port (the URLs stay the
same), and passes each connection through a Unix socket (which crosses namespaces) to a
second ``socat`` that connects to Atoll. Playwright talks to Chromium over pipes, which cross
too.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

__all__ = ["isolated_chromium"]


def _wait_for(path: Path) -> None:
    deadline = time.monotonic() + 10
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)  # a poll for a socket file, not a synchronisation of the test


@contextmanager
def isolated_chromium(chromium: str, urls: list[str]) -> Iterator[str]:
    """The path of a launcher that starts ``chromium`` in its own namespace, where each of
    ``urls`` (``http://127.0.0.1:PORT``) reaches the same server as outside."""
    name = f"atoll-chromium-{uuid.uuid4().hex[:8]}"
    workdir = Path(tempfile.mkdtemp(prefix=name))
    processes: list[subprocess.Popen[bytes]] = []
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
        for url in urls:
            port = urlsplit(url).port
            socket = workdir / f"{port}.sock"
            outside = f"UNIX-LISTEN:{socket},fork"
            processes.append(subprocess.Popen(["socat", outside, f"TCP:127.0.0.1:{port}"]))
            _wait_for(socket)
            inside = f"TCP-LISTEN:{port},bind=127.0.0.1,fork,reuseaddr"
            processes.append(
                subprocess.Popen(
                    ["ip", "netns", "exec", name, "socat", inside, f"UNIX-CONNECT:{socket}"]
                )
            )
        launcher = workdir / "chromium"
        launcher.write_text(f'#!/bin/sh\nexec ip netns exec {name} {chromium} "$@"\n')
        launcher.chmod(0o755)
        yield str(launcher)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)
        subprocess.run(["ip", "netns", "delete", name], check=False)
        shutil.rmtree(workdir, ignore_errors=True)
