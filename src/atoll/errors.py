"""One error tree for all of Atoll, mirroring Kubernetes ``Status`` reasons.

Every layer raises these; one handler per HTTP surface renders them: a Kubernetes
``Status`` (byte-compatible with kube-apiserver's, see ``to_status``) on Kubernetes
paths, RFC 9457 problem+json on Atoll's own API. Nothing else reaches a user.

- ``ApiError`` (base: reason, code, message, details)
  - ``BadRequest`` 400
  - ``Unauthorized`` 401
  - ``Forbidden`` 403
  - ``NotFound`` 404
  - ``MethodNotAllowed`` 405
  - ``NotAcceptable`` 406
  - ``AlreadyExists`` 409
  - ``Conflict`` 409
  - ``Expired`` 410 (a resourceVersion or continue token older than the history window)
  - ``RequestEntityTooLarge`` 413
  - ``UnsupportedMediaType`` 415
  - ``Invalid`` 422 (carries field ``Cause`` s)
  - ``TooManyRequests`` 429
  - ``InternalError`` 500 (only for faults, never for bad input)
  - ``ServiceUnavailable`` 503
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

__all__ = [
    "AlreadyExists",
    "ApiError",
    "BadRequest",
    "Cause",
    "Conflict",
    "Expired",
    "FieldError",
    "Forbidden",
    "InternalError",
    "Invalid",
    "MethodNotAllowed",
    "NotAcceptable",
    "NotFound",
    "RequestEntityTooLarge",
    "ServiceUnavailable",
    "TooManyRequests",
    "Unauthorized",
    "UnsupportedMediaType",
    "qualified_resource",
]


@dataclass(frozen=True, slots=True)
class Cause:
    """One entry of ``details.causes``: ``reason`` is a CauseType such as FieldValueRequired."""

    reason: str
    message: str
    field: str = ""

    def to_dict(self) -> dict[str, str]:
        out = {"reason": self.reason, "message": self.message}
        if self.field:
            out["field"] = self.field
        return out


def _go_repr(value: Any) -> str:
    """Render a value the way Go's ``%#v``/``%q`` does in field.Error messages."""
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dict):
        inner = ", ".join(f"{_go_repr(k)}:{_go_repr(v)}" for k, v in value.items())
        return "map[string]string{" + inner + "}"
    if isinstance(value, list | tuple):
        return "[]string{" + ", ".join(_go_repr(v) for v in value) + "}"
    return str(value)


@dataclass(frozen=True, slots=True)
class FieldError:
    """A validation error on one field, with kube-apiserver's wording (field.Error)."""

    # Required, Invalid, NotSupported, Duplicate, Forbidden, TooLong, TooMany, TypeInvalid
    kind: str
    field: str
    value: Any = None
    detail: str = ""
    supported: Sequence[str] = ()

    _REASONS: ClassVar[dict[str, str]] = {
        "Required": "FieldValueRequired",
        "Invalid": "FieldValueInvalid",
        "NotSupported": "FieldValueNotSupported",
        "Duplicate": "FieldValueDuplicate",
        "Forbidden": "FieldValueForbidden",
        "TooLong": "FieldValueTooLong",
        "TooMany": "FieldValueTooMany",
        "TypeInvalid": "FieldValueTypeInvalid",
        "NotFound": "FieldValueNotFound",
    }

    @classmethod
    def required(cls, path: str, detail: str = "") -> FieldError:
        return cls("Required", path, detail=detail)

    @classmethod
    def invalid(cls, path: str, value: Any, detail: str = "") -> FieldError:
        return cls("Invalid", path, value, detail)

    @classmethod
    def not_supported(cls, path: str, value: Any, supported: Iterable[str]) -> FieldError:
        return cls("NotSupported", path, value, supported=tuple(supported))

    @classmethod
    def duplicate(cls, path: str, value: Any) -> FieldError:
        return cls("Duplicate", path, value)

    @classmethod
    def forbidden(cls, path: str, detail: str) -> FieldError:
        return cls("Forbidden", path, detail=detail)

    @classmethod
    def too_long(cls, path: str, value: Any, limit: int) -> FieldError:
        return cls("TooLong", path, value, f"must have at most {limit} bytes")

    @classmethod
    def type_invalid(cls, path: str, value: Any, detail: str) -> FieldError:
        return cls("TypeInvalid", path, value, detail)

    def body(self) -> str:
        """The text after ``field: `` (Go's ``ErrorBody``)."""
        match self.kind:
            case "Required":
                text = "Required value"
            case "Forbidden":
                text = "Forbidden"
            case "NotFound":
                text = f"Not found: {_go_repr(self.value)}"
            case "Duplicate":
                text = f"Duplicate value: {_go_repr(self.value)}"
            case "NotSupported":
                text = f"Unsupported value: {_go_repr(self.value)}"
                if self.supported:
                    quoted = ", ".join(_go_repr(s) for s in self.supported)
                    text += f": supported values: {quoted}"
            case "TooLong":
                text = "Too long"
            case "TooMany":
                text = "Too many"
            case "TypeInvalid":
                text = f"Invalid value: {_go_repr(self.value)}"
            case _:
                text = f"Invalid value: {_go_repr(self.value)}"
        if self.detail:
            text += f": {self.detail}"
        return text

    def __str__(self) -> str:
        return f"{self.field}: {self.body()}" if self.field else self.body()

    def to_cause(self) -> Cause:
        return Cause(self._REASONS.get(self.kind, "FieldValueInvalid"), self.body(), self.field)


