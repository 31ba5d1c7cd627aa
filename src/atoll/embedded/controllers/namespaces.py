"""The namespace controller: empties a Terminating namespace, then releases its finalizer.

``kubectl delete namespace x`` only marks the namespace (deletionTimestamp, phase
Terminating); the ``kubernetes`` entry of ``spec.finalizers`` keeps it until this controller,
as kube-controller-manager's, has deleted everything in it — every namespaced resource the
server serves, custom resources included — and seen it gone. Then it PUTs
``namespaces/{n}/finalize`` without ``kubernetes`` and the API server removes the namespace.

Each pass re-reads discovery (a CRD may have appeared), deletes with ``deletecollection``
where discovery allows it and one by one elsewhere, lists again, and writes the namespace
conditions kube 1.20 writes (``NamespaceContentRemaining``: "Some resources are remaining:
configmaps. has 1 resource instances", …) so ``kubectl describe ns`` explains a namespace
stuck on a finalizer. As in kube, a namespace is first looked at five seconds after its
deletion; while content remains it is looked at again after a short back-off (kube waits
15 s, but here finalizers are run by in-process controllers and finish in milliseconds).

``discover_served`` (discovery with verbs, preferred version per group) is shared with the
garbage collector, which must know what it can list, watch and delete.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from atoll.controllers.results import Result
from atoll.controllers.runtime import Controller, ControllerContext
from atoll.errors import ApiError, Conflict, NotFound
from atoll.kube.client import KubeClient, Object, ResourceType
from atoll.kube.informers import Informer, key_of
from atoll.kube.watching import list_objects

from . import ControllerOptions

__all__ = [
    "CONTROLLERS",
    "NAMESPACES",
    "Discovery",
    "NamespaceController",
    "ServedResource",
    "discover_served",
]

logger = logging.getLogger(__name__)

NAMESPACES = ResourceType("", "v1", "namespaces", "Namespace", False)
FINALIZER = "kubernetes"
# kube's namespaceDeletionGracePeriod: last-moment creations land before the sweep, and
# `kubectl delete ns x --wait=false; kubectl wait --for=delete ns/x` (test/cmd) finds x still
# there — kubectl 1.20's wait fails on an object that is already gone.
DELETION_GRACE_SECONDS = 5.0
_FIRST_RETRY = 0.1  # seconds; doubles while content remains ...
_LAST_RETRY = 5.0  # ... up to this


# -- discovery with verbs ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ServedResource:
    """A top-level resource the server serves, with the verbs discovery lists for it."""

    type: ResourceType
    verbs: frozenset[str]

    def allows(self, *verbs: str) -> bool:
        return all(verb in self.verbs for verb in verbs)


@dataclass(frozen=True, slots=True)
class Discovery:
    """What discovery found, and the group versions it could not read (``group/v: why``)."""

    resources: tuple[ServedResource, ...]
    failures: tuple[str, ...] = ()


async def discover_served(client: KubeClient) -> Discovery:
    """Every resource once per group, from its preferred version when that serves it.

    client-go's ``ServerPreferredResources``: a resource only an older version of a group
    serves is still listed, from that version.
    """
    group_versions: list[tuple[str, str]] = [
        ("", str(v)) for v in (await client.request("GET", "/api")).get("versions") or []
    ]
    for group in (await client.request("GET", "/apis")).get("groups") or []:
        preferred = (group.get("preferredVersion") or {}).get("version")
        versions = [str(v["version"]) for v in group.get("versions") or [] if v.get("version")]
        versions.sort(key=lambda v: v != preferred)  # stable: preferred first
        group_versions += [(str(group["name"]), v) for v in versions]
    answers = await asyncio.gather(
        *(client.request("GET", _group_version_path(g, v)) for g, v in group_versions),
        return_exceptions=True,
    )
    seen: set[tuple[str, str]] = set()
    resources: list[ServedResource] = []
    failures: list[str] = []
    for (group, version), answer in zip(group_versions, answers, strict=True):
        if isinstance(answer, ApiError):
            failures.append(f"{group or 'core'}/{version}: {answer.message}")
            continue
        if isinstance(answer, BaseException):
            raise answer
        for served in _resources_of(group, version, answer):
            if (group, served.type.plural) not in seen:
                seen.add((group, served.type.plural))
                resources.append(served)
    return Discovery(tuple(resources), tuple(failures))


def _group_version_path(group: str, version: str) -> str:
    return f"/apis/{group}/{version}" if group else f"/api/{version}"


def _resources_of(group: str, version: str, answer: Any) -> Iterable[ServedResource]:
    for r in (answer.get("resources") if isinstance(answer, dict) else None) or []:
        name = str(r.get("name") or "/")
        if "/" in name:  # a subresource
            continue
        rt = ResourceType(group, version, name, str(r.get("kind")), bool(r.get("namespaced")))
        yield ServedResource(rt, frozenset(str(v) for v in r.get("verbs") or ()))


def qualified(rt: ResourceType) -> str:
    """``configmaps.`` / ``deployments.apps``: how kube's namespace conditions name a resource."""
    return f"{rt.plural}.{rt.group}"


