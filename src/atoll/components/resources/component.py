"""The resources component's declaration (entry point ``resources`` in ``atoll.components``).

Its router exists before the component starts, as every component's must; it reaches the
store registry through ``_Started``, which answers 503 until ``start`` made the registry.
The stores start lazily, one per resource a request asks for, and run (``run``) on every
replica until the server stops, so the component is ready as soon as it started.

Lists across namespaces are let through by the request pipeline (``filtering``) and
narrowed here to what the caller may see, from the pipeline's authorizer: the namespaces
where it may list the kind (Kubernetes' own group and resource, so a Role written for
Kubernetes means the same here), or the whole list when it may list it cluster-wide.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request

from atoll.errors import Forbidden
from atoll.kube.client import ResourceType
from atoll.server.access import ObjectHook, Pipeline, RequestInfo, principal_of
from atoll.server.components import Component, ComponentContext

from .registry import StoreRegistry
from .routes import GROUP, NamespacePredicate, resources_router

__all__ = ["component"]


@dataclass
class _Started:
    """What the routes need, known once the component has started (None until then)."""

    registry: StoreRegistry | None = None
    pipeline: Pipeline = field(default_factory=Pipeline)  # deny-all until started

    def current(self) -> StoreRegistry | None:
        return self.registry

    def sizes(self) -> dict[str, int]:
        """Objects cached, by cluster and resource, for /metrics; empty before start."""
        if self.registry is None:
            return {}
        return {f"{c}/{r}": n for (c, r), n in sorted(self.registry.sizes().items())}

    def hooks(self) -> dict[tuple[str, str], ObjectHook]:
        return self.pipeline.object_hooks

    async def visible(
        self, request: Request, cluster: str, rt: ResourceType
    ) -> NamespacePredicate | None:
        who = principal_of(request)
        namespaces = rt.group == "" and rt.plural == "namespaces"
        info = RequestInfo(
            verb="get" if namespaces else "list",
            path=request.url.path,
            resource_request=True,
            prefix="apis" if rt.group else "api",
            api_group=rt.group,
            api_version=rt.version,
            resource=rt.plural,
            cluster=cluster,
        )
        if not rt.namespaced and not namespaces:  # all or nothing, as Kubernetes
            decision = await self.pipeline.authorize(who, info)
            if not decision.allowed:
                raise Forbidden(decision.reason)
            return None
        found = self.pipeline.visible_namespaces(who, info)
        return None if found is None else found.__contains__


def _filtered(info: RequestInfo) -> bool:
    """Lists across namespaces, which the routes narrow themselves."""
    return info.api_group == GROUP and info.verb == "list" and not info.namespace


def component() -> Component:
    started = _Started()

    async def start(context: ComponentContext) -> None:
        clusters = context.clusters
        assert clusters is not None
        registry = StoreRegistry(clusters)
        started.registry = registry
        # A cluster that left, or came back with another client, starts its stores afresh.
        clusters.listen(lambda name, _client: registry.forget(name))
        started.pipeline = context.pipeline
        context.pipeline.filtering.append(_filtered)

    async def run(context: ComponentContext) -> None:
        assert started.registry is not None, "run after start"
        await started.registry.run()

    async def stop() -> None:
        if started.registry is not None:
            started.registry.stop()

    return Component(
        name="resources",
        description="Lists of any kind, CRDs included, served from in-memory caches: "
        "filtered by name, labels and fields, sorted and paged.",
        routers=(resources_router(started.current, visible=started.visible, hooks=started.hooks),),
        start=start,
        run=run,
        stop=stop,
        ready=lambda: True,  # stores start on first use; a request waits for its own
        cache_sizes=started.sizes,
    )
