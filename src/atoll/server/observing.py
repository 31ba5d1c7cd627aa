"""What the server says about itself: ``/healthz``, ``/readyz`` and ``/metrics``.

``/healthz`` answers while the process lives. ``/readyz`` is 503 until the host cluster
answers its own ``/readyz`` and every component says it is ready (the reasons are listed).
``/metrics`` is Prometheus text from the app's own registry: requests by method, route and
code (the console's files as one route, ``console``), and their latencies; objects in each
component's caches; controllers' queue depths.
None of these need a login, and none count as a failed one.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator, Sequence

from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.routing import Match

from atoll.controllers.queueing import QueueStats

from .components import Component
from .console import console_path
from .problems import problem

__all__ = ["Probe", "observe"]

Probe = Callable[[], Awaitable[str | None]]  # None: fine; else why not


def _route_of(request: Request) -> str:
    """The route's template (``/kapis/…/{name}``), never the raw path: bounded labels. The
    console's files and pages, served where no route matched, are all ``console``."""
    matched = request.scope.get("route")
    if matched is not None and hasattr(matched, "path"):
        return str(matched.path)
    if console_path(request.scope["path"]):
        return "console"
    for route in request.app.router.routes:
        if hasattr(route, "path") and route.matches(request.scope)[0] == Match.FULL:
            return str(route.path)
    return "unmatched"


class _State(Collector):
    """Gauges read when scraped: caches' sizes and controllers' queues."""

    def __init__(
        self, components: Sequence[Component], queues: Callable[[], Sequence[QueueStats]]
    ) -> None:
        self.components = components
        self.queues = queues

    def collect(self) -> Iterator[Metric]:
        cached = GaugeMetricFamily(
            "atoll_cache_objects",
            "Objects in a component's caches, by resource.",
            labels=["component", "resource"],
        )
        for component in self.components:
            for resource, count in sorted(component.cache_sizes().items()):
                cached.add_metric([component.name, resource], count)
        yield cached
        depth = GaugeMetricFamily(
            "atoll_controller_queue_depth",
            "Keys waiting for a controller's workers (this replica, if it leads).",
            labels=["controller"],
        )
        adds = CounterMetricFamily(
            "atoll_controller_queue_adds",
            "Keys put in a controller's queue since its manager started.",
            labels=["controller"],
        )
        for stats in self.queues():
            depth.add_metric([stats.name], stats.depth + stats.delayed)
            adds.add_metric([stats.name], stats.adds)
        yield depth
        yield adds


def observe(
    app: FastAPI,
    components: Sequence[Component],
    cluster_ready: Probe,
    queues: Callable[[], Sequence[QueueStats]] = list,
) -> None:
    registry = CollectorRegistry()
    registry.register(_State(components, queues))
    requests = Counter(
        "atoll_http_requests_total",
        "HTTP requests answered, by method, route and code.",
        ["method", "route", "code"],
        registry=registry,
    )
    latency = Histogram(
        "atoll_http_request_duration_seconds",
        "Time to answer an HTTP request, by method and route.",
        ["method", "route"],
        registry=registry,
    )

    async def measure(request: Request, call_next: Callable[..., Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = _route_of(request)
        latency.labels(request.method, route).observe(time.perf_counter() - started)
        requests.labels(request.method, route, str(response.status_code)).inc()
        return response

    app.add_middleware(BaseHTTPMiddleware, dispatch=measure)
    router = APIRouter(include_in_schema=False)

    @router.get("/healthz")
    async def healthz() -> Response:
        return Response("ok", media_type="text/plain")

    @router.get("/readyz")
    async def readyz() -> Response:
        reasons = []
        why = await cluster_ready()
        if why is not None:
            reasons.append(f"host cluster: {why}")
        reasons += [f"component {c.name} is not ready" for c in components if not c.ready()]
        if reasons:
            return problem(503, "; ".join(reasons))
        return Response("ok", media_type="text/plain")

    @router.get("/metrics")
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    app.include_router(router)