def qualified_resource(resource: str, group: str) -> str:
    """``deployments.apps``; core resources are unqualified (``services``)."""
    return f"{resource}.{group}" if group else resource


class ApiError(Exception):
    """Base of the tree: a failure a client can be told about."""

    reason: ClassVar[str] = "Unknown"
    code: ClassVar[int] = 500

    def __init__(
        self,
        message: str,
        *,
        name: str = "",
        group: str = "",
        kind: str = "",
        uid: str = "",
        causes: Sequence[Cause] = (),
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.name = name
        self.group = group
        self.kind = kind
        self.uid = uid
        self.causes = tuple(causes)
        self.retry_after = retry_after

    def details(self) -> dict[str, Any] | None:
        details: dict[str, Any] = {}
        if self.name:
            details["name"] = self.name
        if self.group:
            details["group"] = self.group
        if self.kind:
            details["kind"] = self.kind
        if self.uid:
            details["uid"] = self.uid
        if self.causes:
            details["causes"] = [c.to_dict() for c in self.causes]
        if self.retry_after is not None:
            details["retryAfterSeconds"] = self.retry_after
        return details or None

    def to_status(self) -> dict[str, Any]:
        """A ``Status`` in kube-apiserver's field order (kind, apiVersion, metadata, status, …)."""
        status: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
        }
        details = self.details()
        if details is not None:
            status["details"] = details
        status["code"] = self.code
        return status

    def to_problem(self, instance: str = "") -> dict[str, Any]:
        """An RFC 9457 problem document for Atoll's own API."""
        problem: dict[str, Any] = {
            "type": f"https://atoll.io/problems/{self.reason}",
            "title": self.reason,
            "status": self.code,
            "detail": self.message,
        }
        if instance:
            problem["instance"] = instance
        if self.causes:
            problem["errors"] = [c.to_dict() for c in self.causes]
        return problem

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code} {self.reason}: {self.message!r})"


class BadRequest(ApiError):
    reason = "BadRequest"
    code = 400


class Unauthorized(ApiError):
    reason = "Unauthorized"
    code = 401


class Forbidden(ApiError):
    reason = "Forbidden"
    code = 403


class NotFound(ApiError):
    reason = "NotFound"
    code = 404

    @classmethod
    def of(cls, resource: str, group: str, name: str) -> NotFound:
        return cls(
            f'{qualified_resource(resource, group)} "{name}" not found',
            name=name,
            group=group,
            kind=resource,
        )


class MethodNotAllowed(ApiError):
    reason = "MethodNotAllowed"
    code = 405


class NotAcceptable(ApiError):
    reason = "NotAcceptable"
    code = 406


class AlreadyExists(ApiError):
    reason = "AlreadyExists"
    code = 409

    @classmethod
    def of(cls, resource: str, group: str, name: str) -> AlreadyExists:
        return cls(
            f'{qualified_resource(resource, group)} "{name}" already exists',
            name=name,
            group=group,
            kind=resource,
        )


class Conflict(ApiError):
    reason = "Conflict"
    code = 409

    @classmethod
    def modified(cls, resource: str, group: str, name: str) -> Conflict:
        return cls(
            f'Operation cannot be fulfilled on {qualified_resource(resource, group)} "{name}": '
            "the object has been modified; please apply your changes to the latest version "
            "and try again",
            name=name,
            group=group,
            kind=resource,
        )


class Expired(ApiError):
    reason = "Expired"
    code = 410


class RequestEntityTooLarge(ApiError):
    reason = "RequestEntityTooLarge"
    code = 413


class UnsupportedMediaType(ApiError):
    reason = "UnsupportedMediaType"
    code = 415


class Invalid(ApiError):
    reason = "Invalid"
    code = 422

    @classmethod
    def of(cls, kind: str, group: str, name: str, errors: Sequence[FieldError]) -> Invalid:
        """kube-apiserver's NewInvalid: ``Deployment.apps "web" is invalid: [a: …, b: …]``."""
        qualified = f"{kind}.{group}" if group else kind
        texts = [str(e) for e in errors]
        joined = texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"
        return cls(
            f'{qualified} "{name}" is invalid: {joined}',
            name=name,
            group=group,
            kind=kind,
            causes=[e.to_cause() for e in errors],
        )


class TooManyRequests(ApiError):
    reason = "TooManyRequests"
    code = 429


class InternalError(ApiError):
    reason = "InternalError"
    code = 500


class ServiceUnavailable(ApiError):
    reason = "ServiceUnavailable"
    code = 503
