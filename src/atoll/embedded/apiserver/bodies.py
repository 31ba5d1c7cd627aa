"""Reading request bodies: the 3 MiB limit, content types, JSON and YAML decoding.

kube-apiserver refuses bodies over 3 MiB with 413 before decoding them; we stop reading at
the limit so an oversize upload costs no more than the limit. Malformed documents are a
400 with the decoder's message, never a 500.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
import yaml
from starlette.requests import Request

from atoll.errors import BadRequest, RequestEntityTooLarge, UnsupportedMediaType

__all__ = [
    "APPLY_PATCH",
    "JSON_PATCH",
    "MAX_BODY",
    "MERGE_PATCH",
    "STRATEGIC_PATCH",
    "decode_document",
    "media_type",
    "read_body",
]

MAX_BODY = 3 * 1024 * 1024
JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"
_YAML = frozenset({"application/yaml", "application/x-yaml", "text/yaml", APPLY_PATCH})
_JSON = frozenset({"", "application/json", "*/*", JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH})


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


async def read_body(request: Request, limit: int = MAX_BODY) -> bytes:
    declared = request.headers.get("content-length")
    too_large = RequestEntityTooLarge(f"Request entity too large: limit is {limit}")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def _duplicates_refused(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            raise BadRequest(f'strict decoding error: duplicate field "{key}"')
        seen.add(key)
    return dict(pairs)


def decode_document(body: bytes, mime: str, *, strict: bool = False) -> Any:
    """Decode a JSON or YAML body; the error messages follow kube's decoders.

    ``strict`` (``fieldValidation=Strict``) also refuses duplicate fields in JSON, which
    the fast decoder would silently collapse.
    """
    if mime in _YAML:
        try:
            document = yaml.safe_load(body.decode("utf-8")) if body.strip() else None
        except (yaml.YAMLError, UnicodeDecodeError, RecursionError) as exc:
            raise BadRequest(f"error converting YAML to JSON: {_first_line(exc)}") from None
        _check_yaml_expansion(document)
        return document
    if mime not in _JSON:
        raise UnsupportedMediaType(
            "the body of the request was in an unknown format - accepted media types include: "
            "application/json, application/yaml"
        )
    if not body.strip():
        raise BadRequest(
            "couldn't get version/kind; json parse error: unexpected end of JSON input"
        )
    try:
        document = orjson.loads(body)
        if strict and isinstance(document, dict):
            json.loads(body, object_pairs_hook=_duplicates_refused)
        return document
    except (orjson.JSONDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(f"couldn't get version/kind; json parse error: {exc}") from None


_MAX_YAML_NODES = 1_000_000
_MAX_YAML_DEPTH = 10_000


def _check_yaml_expansion(document: Any) -> None:
    """Refuse alias bombs and self-referencing anchors (CVE-2019-11253's class of attack):
    a few hundred bytes of YAML must not become gigabytes of JSON, or a cycle."""
    budget = _MAX_YAML_NODES
    stack: list[tuple[Any, frozenset[int]]] = [(document, frozenset())]
    while stack:
        node, path = stack.pop()
        budget -= 1
        if budget < 0:
            raise BadRequest(
                "error converting YAML to JSON: yaml: document contains excessive aliasing"
            )
        if isinstance(node, dict | list):
            if id(node) in path:
                raise BadRequest(
                    "error converting YAML to JSON: yaml: anchor value contains itself"
                )
            if len(path) > _MAX_YAML_DEPTH:
                raise BadRequest("error converting YAML to JSON: yaml: exceeded max depth")
            inner = path | {id(node)}
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, inner) for child in children)


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
