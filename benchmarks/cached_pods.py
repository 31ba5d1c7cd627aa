"""A filtered, sorted page of pods from Atoll's cache, beside the same page made by a client.

Targets (issue 6): ``GET /kapis/resources.atoll.io/v1alpha1/pods?name=web&sortBy=createTime
&limit=50`` — across every namespace, one pod name in ten matching — answered in at most
50 ms at p99, at least 20× faster than the baseline; Atoll's server at most 400 MB resident
with the pods cached.

Fixture: ``sizes.cached_pods`` pods (50,000; 2,000 quick) in one namespace per 12.5 pods
(4,000 for the full size), on a cluster of their own, its kubelet and scheduler off
(``--kubelet off --controllers '*,-scheduler'``: nothing changes the pods once written). Each
pod is ``objects.pod`` with a Running status written through the status subresource, as a
kubelet would (~1.7 KB of JSON). Then ``atoll up --kubeconfig`` runs as a process of its own
against that cluster; the benchmark logs in as ``admin`` and sends the access token. One
untimed request starts the pods store (the time until it answers, the cache's fill, is
printed); then ``WARM`` unmeasured requests and ``queries`` measured ones, one at a time.

Baseline, same run: what a client does without Atoll — list every pod from the cluster
(``GET /api/v1/pods``, its own token), decode, keep the names containing ``web``, sort newest
first and take 50. The RSS figure's baseline is the same server just before the first
request, with nothing cached.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson

from .atoll_up import atoll_up, login
from .client import MERGE_PATCH, RequestFailed, open_session, percentile, run_workers, send
from .context import Context
from .objects import namespace, pod, pod_status
from .results import Row
from .server import ServerProcess, serving

__all__ = ["run"]

TARGET_P99_MS = 50.0
TARGET_RATIO = 20.0
TARGET_RSS_MB = 400.0
PODS_PER_NAMESPACE = 12.5  # 50,000 pods in 4,000 namespaces
QUERY = "/kapis/resources.atoll.io/v1alpha1/pods?name=web&sortBy=createTime&limit=50"
PAGE = 50
WARM = 10
BASELINE_RUNS = 5
MB = 1024 * 1024
_TIMEOUT = 120.0  # a crash, not a figure, beyond this


def _pod_name(index: int) -> str:
    return f"web-{index:06d}" if index % 10 == 0 else f"app-{index:06d}"


async def _fill(cluster: ServerProcess, pods: int) -> tuple[int, float]:
    """Create the namespaces, then the pods with their status; (namespaces, seconds)."""
    spaces = max(1, round(pods / PODS_PER_NAMESPACE))
    names = [f"bench-cached-{i:04d}" for i in range(spaces)]
    started = time.perf_counter()
    async with open_session(cluster) as session:

        async def create_namespace(name: str) -> None:
            await send(session, "POST", "/api/v1/namespaces", orjson.dumps(namespace(name)))

        async def create_pod(index: int) -> None:
            base = f"/api/v1/namespaces/{names[index % spaces]}/pods"
            name = _pod_name(index)
            await send(session, "POST", base, orjson.dumps(pod(name, index=index)))
            status = orjson.dumps(pod_status(index=index))
            await send(session, "PATCH", f"{base}/{name}/status", status, MERGE_PATCH)

        await run_workers(names, create_namespace)
        await run_workers(range(pods), create_pod)
    return spaces, time.perf_counter() - started


async def _timed(session: aiohttp.ClientSession, url: str) -> tuple[float, int, bytes]:
    started = time.perf_counter()
    async with session.get(url) as resp:
        body = await resp.read()
    return (time.perf_counter() - started) * 1000, resp.status, body


async def _first_answer(session: aiohttp.ClientSession, url: str) -> tuple[float, Any]:
    """Seconds until the first 200 (the store's fill: 503 meanwhile), and that answer."""
    started = time.perf_counter()
    while True:
        _, status, body = await _timed(session, url)
        if status == 200:
            return time.perf_counter() - started, orjson.loads(body)
        if status != 503 or time.perf_counter() - started > _TIMEOUT:
            raise RequestFailed(f"GET {url}: {status} {body[:300]!r}")


def _page_of(pods: list[dict[str, Any]]) -> list[str]:
    """The page a client makes itself: names containing web, newest first, 50."""
    matching = [p for p in pods if "web" in p["metadata"]["name"]]
    matching.sort(
        key=lambda p: (
            p["metadata"]["creationTimestamp"],
            p["metadata"]["namespace"],
            p["metadata"]["name"],
        ),
        reverse=True,
    )
    return [p["metadata"]["name"] for p in matching[:PAGE]]


async def _baseline(cluster: ServerProcess) -> tuple[list[float], list[str], int]:
    """(milliseconds per list+filter+sort, the last page's names, pods listed)."""
    times, page, listed = [], [], 0
    async with open_session(cluster) as session:
        for _ in range(BASELINE_RUNS):
            started = time.perf_counter()
            async with session.get("/api/v1/pods") as resp:
                body = await resp.read()
                if resp.status != 200:
                    raise RequestFailed(f"GET /api/v1/pods: {resp.status}")
            pods = orjson.loads(body)["items"]
            page = _page_of(pods)
            times.append((time.perf_counter() - started) * 1000)
            listed = len(pods)
            del pods, body
    return times, page, listed


@dataclass
class Measured:
    first_answer: float  # seconds until the store had filled and answered
    times: list[float]
    total: int
    page: list[str]
    idle_rss: int
    rss: int
    peak_rss: int


async def _measure(ctx: Context, cluster: ServerProcess, pods: int) -> Measured:
    spaces, fill_seconds = await _fill(cluster, pods)
    print(f"cached pods: {pods:,} pods in {spaces:,} namespaces stored in {fill_seconds:.0f} s")
    with atoll_up(cluster.data_dir / "kubeconfig", ctx.scratch / "cached-pods-atoll") as atoll:
        async with aiohttp.ClientSession(trust_env=False) as session:
            token = str((await login(session, atoll.url))["access_token"])
        headers = {"Authorization": f"Bearer {token}"}
        idle_rss = atoll.rss_bytes()
        async with aiohttp.ClientSession(headers=headers, trust_env=False) as session:
            url = atoll.url + QUERY
            first, answer = await _first_answer(session, url)
            for _ in range(WARM):
                await _timed(session, url)
            runs = [await _timed(session, url) for _ in range(ctx.sizes.cached_queries)]
        if any(status != 200 for _, status, _ in runs):
            raise RequestFailed(f"GET {QUERY}: {sorted({s for _, s, _ in runs})}")
        return Measured(
            first_answer=first,
            times=[ms for ms, _, _ in runs],
            total=int(answer["totalItems"]),
            page=[item["metadata"]["name"] for item in answer["items"]],
            idle_rss=idle_rss,
            rss=atoll.rss_bytes(),
            peak_rss=atoll.peak_rss_bytes(),
        )


async def run(ctx: Context) -> list[Row]:
    pods = ctx.sizes.cached_pods
    with serving(
        ctx.scratch / "cached-pods-cluster", controllers="*,-scheduler", kubelet=False
    ) as cluster:
        measured = await _measure(ctx, cluster, pods)
        base_times, base_page, listed = await _baseline(cluster)
    if measured.total != (pods + 9) // 10 or listed != pods:
        raise RequestFailed(f"{measured.total} web pods cached, {listed} listed, of {pods}")
    if measured.page != base_page:
        raise RequestFailed("Atoll's page differs from the one the client made itself")
    return _report(pods, measured, base_times)


def _report(pods: int, m: Measured, base_times: list[float]) -> list[Row]:
    p50, p99 = statistics.median(m.times), percentile(m.times, 99)
    b50 = statistics.median(base_times)
    ratio = b50 / p50
    latency_met = p99 <= TARGET_P99_MS and ratio >= TARGET_RATIO
    rss_mb, idle_mb = m.rss / MB, m.idle_rss / MB
    per_pod = (m.rss - m.idle_rss) / pods
    print(
        f"  GET {QUERY} ({m.total:,} of {pods:,} match; {PAGE} a page), {len(m.times)} × one at "
        f"a time: p50 {p50:.1f} ms, p99 {p99:.1f} ms (target p99 ≤ {TARGET_P99_MS:.0f} ms, "
        f"≥ {TARGET_RATIO:.0f}× the baseline: {'met' if latency_met else 'missed'}); "
        f"first answer (the store filling) after {m.first_answer:.1f} s"
    )
    print(
        f"  baseline, same run: GET /api/v1/pods from the cluster + decode + filter + sort "
        f"({len(base_times)} runs, the same page) p50 {b50:,.0f} ms; "
        f"ratio {ratio:,.0f}×"
    )
    print(
        f"  Atoll server RSS with {pods:,} pods cached: {rss_mb:.0f} MB (peak {m.peak_rss / MB:.0f}"
        f" MB; target ≤ {TARGET_RSS_MB:.0f} MB: {'met' if rss_mb <= TARGET_RSS_MB else 'missed'})"
        f"; before the first request {idle_mb:.0f} MB: {per_pod:,.0f} B of RSS per cached pod"
    )
    return [
        Row(
            f"Cached pods page ({pods:,} pods, name=web, sorted, 50)",
            f"p50 {p50:.1f} ms, p99 {p99:.1f} ms",
            f"p99 ≤ {TARGET_P99_MS:.0f} ms, ≥ {TARGET_RATIO:.0f}×",
            latency_met,
            f"list all + filter + sort in the client p50 {b50:,.0f} ms",
            f"{ratio:,.0f}× faster",
        ),
        Row(
            f"Atoll server RSS ({pods:,} pods cached)",
            f"{rss_mb:.0f} MB (peak {m.peak_rss / MB:.0f} MB)",
            f"≤ {TARGET_RSS_MB:.0f} MB",
            rss_mb <= TARGET_RSS_MB,
            f"same server, nothing cached {idle_mb:.0f} MB",
            f"{rss_mb / idle_mb:.1f}× · {per_pod:,.0f} B/pod",
        ),
    ]
