"""A Deployment's ReplicaSets as revisions: template hash, new and old sets, revision numbers.

Everything here is pure (dicts in, dicts or numbers out), ported from upstream's
``deployment/util``:

- ``template_hash``: the ``pod-template-hash`` label and ReplicaSet name suffix. Upstream
  hashes the Go struct with FNV-32a and renders the decimal sum with ``SafeEncodeString``;
  here FNV-32a runs over the canonical JSON of the template (empty values dropped, keys
  sorted), then ``collisionCount`` as upstream appends it (4 little-endian bytes in an
  8-byte buffer), then the same rendering. The names have upstream's shape and alphabet;
  they are not byte-identical to a real cluster's, which nothing depends on.
- ``equal_ignore_hash``: two templates are the same revision when they are semantically equal
  apart from the hash label (upstream ``EqualIgnoreHash``; empty and absent count as equal).
  The new ReplicaSet is the oldest whose template equals the Deployment's, which is how a
  rollback (``kubectl rollout undo`` patches an old template back in) reuses an old set.
- revision annotations: the new set's revision becomes max(old revisions) + 1; a reused set
  remembers its former numbers in ``deployment.kubernetes.io/revision-history``; the
  Deployment's annotations (``kubernetes.io/change-cause`` among them) are copied onto it,
  which is what ``kubectl rollout history`` shows.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from atoll.kube.client import Object
from atoll.kube.selectors import parse_int64

from .replicasets_pods import parse_time

__all__ = [
    "DESIRED_REPLICAS",
    "HASH_LABEL",
    "MAX_REPLICAS",
    "REVISION",
    "REVISION_HISTORY",
    "by_creation",
    "desired_replicas_annotation",
    "equal_ignore_hash",
    "find_new_replica_set",
    "find_old_replica_sets",
    "last_revision",
    "max_revision",
    "new_replica_set",
    "replicas_annotations_need_update",
    "revision",
    "safe_encode",
    "set_new_replica_set_annotations",
    "set_replicas_annotations",
    "template_hash",
]

HASH_LABEL = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
ROLLBACK_TO = "deprecated.deployment.rollback.to"
MAX_REVISION_HISTORY_CHARS = 2000  # upstream maxRevHistoryLengthInChars
# Deployment annotations that are not copied onto its ReplicaSets (upstream annotationsToSkip).
_NOT_COPIED = frozenset(
    {LAST_APPLIED, REVISION, REVISION_HISTORY, DESIRED_REPLICAS, MAX_REPLICAS, ROLLBACK_TO}
)
_ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789"  # upstream rand's alphabet: no vowels, no 0/1/3
_FNV_OFFSET, _FNV_PRIME = 2166136261, 16777619


def _fnv32a(data: bytes, start: int = _FNV_OFFSET) -> int:
    value = start
    for byte in data:
        value = ((value ^ byte) * _FNV_PRIME) & 0xFFFFFFFF
    return value


def safe_encode(text: str) -> str:
    """Upstream ``SafeEncodeString``: each character mapped into the safe alphabet."""
    return "".join(_ALPHANUMS[ord(char) % len(_ALPHANUMS)] for char in text)


def _normalized(value: Any) -> Any:
    """Drop None, {} and [] at any depth: Go's semantic equality does not tell them apart."""
    if isinstance(value, dict):
        items = ((k, _normalized(v)) for k, v in value.items())
        return {k: v for k, v in items if v is not None and v != {} and v != []}
    if isinstance(value, list):
        return [_normalized(v) for v in value]
    return value


def template_hash(template: Mapping[str, Any], collision_count: int | None) -> str:
    """The ``pod-template-hash`` of a pod template (see the module docstring)."""
    canonical = orjson.dumps(_normalized(dict(template)), option=orjson.OPT_SORT_KEYS)
    value = _fnv32a(canonical)
    if collision_count is not None:
        value = _fnv32a((collision_count & 0xFFFFFFFF).to_bytes(4, "little") + bytes(4), value)
    return safe_encode(str(value))


