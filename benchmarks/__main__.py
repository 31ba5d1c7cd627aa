"""Run the benchmarks against fresh embedded clusters and print the closing table.

``python -m benchmarks`` (``make bench``) runs them all, in an order that matters: the idle
RSS is read before anything is written, and the memory benchmark measures the pods the
list benchmark stored. The controller benchmarks (``rollout``, ``deployment_burst``) start
servers of their own, kubelet and scheduler off, and come after them, when the shared
server is at rest; the kubelet benchmarks (``pod_start``, ``kubelet_idle``, ``log_follow``,
``service_throughput``, ``exec_round_trip``)
last, each on a server of its own with ``--kubelet on`` and every controller, its pods run
as host processes and all deleted before it ends. ``--quick`` shrinks every benchmark for a
smoke run; ``--only`` picks some. The exit code is non-zero only when something crashed,
never for a slow figure.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import uvloop

from . import (
    cached_pods,
    console_pages,
    creates,
    deployment_bursts,
    exec_round_trip,
    kubelet_idle,
    lists,
    log_follow,
    logins,
    memory,
    pod_starts,
    rollouts,
    service_throughput,
    watch_fanout,
)
from .client import open_session
from .context import Context, Sizes
from .results import Row, markdown_table
from .server import ServerProcess, start_server

Benchmark = Callable[[Context], Awaitable[list[Row]]]

BENCHMARKS: dict[str, Benchmark] = {
    "creates": creates.run,
    "watch_fanout": watch_fanout.run,
    "lists": lists.run,
    "memory": memory.run,
    "rollout": rollouts.run,
    "deployment_burst": deployment_bursts.run,
    "pod_start": pod_starts.run,
    "kubelet_idle": kubelet_idle.run,
    "log_follow": log_follow.run,
    "service_throughput": service_throughput.run,
    "exec_round_trip": exec_round_trip.run,
    "logins": logins.run,
    "cached_pods": cached_pods.run,
    "console": console_pages.run,
}
_SETTLE_SECONDS = 1.0


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    parser.add_argument(
        "--only", action="append", choices=list(BENCHMARKS), help="run only these (repeatable)"
    )
    parser.add_argument(
        "--controllers",
        metavar="SELECTION",
        help="the shared server's --controllers (default: all, as shipped; '' runs none, to "
        "tell the API server's own memory and CPU from the in-process controllers'; the "
        "controller benchmarks choose their own)",
    )
    return parser.parse_args(argv)


async def _run_all(
    server: ServerProcess, sizes: Sizes, scratch: Path, names: list[str]
) -> list[Row]:
    await asyncio.sleep(_SETTLE_SECONDS)
    idle_rss = server.rss_bytes()
    rows: list[Row] = []
    async with open_session(server) as session:
        ctx = Context(
            server=server, session=session, sizes=sizes, scratch=scratch, idle_rss_bytes=idle_rss
        )
        for name in names:
            start = time.perf_counter()
            rows += await BENCHMARKS[name](ctx)
            print(f"  ({name} took {time.perf_counter() - start:.1f} s)\n", flush=True)
    return rows


def _print_header(sizes: Sizes, quick: bool, controllers: str | None) -> None:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"Atoll benchmarks{' (quick)' if quick else ''}: Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, load average {load}"
    )
    shown = "all (default)" if controllers is None else repr(controllers)
    print(f"sizes: {sizes}; shared server's controllers: {shown}, kubelet off\n", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    sizes = Sizes.quick() if args.quick else Sizes()
    names = args.only or list(BENCHMARKS)
    _print_header(sizes, args.quick, args.controllers)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="atoll-bench-") as tmp:
        scratch = Path(tmp) / "scratch"
        scratch.mkdir()
        server = start_server(Path(tmp) / "cluster", controllers=args.controllers, kubelet=False)
        try:
            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                rows = runner.run(_run_all(server, sizes, scratch, names))
        except BaseException:
            log = Path(tmp) / "cluster.log"
            sys.stderr.write(f"server log (tail):\n{log.read_text()[-3000:]}\n")
            raise
        finally:
            code = server.stop()
    print(markdown_table(rows))
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"\nserver exited with {code}; total {time.perf_counter() - started:.0f} s; "
        f"load average {load}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
