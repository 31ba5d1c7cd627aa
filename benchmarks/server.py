"""The server under test: ``atoll cluster serve`` as a subprocess, and what we read about it.

Started the way ``tests/conftest.py`` starts it (wait with a deadline until the kubeconfig
is written), stopped with SIGTERM. Its resident memory and CPU time come from
``/proc/<pid>``, so they cover every thread (the SQLite writer included).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml

__all__ = ["ServerProcess", "serving", "start_server"]

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class ServerProcess:
    data_dir: Path
    process: subprocess.Popen[bytes]
    url: str
    token: str

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def ca(self) -> Path:
        return self.data_dir / "pki" / "ca.crt"

    def rss_bytes(self) -> int:
        return _status_kib(self.pid, "VmRSS") * 1024

    def peak_rss_bytes(self) -> int:
        return _status_kib(self.pid, "VmHWM") * 1024

    def cpu_seconds(self) -> float:
        """User + system CPU time of the whole process so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


def _status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise LookupError(f"{field} not in /proc/{pid}/status")


def start_server(
    data_dir: Path,
    *,
    timeout: float = 60.0,
    controllers: str | None = None,
    kubelet: bool | None = None,
    settings: Mapping[str, str] | None = None,
) -> ServerProcess:
    """Start ``atoll cluster serve`` on a free port; return once its kubeconfig is new.

    ``controllers`` is passed as ``--controllers`` (None: the server's default, all of them),
    ``kubelet`` as ``--kubelet on|off`` (None: the server's default); ``settings`` as
    ``ATOLL_CLUSTER__<NAME>`` environment variables (``{"MAX_PODS": "250"}``).
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    kubeconfig = data_dir / "kubeconfig"
    before = kubeconfig.stat().st_mtime_ns if kubeconfig.exists() else None
    with open(data_dir.parent / f"{data_dir.name}.log", "ab") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "atoll",
                "cluster",
                "serve",
                "--data-dir",
                str(data_dir),
                "--port",
                "0",
                "--log-level",
                "warning",
                *(["--controllers", controllers] if controllers is not None else []),
                *(["--kubelet", "on" if kubelet else "off"] if kubelet is not None else []),
            ],
            stdout=subprocess.DEVNULL,
            stderr=log,
            env={
                **os.environ,
                "PYTHONUNBUFFERED": "1",
                **{f"ATOLL_CLUSTER__{k}": v for k, v in (settings or {}).items()},
            },
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"atoll cluster serve exited with {process.returncode}")
        if kubeconfig.exists() and kubeconfig.stat().st_mtime_ns != before:
            config = yaml.safe_load(kubeconfig.read_text())
            return ServerProcess(
                data_dir,
                process,
                config["clusters"][0]["cluster"]["server"],
                config["users"][0]["user"]["token"],
            )
        time.sleep(0.02)
    process.kill()
    raise TimeoutError(f"the embedded cluster did not become ready within {timeout:.0f} s")


@contextmanager
def serving(
    data_dir: Path,
    *,
    controllers: str | None = None,
    kubelet: bool | None = None,
    settings: Mapping[str, str] | None = None,
) -> Iterator[ServerProcess]:
    """A server of its own for one benchmark, stopped (SIGTERM) when the block ends.

    If it does not start, or the block fails, the tail of its log goes to stderr first, as
    ``__main__`` does for the shared server.
    """
    log = data_dir.parent / f"{data_dir.name}.log"
    server: ServerProcess | None = None
    try:
        server = start_server(data_dir, controllers=controllers, kubelet=kubelet, settings=settings)
        yield server
    except BaseException:
        sys.stderr.write(f"server log of {data_dir.name} (tail):\n{log.read_text()[-3000:]}\n")
        raise
    finally:
        if server is not None:
            server.stop()