def _without_hash(template: Mapping[str, Any]) -> Any:
    """The normalized template minus the hash label (``_normalized`` builds new dicts)."""
    normalized = _normalized(dict(template))
    labels = (normalized.get("metadata") or {}).get("labels")
    if isinstance(labels, dict) and HASH_LABEL in labels:
        del labels[HASH_LABEL]
        if not labels:
            del normalized["metadata"]["labels"]
            if not normalized["metadata"]:
                del normalized["metadata"]
    return normalized


def equal_ignore_hash(first: Mapping[str, Any], second: Mapping[str, Any]) -> bool:
    return bool(_without_hash(first) == _without_hash(second))


def _meta(obj: Mapping[str, Any]) -> dict[str, Any]:
    meta: dict[str, Any] = obj.get("metadata") or {}
    return meta


def _template(obj: Mapping[str, Any]) -> dict[str, Any]:
    template: dict[str, Any] = (obj.get("spec") or {}).get("template") or {}
    return template


def by_creation(replica_sets: Iterable[Object]) -> list[Object]:
    """Oldest first, ties by name (upstream ``ReplicaSetsByCreationTimestamp``)."""

    def key(rs: Object) -> tuple[float, str]:
        created = parse_time(_meta(rs).get("creationTimestamp"))
        return (created.timestamp() if created else 0.0, str(_meta(rs).get("name")))

    return sorted(replica_sets, key=key)


def find_new_replica_set(deployment: Object, replica_sets: list[Object]) -> Object | None:
    """The oldest ReplicaSet whose template is the Deployment's (hash label aside)."""
    wanted = _template(deployment)
    for rs in by_creation(replica_sets):
        if equal_ignore_hash(_template(rs), wanted):
            return rs
    return None


def find_old_replica_sets(
    replica_sets: list[Object], new_rs: Object | None
) -> tuple[list[Object], list[Object]]:
    """(old sets with replicas, all old sets): every set that is not the new one."""
    new_uid = _meta(new_rs).get("uid") if new_rs is not None else None
    old = [rs for rs in replica_sets if new_uid is None or _meta(rs).get("uid") != new_uid]
    return [rs for rs in old if _spec_replicas(rs) != 0], old


def _spec_replicas(obj: Mapping[str, Any]) -> int:
    value = (obj.get("spec") or {}).get("replicas")
    return 1 if value is None else int(value)


def revision(obj: Mapping[str, Any]) -> int | None:
    """The revision annotation as a number; 0 when absent, None when not a number."""
    text = (_meta(obj).get("annotations") or {}).get(REVISION)
    if text is None:
        return 0
    return parse_int64(str(text))


def max_revision(replica_sets: Iterable[Object]) -> int:
    return max((r for rs in replica_sets if (r := revision(rs)) is not None), default=0)


def last_revision(replica_sets: Iterable[Object]) -> int:
    """The second highest revision: where ``rollout undo`` without a number goes."""
    numbers = sorted((r for rs in replica_sets if (r := revision(rs)) is not None), reverse=True)
    return numbers[1] if len(numbers) > 1 else 0


def _annotations(obj: Object) -> dict[str, str]:
    meta = obj.setdefault("metadata", {})
    if meta.get("annotations") is None:
        meta["annotations"] = {}
    annotations: dict[str, str] = meta["annotations"]
    return annotations


def _copy_deployment_annotations(deployment: Mapping[str, Any], rs: Object) -> bool:
    annotations, changed = _annotations(rs), False
    for key, value in (_meta(deployment).get("annotations") or {}).items():
        if key in _NOT_COPIED or annotations.get(key) == value:
            continue
        annotations[key] = value
        changed = True
    return changed