# -- one sweep of a namespace's content -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Swept:
    """What is left of one resource in the namespace after a delete pass."""

    resource: str
    remaining: int = 0
    finalizers: Counter[str] = field(default_factory=Counter)
    error: str | None = None


@dataclass(frozen=True, slots=True)
class _Sweep:
    discovery_failures: tuple[str, ...]
    swept: tuple[_Swept, ...]

    @property
    def errors(self) -> list[str]:
        return [s.error for s in self.swept if s.error]

    @property
    def remaining(self) -> dict[str, int]:
        return {s.resource: s.remaining for s in self.swept if s.remaining}

    @property
    def finalizers(self) -> Counter[str]:
        return sum((s.finalizers for s in self.swept), Counter())

    @property
    def clean(self) -> bool:
        return not (self.discovery_failures or self.errors or self.remaining)


async def sweep_namespace(client: KubeClient, namespace: str) -> _Sweep:
    """Delete everything in ``namespace`` once; report what remains."""
    discovery = await discover_served(client)
    deletable = [r for r in discovery.resources if r.type.namespaced and r.allows("delete", "list")]
    swept = await asyncio.gather(*(_sweep_resource(client, r, namespace) for r in deletable))
    return _Sweep(discovery.failures, tuple(swept))


async def _sweep_resource(client: KubeClient, served: ServedResource, namespace: str) -> _Swept:
    rt, name = served.type, qualified(served.type)
    try:
        items = (await list_objects(client, rt, namespace=namespace)).objects
        if not items:
            return _Swept(name)
        if served.allows("deletecollection"):
            await client.delete_collection(rt, namespace=namespace, propagation_policy="Background")
        else:
            await _delete_each(client, rt, items)
        items = (await list_objects(client, rt, namespace=namespace)).objects
    except ApiError as exc:
        return _Swept(name, error=f"{name}: {exc.message}")
    finalizers = Counter(f for item in items for f in _meta(item).get("finalizers") or ())
    return _Swept(name, remaining=len(items), finalizers=finalizers)


async def _delete_each(client: KubeClient, rt: ResourceType, items: Sequence[Object]) -> None:
    for item in items:
        meta = _meta(item)
        if meta.get("deletionTimestamp"):
            continue
        try:
            await client.delete(
                rt,
                str(meta["name"]),
                namespace=str(meta.get("namespace") or ""),
                propagation_policy="Background",
                preconditions={"uid": str(meta.get("uid"))},
            )
        except (NotFound, Conflict):
            continue  # gone already, or replaced by a newer object the next pass deletes


def _meta(obj: Mapping[str, Any]) -> dict[str, Any]:
    meta: dict[str, Any] = obj.get("metadata") or {}
    return meta


# -- conditions -------------------------------------------------------------------------------

# (type, reason when True, reason when False, message when False), in kube 1.20's order.
_CONDITIONS = (
    (
        "NamespaceDeletionDiscoveryFailure",
        "DiscoveryFailed",
        "ResourcesDiscovered",
        "All resources successfully discovered",
    ),
    (
        "NamespaceDeletionGroupVersionParsingFailure",
        "GroupVersionParsingFailed",
        "ParsedGroupVersions",
        "All legacy kube types successfully parsed",
    ),
    (
        "NamespaceDeletionContentFailure",
        "ContentDeletionFailed",
        "ContentDeleted",
        "All content successfully deleted, may be waiting on finalization",
    ),
    (
        "NamespaceContentRemaining",
        "SomeResourcesRemain",
        "ContentRemoved",
        ("All content successfully removed"),
    ),
    (
        "NamespaceFinalizersRemaining",
        "SomeFinalizersRemain",
        "ContentHasNoFinalizers",
        "All content-preserving finalizers finished",
    ),
)


def _problems(sweep: _Sweep) -> dict[str, str]:
    """The message of each condition that is True (something is wrong or pending)."""
    problems: dict[str, str] = {}
    if sweep.discovery_failures:
        failures = sweep.discovery_failures
        problems["NamespaceDeletionDiscoveryFailure"] = (
            f"Discovery failed for some groups, {len(failures)} failing: {', '.join(failures)}"
        )
    if sweep.errors:
        problems["NamespaceDeletionContentFailure"] = (
            f"Failed to delete all resource types, {len(sweep.errors)} remaining: "
            f"{', '.join(sweep.errors)}"
        )
    if sweep.remaining:
        remaining = ", ".join(
            f"{name} has {count} resource instances"
            for name, count in sorted(sweep.remaining.items())
        )
        problems["NamespaceContentRemaining"] = f"Some resources are remaining: {remaining}"
    if sweep.finalizers:
        finalizers = ", ".join(
            f"{name} in {count} resource instances"
            for name, count in sorted(sweep.finalizers.items())
        )
        problems["NamespaceFinalizersRemaining"] = (
            f"Some content in the namespace has finalizers remaining: {finalizers}"
        )
    return problems


