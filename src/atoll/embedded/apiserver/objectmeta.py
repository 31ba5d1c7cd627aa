"""Server-side handling of ObjectMeta: what the API server sets, keeps and refuses.

On create the server names (``generateName``), stamps ``uid`` and ``creationTimestamp``, and
clears what a client may not choose (deletion fields, ``selfLink``). On update it carries
the immutable fields over from the stored object. Time is injected as a string so tests can
fix it.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

from atoll.errors import BadRequest

__all__ = [
    "carry_over",
    "generate_name",
    "now_rfc3339",
    "now_rfc3339_micro",
    "stamp_new",
]

# kube's utilrand alphabet: no vowels (no words), no confusable 0/1/3.
_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_MAX_GENERATED_PREFIX = 58  # 63 minus the 5 random characters


def now_rfc3339() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_rfc3339_micro() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def generate_name(prefix: str) -> str:
    suffix = "".join(secrets.choice(_ALPHABET) for _ in range(5))
    return prefix[:_MAX_GENERATED_PREFIX] + suffix


def stamp_new(obj: dict[str, Any], *, now: str, track_generation: bool) -> None:
    """Fill the server-owned metadata of an object being created."""
    meta = obj.setdefault("metadata", {})
    if meta.get("resourceVersion"):
        raise BadRequest("resourceVersion should not be set on objects to be created")
    if not meta.get("name") and meta.get("generateName"):
        meta["name"] = generate_name(meta["generateName"])
    meta["uid"] = str(uuid.uuid4())
    meta["creationTimestamp"] = now
    for key in ("deletionTimestamp", "deletionGracePeriodSeconds", "selfLink", "resourceVersion"):
        meta.pop(key, None)
    if track_generation:
        meta["generation"] = 1
    else:
        meta.pop("generation", None)
    if meta.get("finalizers") == []:
        del meta["finalizers"]


def carry_over(new: dict[str, Any], old: dict[str, Any]) -> None:
    """Keep the fields of ``old`` that no update may change."""
    meta = new.setdefault("metadata", {})
    old_meta = old["metadata"]
    for key in ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds"):
        if key in old_meta:
            meta[key] = old_meta[key]
        else:
            meta.pop(key, None)
    if "generation" in old_meta:
        meta["generation"] = old_meta["generation"]
    meta.pop("selfLink", None)
    if meta.get("finalizers") == []:
        del meta["finalizers"]
