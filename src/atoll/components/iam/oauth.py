"""``POST /oauth/token``: OAuth 2.0 password and refresh-token grants (RFC 6749 §4.3, §6).

Also ``POST /oauth/revoke`` (RFC 7009). Failed logins are limited and every login is
recorded (``logins.py``). Form-encoded, as the RFC says; ``client_id`` is optional (the
console is the built-in client). A good answer is ``{access_token, refresh_token,
token_type, expires_in}``; errors are problem+json carrying the RFC's ``error`` code
(``invalid_request``, ``unsupported_grant_type``, ``invalid_grant``), so OAuth clients and
Atoll's own error handling both understand them. Wrong credentials and unknown users get
the same answer. The password check (argon2id, tens of milliseconds of CPU) runs off the event loop.

The routes read their forms themselves, so that a missing field is the RFC's
``invalid_request`` (400) rather than FastAPI's 422; the OpenAPI document describes the forms
by hand (``openapi_extra``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from atoll.errors import NotFound
from atoll.kube.client import KubeClient, Object
from atoll.server.problems import problem

from .admin import USERS
from .authenticating import is_revoked, revoke
from .identity import NotMapped, PasswordProvider, ProviderUnavailable
from .identity.mapping import IdentityMapper
from .logins import LoginLimiter
from .passwords import verify_password
from .tokens import ACCESS_TTL, InvalidToken, TokenIssuer

__all__ = ["oauth_router"]

_BAD_CREDENTIALS = "the user name or password is wrong"
_FORM = "application/x-www-form-urlencoded"
_NO_STORE = {"Cache-Control": {"schema": {"type": "string", "enum": ["no-store"]}}}


def _form(required: list[str], **fields: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI request body of a form that a route reads itself (``_read_form``)."""
    schema = {"type": "object", "required": required, "properties": fields}
    return {"requestBody": {"required": True, "content": {_FORM: {"schema": schema}}}}


_TOKEN_FORM = _form(
    ["grant_type"],
    grant_type={"type": "string", "enum": ["password", "refresh_token"]},
    username={"type": "string", "description": "For the password grant"},
    password={"type": "string", "format": "password", "description": "For the password grant"},
    refresh_token={"type": "string", "description": "For the refresh_token grant"},
    client_id={"type": "string", "description": "Optional: the console is the built-in client"},
)
_REVOKE_FORM = _form(
    ["token"], token={"type": "string", "description": "An access or a refresh token"}
)
_TOKENS = {
    "type": "object",
    "required": ["access_token", "refresh_token", "token_type", "expires_in"],
    "properties": {
        "access_token": {"type": "string"},
        "refresh_token": {"type": "string"},
        "token_type": {"type": "string", "enum": ["Bearer"]},
        "expires_in": {"type": "integer", "description": "Seconds the access token is valid"},
    },
}


async def _read_form(request: Request) -> dict[str, str]:
    """The form in the body (the last of repeated fields). Bytes that are not UTF-8 become
    U+FFFD, as ``parse_qs`` does with percent-escaped ones: a credential that cannot match,
    never a 500."""
    text = (await request.body()).decode("utf-8", "replace")
    return {k: v[-1] for k, v in parse_qs(text).items()}


def _error(status: int, code: str, detail: str) -> JSONResponse:
    response = problem(status, detail, error=code, error_description=detail)
    response.headers["Cache-Control"] = "no-store"
    return response


