"""Helpers for the streaming tests (exec, attach, cp, port-forward): real clients only.

- ``kubectl(cluster, *args)``: Debian's kubectl 1.20 with its exit code (``ClusterProcess``'s
  helper hides it), optionally fed ``input``.
- ``Terminal``: kubectl under a pseudo-terminal, as a user's shell runs it: ``-it`` needs
  stdin to be a terminal; ``resize`` changes the terminal's size and signals SIGWINCH.
- ``running_pod``: a pod from a manifest, waited for until Running (with a deadline).
- the ``registry`` and ``static_image`` fixtures come from ``image_support`` (via conftest).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import select
import signal
import struct
import subprocess
import termios
import time
from collections.abc import Iterator
from typing import Any

from tests.conftest import KUBECTL, ClusterProcess
from tests.waiting import eventually


def kubectl(
    cluster: ClusterProcess, *args: str, input: bytes | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [str(KUBECTL), f"--kubeconfig={cluster.kubeconfig}", *args],
        input=input,
        capture_output=True,
        timeout=timeout,
    )


def running_pod(cluster: ClusterProcess, namespace: str, manifest: dict[str, Any]) -> str:
    """Create the pod and wait until it runs; its name."""
    name = str(manifest["metadata"]["name"])
    cluster.kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps(manifest))

    def running() -> bool:
        out = cluster.kubectl("get", "pod", name, "-n", namespace, "-o", "json", check=False)
        if not out.startswith("{"):
            return False
        statuses = json.loads(out).get("status", {}).get("containerStatuses") or []
        return bool(statuses) and all("running" in s.get("state", {}) for s in statuses)

    eventually(running, timeout=60, what=f"pod {name} running")
    return name


def sleeper(name: str, *, image: str = "busybox", **container: Any) -> dict[str, Any]:
    """A pod whose one container ``main`` sleeps (a host process unless the image pulls)."""
    spec = {"name": "main", "image": image, "command": ["sleep", "3600"], **container}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"terminationGracePeriodSeconds": 1, "containers": [spec]},
    }


class Terminal:
    """A command on a new pseudo-terminal; the test holds the master side."""

    def __init__(self, argv: list[str], *, rows: int = 30, cols: int = 100) -> None:
        self.master, slave = os.openpty()
        self._set_size(rows, cols)
        self.process = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, start_new_session=True
        )
        os.close(slave)
        self.output = b""

    def _set_size(self, rows: int, cols: int) -> None:
        fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def write(self, text: str) -> None:
        os.write(self.master, text.encode())

    def resize(self, rows: int, cols: int) -> None:
        self._set_size(rows, cols)
        self.process.send_signal(signal.SIGWINCH)  # no controlling terminal: signal it

    def read_until(self, wanted: bytes, *, timeout: float = 20) -> bytes:
        """Read until ``wanted`` has appeared in the output; all output so far."""
        deadline = time.monotonic() + timeout
        while wanted not in self.output:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{wanted!r} not seen; output: {self.output!r}")
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:  # the command is gone and so is the terminal
                    chunk = b""
                if not chunk:
                    raise AssertionError(f"{wanted!r} not seen before EOF: {self.output!r}")
                self.output += chunk
        return self.output

    def wait(self, timeout: float = 20) -> int:
        code = self.process.wait(timeout)
        with contextlib.suppress(OSError):
            while chunk := os.read(self.master, 4096):
                self.output += chunk
        return code

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        os.close(self.master)


@contextlib.contextmanager
def terminal(argv: list[str], *, rows: int = 30, cols: int = 100) -> Iterator[Terminal]:
    found = Terminal(argv, rows=rows, cols=cols)
    try:
        yield found
    finally:
        found.close()
