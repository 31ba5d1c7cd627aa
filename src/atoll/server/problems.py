"""Errors on Atoll's own API as RFC 9457 problem+json: never a stack trace, never a bare 500.

FastAPI's HTTP and validation errors become ``{"type", "title", "status", "detail"}`` with
``application/problem+json``; anything unexpected is logged with its traceback and answered
as a generic 500 problem that says nothing of the internals. ``document_problems`` says so in
the OpenAPI document, so clients (and schemathesis) know the shape of every error answer.
"""

from __future__ import annotations

import copy
import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse

from atoll.errors import ApiError

__all__ = [
    "PROBLEM_JSON",
    "document_problems",
    "install_problem_handlers",
    "problem",
    "validation_problem",
]

logger = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"

_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
_PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An error (RFC 9457). Members beyond these say more: `errors` (what is "
    "invalid), `reason` (the Kubernetes Status reason), `error` (an OAuth error code).",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"location": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}
_FASTAPI_VALIDATION = ("HTTPValidationError", "ValidationError")
_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})


def problem(status: int, detail: str, **extra: Any) -> JSONResponse:
    body = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    response = problem(error.status_code, str(error.detail))
    for name, value in (error.headers or {}).items():
        response.headers[name] = value
    return response


def validation_problem(error: RequestValidationError, status: int = 422) -> JSONResponse:
    """What FastAPI found invalid in a request, each place and why (``errors``): 422 as
    for every route, or 400 where a route answers bad input as a bad request."""
    errors = [
        {"location": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg", "")}
        for e in error.errors()
    ]
    return problem(status, "the request is not valid", errors=errors)


async def _invalid(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    return validation_problem(error)


async def _cluster_error(request: Request, error: Exception) -> JSONResponse:
    """What the cluster refused (conflicts, missing objects, invalid ones), with its code."""
    assert isinstance(error, ApiError)
    response = problem(error.code, str(error), reason=error.reason)
    if error.code == 429 or error.code == 503:
        response.headers["Retry-After"] = "1"
    return response


async def _unexpected(request: Request, error: Exception) -> JSONResponse:
    logger.error("%s %s failed", request.method, request.url.path, exc_info=error)
    return problem(500, "the server could not answer this request; it has been logged")


class _Unexpected:
    """Answers what no handler caught as a 500 problem, and ends there. (Starlette's own
    last-resort handler answers too, then raises again, and the server then drops the
    client's keep-alive connection and logs the error twice.)"""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Any) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as error:
            if started:
                raise  # too late for an answer of our own: let the server close it
            response = await _unexpected(Request(scope), error)
            await response(scope, receive, send)


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(ApiError, _cluster_error)
    app.add_exception_handler(Exception, _unexpected)
    app.add_middleware(_Unexpected)  # the innermost middleware: added first


def _as_problem(response: dict[str, Any]) -> None:
    """An error response's content as problem+json; a schema the route gave is kept, FastAPI's
    validation error (which ``_invalid`` replaces) or none at all becomes ``Problem``."""
    content = response.setdefault("content", {})
    declared = (content.pop("application/json", None) or {}).get("schema") or {}
    if not declared or declared.get("$ref", "").endswith("/HTTPValidationError"):
        declared = dict(_PROBLEM_REF)
    content.setdefault(PROBLEM_JSON, {})
    content[PROBLEM_JSON].setdefault("schema", declared)


def document_problems(document: dict[str, Any]) -> None:
    """Make the OpenAPI ``document`` say what the handlers above do: every error answer
    (4xx, 5xx, and ``default`` for those not listed) is a ``Problem`` in problem+json."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = copy.deepcopy(_PROBLEM_SCHEMA)  # documents may be changed later
    for name in _FASTAPI_VALIDATION:  # only ever referred to by the 422s replaced here
        schemas.pop(name, None)
    for operations in document.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in _METHODS:
                continue
            responses = operation.setdefault("responses", {})
            responses.setdefault("default", {"description": "An error"})
            for code, response in responses.items():
                if code == "default" or code[0] in "45":
                    _as_problem(response)
