"""Errors on Atoll's own API as RFC 9457 problem+json: never a stack trace, never a bare 500.

FastAPI's HTTP and validation errors become ``{"type", "title", "status", "detail"}`` with
``application/problem+json``; anything unexpected is logged with its traceback and answered
as a generic 500 problem that says nothing of the internals.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse

from atoll.errors import ApiError

__all__ = ["PROBLEM_JSON", "install_problem_handlers", "problem"]

logger = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


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


async def _invalid(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = [
        {"location": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg", "")}
        for e in error.errors()
    ]
    return problem(422, "the request is not valid", errors=errors)


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


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(ApiError, _cluster_error)
    app.add_exception_handler(Exception, _unexpected)