def namespace_conditions(
    old: Sequence[Mapping[str, Any]], sweep: _Sweep, now: str
) -> list[dict[str, Any]]:
    """All five deletion conditions; a transition time moves only when the status flips."""
    by_type = {c.get("type"): c for c in old}
    problems = _problems(sweep)
    conditions = []
    for kind, bad_reason, ok_reason, ok_message in _CONDITIONS:
        status = "True" if kind in problems else "False"
        previous = by_type.get(kind) or {}
        since = previous.get("lastTransitionTime") if previous.get("status") == status else None
        conditions.append(
            {
                "type": kind,
                "status": status,
                "lastTransitionTime": since or now,
                "reason": bad_reason if kind in problems else ok_reason,
                "message": problems.get(kind, ok_message),
            }
        )
    ours = {kind for kind, *_ in _CONDITIONS}
    others = [dict(c) for c in old if c.get("type") not in ours]
    return others + conditions


# -- the controller ---------------------------------------------------------------------------


class NamespaceController:
    """Deletes the content of Terminating namespaces, then finalizes them."""

    name = "namespace"

    def __init__(self, options: ControllerOptions) -> None:
        self._options = options
        self._attempts: dict[str, int] = {}

    async def setup(self, ctx: ControllerContext) -> None:
        self._ctx = ctx
        self._namespaces: Informer = ctx.informers.informer(NAMESPACES)
        self._namespaces.add_handler(
            on_add=self._enqueue_deleting,
            on_update=lambda _old, new: self._enqueue_deleting(new),
        )

    def _enqueue_deleting(self, namespace: Object) -> None:
        if _meta(namespace).get("deletionTimestamp"):
            self._ctx.queue.add_after(key_of(namespace), DELETION_GRACE_SECONDS)

    async def reconcile(self, key: str) -> Result:
        namespace = self._namespaces.get(key)
        meta = _meta(namespace or {})
        if namespace is None or not meta.get("deletionTimestamp"):
            self._attempts.pop(key, None)
            return Result()
        if FINALIZER not in ((namespace.get("spec") or {}).get("finalizers") or ()):
            self._attempts.pop(key, None)
            return Result()  # finalized by us already; other finalizers hold it
        sweep = await sweep_namespace(self._ctx.client, key)
        await self._write_conditions(namespace, sweep)
        if not sweep.clean:
            return Result(requeue_after=self._next_retry(key))
        await self._finalize(key, str(meta.get("uid")))
        self._attempts.pop(key, None)
        return Result()

    def _next_retry(self, key: str) -> float:
        attempt = self._attempts.get(key, 0)
        self._attempts[key] = attempt + 1
        return min(_FIRST_RETRY * 2.0**attempt, _LAST_RETRY)

    async def _write_conditions(self, namespace: Object, sweep: _Sweep) -> None:
        status = namespace.get("status") or {}
        now = self._ctx.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
        conditions = namespace_conditions(status.get("conditions") or [], sweep, now)
        if _same_conditions(conditions, status.get("conditions") or []):
            return
        updated = copy.deepcopy(namespace)
        updated["status"] = {**status, "phase": "Terminating", "conditions": conditions}
        try:
            await self._ctx.client.replace_status(NAMESPACES, updated)
        except (NotFound, Conflict) as exc:  # the next pass writes them from fresher state
            logger.debug("namespace %s: conditions not written: %s", _meta(namespace)["name"], exc)

    async def _finalize(self, name: str, uid: str) -> None:
        """PUT ``finalize`` without our finalizer, on the namespace we emptied (same uid)."""
        try:
            live = await self._ctx.client.get(NAMESPACES, name)
        except NotFound:
            return
        spec = live.setdefault("spec", {})
        if _meta(live).get("uid") != uid or FINALIZER not in (spec.get("finalizers") or ()):
            return
        spec["finalizers"] = [f for f in spec.get("finalizers") or () if f != FINALIZER]
        path = NAMESPACES.path(name=name, subresource="finalize")
        try:
            await self._ctx.client.request("PUT", path, body=live)
        except NotFound:
            return
        logger.info("namespace %s: content deleted, finalized", name)


def _same_conditions(new: Sequence[Mapping[str, Any]], old: Sequence[Mapping[str, Any]]) -> bool:
    def essence(conditions: Sequence[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
        return [
            (c.get("type"), c.get("status"), c.get("reason"), c.get("message")) for c in conditions
        ]

    return essence(new) == essence(old)


def _namespace_controller(options: ControllerOptions) -> Controller:
    return NamespaceController(options)


CONTROLLERS = [_namespace_controller]