def _tokens(issuer: TokenIssuer, username: str) -> JSONResponse:
    body = {
        "access_token": issuer.issue(username, "access"),
        "refresh_token": issuer.issue(username, "refresh"),
        "token_type": "Bearer",
        "expires_in": ACCESS_TTL,
    }
    return JSONResponse(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


def _disabled(user: Object) -> bool:
    return (user.get("status") or {}).get("state") == "Disabled"


def oauth_router(
    client: Callable[[], KubeClient],
    issuer: Callable[[], TokenIssuer],
    limiter: Callable[[], LoginLimiter],
    providers: Callable[[], Sequence[PasswordProvider]] = tuple,
    mapper: Callable[[], IdentityMapper] | None = None,
    listing: Callable[[], list[dict[str, str]]] = list,
) -> APIRouter:
    """The routes; ``client``, ``issuer``, ``limiter``, the password ``providers`` (LDAP)
    and the identity ``mapper`` are read per request (made at start)."""
    router = APIRouter(prefix="/oauth", tags=["oauth"])

    async def user_named(name: str) -> Object | None:
        try:
            return await client().get(USERS, name)
        except NotFound:
            return None

    async def from_providers(name: str, password: str) -> tuple[str, str] | None:
        """The Atoll user a password provider (LDAP) vouches for, mapped and with its
        groups brought in step, and the provider's name; None when none knows the name and
        password."""
        for provider in providers():
            identity = await provider.authenticate(name, password)
            if identity is None or mapper is None:
                continue
            login = await mapper().user_for(identity, provider.mapping_method)
            await mapper().sync_groups(login, identity)
            return login, provider.name
        return None

    @router.get(
        "/providers",
        summary="The identity providers users may log in with, for the log-in page",
        responses={200: {"description": "`{items: [{name, type, mappingMethod, loginURL?}]}`"}},
    )
    async def list_providers() -> JSONResponse:
        items = listing()
        return JSONResponse({"items": items, "totalItems": len(items)})

    @router.post(
        "/token",
        summary="Log in (password grant) or refresh a token",
        openapi_extra=_TOKEN_FORM,
        responses={
            200: {
                "description": "New tokens",
                "content": {"application/json": {"schema": _TOKENS}},
                "headers": _NO_STORE,
            },
            400: {
                "description": "Refused; `error` says why (invalid_request, invalid_grant, "
                "unsupported_grant_type)"
            },
            429: {
                "description": "Too many failed logins; try again after Retry-After seconds",
                "headers": {"Retry-After": {"schema": {"type": "integer"}}},
            },
        },
    )
    async def token(request: Request) -> JSONResponse:
        form = await _read_form(request)
        grant = form.get("grant_type", "")
        if grant == "password":
            name, password = form.get("username", ""), form.get("password", "")
            if not name or not password:
                return _error(400, "invalid_request", "username and password are required")
            source = request.client.host if request.client else ""
            agent = request.headers.get("user-agent", "")
            wait = limiter().retry_after(name, source)
            if wait is not None:
                response = _error(
                    429, "too_many_requests", "too many failed logins; try again later"
                )
                response.headers["Retry-After"] = str(wait)
                return response
            user = await user_named(name)
            stored = ((user or {}).get("spec") or {}).get("password") or ""
            provider = "password"
            if stored:  # Atoll's own user: its password decides, never a directory's
                ok = await asyncio.to_thread(verify_password, stored, password)
                login = name if ok else None
            else:
                try:
                    vouched = await from_providers(name, password)
                except ProviderUnavailable as why:
                    return _error(503, "temporarily_unavailable", str(why))
                except NotMapped as why:
                    await limiter().record(
                        name, source, success=False, user_agent=agent, reason=str(why)
                    )
                    return _error(400, "invalid_grant", str(why))
                login = None
                if vouched is not None:
                    login, provider = vouched
                    user = await user_named(login)
            if login is None or user is None:
                await limiter().record(
                    name, source, success=False, user_agent=agent, reason=_BAD_CREDENTIALS
                )
                return _error(400, "invalid_grant", _BAD_CREDENTIALS)
            if _disabled(user):
                await limiter().record(
                    login,
                    source,
                    success=False,
                    user_agent=agent,
                    reason="disabled",
                    provider=provider,
                )
                return _error(400, "invalid_grant", f"user {login} is disabled")
            await limiter().record(login, source, success=True, user_agent=agent, provider=provider)
            return _tokens(issuer(), login)
        if grant == "refresh_token":
            try:
                claims = issuer().verify(form.get("refresh_token", ""), "refresh")
            except InvalidToken as why:
                return _error(400, "invalid_grant", f"the refresh token is not valid: {why}")
            if await is_revoked(client(), str(claims.get("jti", ""))):
                return _error(400, "invalid_grant", "the refresh token was revoked")
            user = await user_named(str(claims["sub"]))
            if user is None or _disabled(user):
                return _error(400, "invalid_grant", "the user is gone or disabled")
            return _tokens(issuer(), str(claims["sub"]))
        return _error(400, "unsupported_grant_type", f"grant_type {grant!r} is not supported")

    @router.post(
        "/revoke",
        summary="Revoke an access or refresh token (RFC 7009)",
        openapi_extra=_REVOKE_FORM,
        response_class=Response,  # an empty 200
        responses={
            200: {"description": "Revoked, or it was not valid", "headers": _NO_STORE},
            400: {"description": "No token (`error`: invalid_request)"},
        },
    )
    async def revoke_token(request: Request) -> Response:
        """Whoever holds a token may revoke it. As RFC 7009 says, the answer is 200 whether
        or not the token was valid, so it tells nothing about tokens."""
        form = await _read_form(request)
        token = form.get("token", "")
        if not token:
            return _error(400, "invalid_request", "token is required")
        for kind in ("access", "refresh"):
            try:
                claims = issuer().verify(token, kind)
            except InvalidToken:
                continue
            await revoke(client(), claims)
            break
        return Response(status_code=200, headers={"Cache-Control": "no-store"})

    return router
