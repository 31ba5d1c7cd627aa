"""Kubernetes ``Status`` bodies to Atoll's error tree, for every client of an API server.

Each failed response becomes the ``atoll.errors`` class of its reason (or, failing that,
its HTTP code), keeping message, details and causes, so callers catch errors by type.
A reason the tree does not know gets a cached subclass of the nearest class that carries
the exact reason and code.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import orjson

from atoll import errors
from atoll.errors import ApiError, BadRequest, Cause, InternalError, ServiceUnavailable

__all__ = ["error_from_response", "error_from_status", "int_or_none"]

# Every class of the tree, found rather than listed, so a reason added there is known here.
_KNOWN = [
    cls
    for cls in vars(errors).values()
    if isinstance(cls, type) and issubclass(cls, ApiError) and cls is not ApiError
]
_BY_REASON = {cls.reason: cls for cls in _KNOWN}
_BY_CODE = {cls.code: cls for cls in _KNOWN if cls is not errors.AlreadyExists}  # 409: Conflict


@functools.cache
def _error_class(reason: str, code: int) -> type[ApiError]:
    """The class for (reason, code); unknown pairs get a cached subclass that carries both."""
    base = _BY_REASON.get(reason) or _BY_CODE.get(code)
    if base is None:
        if code in (502, 504):
            base = ServiceUnavailable
        else:
            base = InternalError if code >= 500 or code < 400 else BadRequest
    reason = reason or base.reason
    if (base.reason, base.code) == (reason, code):
        return base
    attrs = {"reason": reason, "code": code, "__module__": __name__}
    made: type[ApiError] = type(reason, (base,), attrs)
    return made


def error_from_status(
    status: Mapping[str, Any], *, code: int = 500, retry_after: str | None = None
) -> ApiError:
    """The error a ``Status`` object describes (``code`` when the Status has none)."""
    code = int_or_none(status.get("code")) or code
    details = status.get("details")
    details = details if isinstance(details, Mapping) else {}
    causes = [
        Cause(str(c.get("reason", "")), str(c.get("message", "")), str(c.get("field", "")))
        for c in details.get("causes") or ()
        if isinstance(c, Mapping)
    ]
    retry = int_or_none(details.get("retryAfterSeconds"))
    if retry is None and retry_after is not None:
        retry = int_or_none(retry_after.strip())
    reason = str(status.get("reason") or "")
    cls = _error_class(reason, code)
    return cls(
        str(status.get("message") or f"the server responded with {code} {cls.reason}"),
        name=str(details.get("name") or ""),
        group=str(details.get("group") or ""),
        kind=str(details.get("kind") or ""),
        uid=str(details.get("uid") or ""),
        causes=causes,
        retry_after=retry,
    )


def error_from_response(code: int, body: bytes, *, retry_after: str | None = None) -> ApiError:
    """The error of a failed HTTP response, whether or not its body is a ``Status``."""
    try:
        doc = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        doc = None
    if isinstance(doc, Mapping) and doc.get("kind") == "Status":
        return error_from_status(doc, code=code, retry_after=retry_after)
    text = body.decode("utf-8", "replace").strip()[:500]
    status = {"code": code, "message": text or f"the server responded with {code}"}
    return error_from_status(status, code=code, retry_after=retry_after)


def int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None
