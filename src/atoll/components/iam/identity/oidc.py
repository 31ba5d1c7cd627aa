"""OpenID Connect log-in: the authorization-code flow with PKCE, for the console.

1. ``GET /oauth/authorize?provider=<name>&redirect=<console path>`` sends the browser to
   the provider with a ``state``, a ``nonce`` and a PKCE challenge (S256).
2. The provider sends it back to ``GET /oauth/callback/<name>?code=…&state=…``: the code is
   exchanged at the provider's token endpoint (with the PKCE verifier, and the client secret
   when one is set, by HTTP Basic or in the form as its discovery says), the ID token is
   checked, the person is mapped to an Atoll user (``mapping.IdentityMapper``: ``sub`` is
   the uid) and its provider groups to Atoll groups, and the log-in is recorded.
3. The browser goes on to the console path with Atoll's tokens in the URL's *fragment*,
   which browsers send to no server and put in no Referer::

       <redirect>#access_token=…&refresh_token=…&expires_in=7200&token_type=Bearer
                 &provider=<name>&id_token_hint=<the provider's ID token>

   The console keeps the tokens as after a password log-in (they refresh at
   ``POST /oauth/token`` the same way), and the ID token for the log-out.
4. ``GET /oauth/logout?provider=<name>&id_token_hint=…&post_logout_redirect=<console
   path>`` revokes the Atoll access token of the ``Authorization`` header, if any, and sends
   the browser to the provider's ``end_session_endpoint`` (RP-initiated logout) when it has
   one, else to the console path. A browser navigating there sends no header: the console
   revokes its tokens with ``POST /oauth/revoke`` first.

The server keeps no state: what the callback needs (the PKCE verifier, the nonce, the
console path to go on to) travels in a cookie named after the ``state``, signed with a key
derived from the token-signing key every replica shares, valid 10 minutes, httpOnly,
SameSite=Lax and sent only to the callback's path. So any replica finishes a log-in another
began, log-ins in two tabs do not disturb each other, and a callback from a browser that did
not start the log-in is refused. The post-login path must be a path on this site (no open
redirect). Atoll's own address (``redirect_uri``) is the one the browser used.

Talking to the provider (discovery, JWKS, the code exchange, checking ID tokens) is
``oidc_client.OidcClient``'s.

Errors are problem+json carrying an OAuth ``error`` code: the provider's error, a bad or
expired state, a refused code, an ID token that does not verify, an identity without an
Atoll user are 400 (and no tokens); a provider that cannot be reached is 503.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, fields
from typing import Annotated, Any
from urllib.parse import quote, urlencode, urlsplit

import jwt
from fastapi import APIRouter, Query, Request
from starlette.responses import JSONResponse, Response

from atoll.errors import NotFound
from atoll.kube.client import KubeClient
from atoll.server.problems import problem

from ..admin import USERS
from ..authenticating import revoke
from ..logins import LoginLimiter
from ..tokens import ACCESS_TTL, InvalidToken, TokenIssuer
from . import ExternalIdentity, NotMapped, ProviderUnavailable
from .mapping import IdentityMapper
from .oidc_client import LoginRefused, OidcClient, PendingLogin

__all__ = ["oidc_router"]


_STATE_TTL = 600  # a log-in must come back within 10 minutes
_COOKIE = "atoll_oidc_"  # + the state


def _cookie_key(issuer: TokenIssuer) -> bytes:
    """A key of its own, so no Atoll token can pass for a pending log-in or the reverse."""
    return hmac.new(issuer.key, b"atoll: OpenID Connect log-in state", hashlib.sha256).digest()


def _seal(issuer: TokenIssuer, login: PendingLogin) -> str:
    now = int(time.time())
    claims = {"typ": "oidc-login", "iat": now, "exp": now + _STATE_TTL, **asdict(login)}
    return jwt.encode(claims, _cookie_key(issuer), algorithm="HS256")


def _unseal(issuer: TokenIssuer, sealed: str) -> PendingLogin | None:
    try:
        claims = jwt.decode(
            sealed, _cookie_key(issuer), algorithms=["HS256"], options={"require": ["exp"]}
        )
    except jwt.PyJWTError:
        return None
    values = {f.name: claims.get(f.name) for f in fields(PendingLogin)}
    if claims.get("typ") != "oidc-login" or not all(isinstance(v, str) for v in values.values()):
        return None
    return PendingLogin(**{k: str(v) for k, v in values.items()})


def _console_path(value: str) -> str | None:
    """``value`` when it is a path on this site: no scheme nor host (``//host``), and only
    printable ASCII without a backslash or a fragment (the tokens' place)."""
    if not value.startswith("/") or value.startswith("//"):
        return None
    if any(not "!" <= c <= "~" or c in "\\#" for c in value):
        return None
    return value


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _refusal(status: int, code: str, detail: str) -> JSONResponse:
    response = problem(status, detail, error=code, error_description=detail)
    response.headers["Cache-Control"] = "no-store"
    return response


def _redirect(location: str) -> Response:
    return Response(status_code=302, headers={"Location": location, "Cache-Control": "no-store"})


# -- the routes -----------------------------------------------------------------------------

_LOCATION = {"Location": {"schema": {"type": "string"}}}
_UNREACHABLE: dict[int | str, dict[str, Any]] = {
    503: {"description": "The provider cannot be reached (`temporarily_unavailable`)"}
}
Provider = Annotated[str, Query(description="An OpenID Connect provider's name (settings)")]


def oidc_router(
    clients: Callable[[], Mapping[str, OidcClient]],
    *,
    client: Callable[[], KubeClient],
    issuer: Callable[[], TokenIssuer],
    limiter: Callable[[], LoginLimiter],
    mapper: Callable[[], IdentityMapper],
) -> APIRouter:
    """The routes; everything they use is read per request (made at start: 503 before)."""
    router = APIRouter(prefix="/oauth", tags=["oauth"])

    async def user_for(request: Request, oidc: OidcClient, identity: ExternalIdentity) -> str:
        """The Atoll user, with its groups in step and its log-in recorded; refused when
        there is none or it is disabled."""
        source = request.client.host if request.client else ""
        agent = request.headers.get("user-agent", "")
        try:
            login = await mapper().user_for(identity, oidc.settings.mapping_method)
            user = await client().get(USERS, login)
        except (NotMapped, NotFound) as why:
            await limiter().record(
                identity.username,
                source,
                success=False,
                user_agent=agent,
                reason=str(why),
                provider=oidc.settings.name,
            )
            raise LoginRefused("access_denied", str(why)) from None
        if (user.get("status") or {}).get("state") == "Disabled":
            await limiter().record(
                login,
                source,
                success=False,
                user_agent=agent,
                reason="disabled",
                provider=oidc.settings.name,
            )
            raise LoginRefused("access_denied", f"user {login} is disabled")
        await mapper().sync_groups(login, identity)
        await limiter().record(
            login, source, success=True, user_agent=agent, provider=oidc.settings.name
        )
        return login

    async def log_in(request: Request, oidc: OidcClient, login: PendingLogin, code: str) -> str:
        """Where the browser goes on to, with Atoll's tokens in the fragment."""
        id_token = await oidc.exchange(code, login)
        claims = await oidc.verified_claims(id_token, nonce=login.nonce)
        name = await user_for(request, oidc, oidc.identity(claims))
        tokens = {
            "access_token": issuer().issue(name, "access"),
            "refresh_token": issuer().issue(name, "refresh"),
            "expires_in": str(ACCESS_TTL),
            "token_type": "Bearer",
            "provider": oidc.name,
            "id_token_hint": id_token,
        }
        return f"{login.redirect}#{urlencode(tokens)}"

    @router.get(
        "/authorize",
        summary="Log in through an OpenID Connect provider: go to its log-in page",
        status_code=302,
        response_class=Response,
        responses={
            302: {
                "description": "To the provider (sets the log-in's cookie)",
                "headers": _LOCATION,
            },
            400: {"description": "No such provider, or a redirect off this site"},
            **_UNREACHABLE,
        },
    )
    async def authorize(
        request: Request,
        provider: Provider = "",
        redirect: Annotated[
            str, Query(description="The console path to go on to, logged in")
        ] = "/",
    ) -> Response:
        oidc = clients().get(provider)
        if oidc is None:
            return _refusal(400, "invalid_request", f"no OpenID Connect provider {provider!r}")
        path = _console_path(redirect)
        if path is None:
            return _refusal(400, "invalid_request", "redirect must be a path on this site")
        login = PendingLogin(
            provider=oidc.name,
            state=secrets.token_urlsafe(24),
            nonce=secrets.token_urlsafe(24),
            verifier=secrets.token_urlsafe(48),
            redirect=path,
            redirect_uri=f"{_base(request)}/oauth/callback/{quote(oidc.name, safe='')}",
        )
        try:
            response = _redirect(await oidc.authorization_url(login))
        except ProviderUnavailable as why:
            return _refusal(503, "temporarily_unavailable", str(why))
        response.set_cookie(
            _COOKIE + login.state,
            _seal(issuer(), login),
            max_age=_STATE_TTL,
            path=urlsplit(login.redirect_uri).path,
            secure=request.url.scheme == "https",
            httponly=True,
            samesite="lax",
        )
        return response

    @router.get(
        "/callback/{name}",
        summary="Where an OpenID Connect provider sends the browser back: log in",
        status_code=302,
        response_class=Response,
        responses={
            302: {
                "description": "To the console path, with `#access_token=…&refresh_token=…"
                "&expires_in=…&token_type=Bearer&provider=…&id_token_hint=…`",
                "headers": _LOCATION,
            },
            400: {
                "description": "Refused (`error`: the provider's, invalid_request, "
                "invalid_grant, invalid_token, access_denied); no tokens"
            },
            404: {"description": "No such provider"},
            **_UNREACHABLE,
        },
    )
    async def callback(
        request: Request,
        name: str,
        code: Annotated[str, Query(description="The provider's authorization code")] = "",
        state: Annotated[str, Query(description="The state sent to the provider")] = "",
        error: Annotated[str, Query(description="The provider's refusal")] = "",
        error_description: Annotated[str, Query(description="Its explanation")] = "",
    ) -> Response:
        oidc = clients().get(name)
        if oidc is None:
            return _refusal(404, "invalid_request", f"no OpenID Connect provider {name!r}")
        login = _unseal(issuer(), request.cookies.get(_COOKIE + state, "")) if state else None
        if login is not None and (login.state != state or login.provider != oidc.name):
            login = None
        try:
            if error:
                raise LoginRefused(error, f"{name} refused: {error_description or error}")
            if login is None or not code:
                raise LoginRefused(
                    "invalid_request", "no log-in under way here (it lasts 10 minutes)"
                )
            response = _redirect(await log_in(request, oidc, login, code))
        except LoginRefused as why:
            response = _refusal(400, why.error, str(why))
        except ProviderUnavailable as why:
            response = _refusal(503, "temporarily_unavailable", str(why))
        if login is not None:  # a code is good once: so is its cookie
            path = urlsplit(login.redirect_uri).path
            response.delete_cookie(_COOKIE + login.state, path=path, httponly=True)
        return response

    @router.get(
        "/logout",
        summary="Log out, and out of the OpenID Connect provider",
        status_code=302,
        response_class=Response,
        responses={
            302: {
                "description": "To the provider's end_session_endpoint, or the console "
                "path when it has none",
                "headers": _LOCATION,
            },
            400: {"description": "No such provider, or a redirect off this site"},
            **_UNREACHABLE,
        },
    )
    async def logout(
        request: Request,
        provider: Provider = "",
        id_token_hint: Annotated[
            str, Query(description="The ID token the log-in gave (its fragment)")
        ] = "",
        post_logout_redirect: Annotated[
            str, Query(description="The console path the provider sends the browser back to")
        ] = "",
    ) -> Response:
        """Revokes the Atoll access token of the ``Authorization`` header, if any."""
        oidc = clients().get(provider)
        if oidc is None:  # checked first: a request that fails revokes nothing
            return _refusal(400, "invalid_request", f"no OpenID Connect provider {provider!r}")
        path = _console_path(post_logout_redirect) if post_logout_redirect else ""
        if path is None:
            return _refusal(400, "invalid_request", "post_logout_redirect must be a path here")
        authorization = request.headers.get("authorization", "")
        if authorization[:7].lower() == "bearer ":
            with contextlib.suppress(InvalidToken):  # not one of Atoll's: nothing to revoke
                await revoke(client(), issuer().verify(authorization[7:].strip(), "access"))
        try:
            target = await oidc.end_session_url(
                id_token_hint=id_token_hint,
                post_logout_redirect_uri=f"{_base(request)}{path}" if path else "",
            )
        except ProviderUnavailable as why:
            return _refusal(503, "temporarily_unavailable", str(why))
        return _redirect(target or path or "/")

    return router