def _append_history(annotations: dict[str, str], old_revision: str) -> None:
    history = annotations.get(REVISION_HISTORY, "")
    if not history:
        annotations[REVISION_HISTORY] = old_revision
        return
    kept = history.split(",")
    total = len(history) + len(old_revision) + 1
    while total > MAX_REVISION_HISTORY_CHARS and kept:
        total -= len(kept.pop(0)) + 1
    if total <= MAX_REVISION_HISTORY_CHARS:
        annotations[REVISION_HISTORY] = ",".join([*kept, old_revision])


def set_new_replica_set_annotations(
    deployment: Mapping[str, Any], rs: Object, *, new_revision: int, exists: bool, max_surge: int
) -> bool:
    """Bring the new set's annotations up to date in place; True if any changed.

    Upstream ``SetNewReplicaSetAnnotations``: copy the Deployment's annotations, raise the
    revision to ``new_revision`` (never lower it), remember the number it had before, and
    give a set about to be created its replicas annotations.
    """
    changed = _copy_deployment_annotations(deployment, rs)
    annotations = _annotations(rs)
    old_text = annotations.get(REVISION)
    old_number = parse_int64(old_text) if old_text else 0
    if old_number is None:
        return False  # not a number: leave it alone, as upstream does
    if old_number < new_revision:
        annotations[REVISION] = str(new_revision)
        changed = True
        if old_text is not None:
            _append_history(annotations, old_text)
    if not exists:
        replicas = _spec_replicas(deployment)
        changed = set_replicas_annotations(rs, replicas, replicas + max_surge) or changed
    return changed


def set_replicas_annotations(rs: Object, desired: int, maximum: int) -> bool:
    annotations, changed = _annotations(rs), False
    for key, value in ((DESIRED_REPLICAS, str(desired)), (MAX_REPLICAS, str(maximum))):
        if annotations.get(key) != value:
            annotations[key] = value
            changed = True
    return changed


def replicas_annotations_need_update(rs: Mapping[str, Any], desired: int, maximum: int) -> bool:
    annotations = _meta(rs).get("annotations") or {}
    return bool(
        annotations.get(DESIRED_REPLICAS) != str(desired)
        or annotations.get(MAX_REPLICAS) != str(maximum)
    )


def _int_annotation(rs: Mapping[str, Any], key: str) -> int | None:
    text = (_meta(rs).get("annotations") or {}).get(key)
    return parse_int64(str(text)) if text is not None else None


def desired_replicas_annotation(rs: Mapping[str, Any]) -> int | None:
    return _int_annotation(rs, DESIRED_REPLICAS)


def max_replicas_annotation(rs: Mapping[str, Any]) -> int | None:
    return _int_annotation(rs, MAX_REPLICAS)


def new_replica_set(
    deployment: Mapping[str, Any], *, pod_template_hash: str, replicas: int
) -> Object:
    """The ReplicaSet for the Deployment's current template (annotations set by the caller)."""
    meta = _meta(deployment)
    spec = deployment.get("spec") or {}
    template = copy.deepcopy(_template(deployment))
    template_meta = template.setdefault("metadata", {})
    labels = {**(template_meta.get("labels") or {}), HASH_LABEL: pod_template_hash}
    template_meta["labels"] = labels
    selector = copy.deepcopy(spec.get("selector") or {})
    selector["matchLabels"] = {**(selector.get("matchLabels") or {}), HASH_LABEL: pod_template_hash}
    owner = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": meta.get("name"),
        "uid": meta.get("uid"),
        "controller": True,
        "blockOwnerDeletion": True,
    }
    rs_spec: dict[str, Any] = {"replicas": replicas, "selector": selector, "template": template}
    if spec.get("minReadySeconds"):
        rs_spec["minReadySeconds"] = spec["minReadySeconds"]
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": f"{meta.get('name')}-{pod_template_hash}",
            "namespace": meta.get("namespace"),
            "labels": dict(labels),
            "ownerReferences": [owner],
        },
        "spec": rs_spec,
    }
