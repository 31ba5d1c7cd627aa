"""Typed request options (query parameters and bodies) of the embedded API server.

Parsing lives here so that the generic store works with plain values and the HTTP layer
stays thin. Every malformed value becomes a ``BadRequest`` naming the parameter.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from atoll.errors import BadRequest, Expired, FieldError, Invalid
from atoll.kube.selectors import FieldSelector, LabelSelector

__all__ = [
    "DeleteOptions",
    "ListOptions",
    "WriteOptions",
    "decode_continue",
    "encode_continue",
    "parse_bool",
    "parse_int",
]


def parse_bool(params: Mapping[str, str], name: str) -> bool:
    value = params.get(name, "")
    if value in ("", "false", "0", "False"):
        return False
    if value in ("true", "1", "True"):
        return True
    raise BadRequest(f"invalid value for {name}: {value!r}")


def parse_int(params: Mapping[str, str], name: str, default: int | None = None) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise BadRequest(f"invalid value for {name}: {value!r}: must be an integer") from None


_OPTIONS_KIND = {"POST": "CreateOptions", "PUT": "UpdateOptions", "PATCH": "PatchOptions"}


@dataclass(frozen=True, slots=True)
class WriteOptions:
    dry_run: bool = False
    field_manager: str = ""
    field_validation: str = "Ignore"  # Ignore, Warn or Strict
    force: bool = False
    applying: bool = False  # a server-side apply: managed fields are already computed
    explicit_manager: bool = False  # fieldManager came from the request, not the User-Agent
    force_given: bool = False

    @classmethod
    def from_query(
        cls, params: Mapping[str, str], *, user_agent: str = "", method: str = "POST"
    ) -> WriteOptions:
        """Parse write options; invalid ones are 422 on Create/Update/PatchOptions, as kube's
        ValidateCreateOptions and friends answer."""
        errors: list[FieldError] = []
        dry_run = params.get("dryRun", "")
        if dry_run not in ("", "All"):
            errors.append(FieldError.not_supported("dryRun", dry_run, ["All"]))
        validation = params.get("fieldValidation", "") or "Ignore"
        if validation not in ("Ignore", "Warn", "Strict"):
            errors.append(
                FieldError.not_supported(
                    "fieldValidation", validation, ["Ignore", "Strict", "Warn"]
                )
            )
        manager = params.get("fieldManager", "")
        if len(manager) > 128:
            errors.append(FieldError.too_long("fieldManager", manager, 128))
        if errors:
            raise Invalid.of(_OPTIONS_KIND.get(method, "CreateOptions"), "meta.k8s.io", "", errors)
        return cls(
            dry_run=bool(dry_run),
            field_manager=manager or _manager_from_agent(user_agent),
            field_validation=validation,
            force=parse_bool(params, "force"),
            explicit_manager=bool(manager),
            force_given="force" in params,
        )


def _manager_from_agent(user_agent: str) -> str:
    """kube derives a default manager from the User-Agent's first token (``kubectl``)."""
    token = user_agent.split(" ", 1)[0].split("/", 1)[0]
    return token[:128] or "unknown"


@dataclass(frozen=True, slots=True)
class ListOptions:
    label_selector: LabelSelector | None = None
    field_selector: FieldSelector | None = None
    limit: int = 0
    continue_token: str = ""
    resource_version: str = ""

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> ListOptions:
        labels = params.get("labelSelector", "")
        fields = params.get("fieldSelector", "")
        limit = parse_int(params, "limit", 0) or 0
        if limit < 0:
            raise BadRequest("limit: Invalid value: must be non-negative")
        return cls(
            label_selector=LabelSelector.parse(labels) if labels else None,
            field_selector=FieldSelector.parse(fields) if fields else None,
            limit=limit,
            continue_token=params.get("continue", ""),
            resource_version=params.get("resourceVersion", ""),
        )


def encode_continue(*, rv: int, namespace: str, name: str) -> str:
    token = orjson.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": f"{namespace}/{name}"})
    return base64.urlsafe_b64encode(token).decode().rstrip("=")


def decode_continue(token: str, *, oldest_rv: int) -> tuple[int, tuple[str, str]]:
    """Return (list revision, (namespace, name) to continue after)."""
    try:
        padded = token + "=" * (-len(token) % 4)
        data = orjson.loads(base64.urlsafe_b64decode(padded))
        rv = int(data["rv"])
        namespace, _, name = str(data["start"]).partition("/")
    except (binascii.Error, ValueError, KeyError, TypeError, orjson.JSONDecodeError):
        raise BadRequest("continue key is not valid: invalid continue token") from None
    if rv < oldest_rv:
        raise Expired(
            "The provided continue parameter is too old to display a consistent list result. "
            "You can start a new list without the continue parameter."
        )
    return rv, (namespace, name)


@dataclass(frozen=True, slots=True)
class DeleteOptions:
    propagation: str | None = None
    grace_period: int | None = None
    uid: str | None = None
    resource_version: str | None = None
    dry_run: bool = False

    @classmethod
    def parse(cls, body: Mapping[str, Any] | None, params: Mapping[str, str]) -> DeleteOptions:
        body = dict(body or {})
        propagation = body.get("propagationPolicy") or params.get("propagationPolicy") or None
        orphan = body.get("orphanDependents")
        if orphan is None and "orphanDependents" in params:
            orphan = parse_bool(params, "orphanDependents")
        if propagation is None and orphan is not None:
            propagation = "Orphan" if orphan else "Background"
        if propagation not in (None, "Orphan", "Background", "Foreground"):
            raise BadRequest(
                f'propagationPolicy: Unsupported value: "{propagation}": supported values: '
                '"Foreground", "Background", "Orphan"'
            )
        grace = body.get("gracePeriodSeconds")
        if grace is None:
            grace = parse_int(params, "gracePeriodSeconds")
        if grace is not None and (not isinstance(grace, int) or grace < 0):
            raise BadRequest("gracePeriodSeconds: Invalid value: must be a non-negative integer")
        pre = body.get("preconditions") or {}
        dry = body.get("dryRun") or ([params["dryRun"]] if params.get("dryRun") else [])
        if not isinstance(pre, Mapping) or not isinstance(dry, list):
            raise BadRequest("invalid DeleteOptions")
        return cls(
            propagation=propagation,
            grace_period=grace,
            uid=pre.get("uid"),
            resource_version=pre.get("resourceVersion"),
            dry_run="All" in dry,
        )
