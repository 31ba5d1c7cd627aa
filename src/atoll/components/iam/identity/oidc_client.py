"""Atoll as an OpenID Connect client (relying party) of one configured provider.

``OidcClient`` reads the provider's discovery document and JWKS (fetched on first use and
kept; a key id not in the JWKS fetches it again, as after a key rotation), builds the
authorization URL (code flow with PKCE S256, ``state`` and ``nonce``), exchanges a code at
the token endpoint (the client secret by HTTP Basic or in the form, as the discovery says),
and checks the ID token with PyJWT: the signature against the JWKS with an asymmetric
algorithm the discovery lists (never ``none`` nor HS*), ``iss``, ``aud`` (and ``azp``),
``exp``, ``iat`` and ``nonce``. Claims come from the ID token only. The routes that drive
a browser through it are in ``oidc``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp
import jwt

from atoll.settings import IdentityProvider, OidcProvider

from . import ExternalIdentity, ProviderUnavailable

logger = logging.getLogger(__name__)

__all__ = ["LoginRefused", "OidcClient", "PendingLogin", "oidc_clients"]

_TIMEOUT = aiohttp.ClientTimeout(total=10)
_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
_REQUIRED_CLAIMS = ["iss", "sub", "aud", "exp", "iat"]
_LEEWAY = 60  # seconds of clock skew allowed between Atoll and the provider


class LoginRefused(Exception):
    """The log-in cannot go on (a 400); ``error`` is the OAuth error code."""

    def __init__(self, error: str, detail: str) -> None:
        super().__init__(detail)
        self.error = error


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _with_query(endpoint: str, params: Mapping[str, str]) -> str:
    return endpoint + ("&" if "?" in endpoint else "?") + urlencode(params)


@dataclass(frozen=True)
class PendingLogin:
    provider: str
    state: str
    nonce: str
    verifier: str  # PKCE's code_verifier
    redirect: str  # the console path to go on to
    redirect_uri: str  # Atoll's callback, as sent to the provider


class OidcClient:
    """One configured provider, as Atoll's server is its client (relying party)."""

    def __init__(self, settings: OidcProvider) -> None:
        self.settings = settings
        self._metadata: dict[str, Any] | None = None
        self._jwks: list[dict[str, Any]] | None = None
        self._ssl: ssl.SSLContext | bool | None = None

    @property
    def name(self) -> str:
        return self.settings.name

    async def _ssl_context(self) -> ssl.SSLContext | bool:
        if self._ssl is None:
            ca = self.settings.ca_file
            try:
                self._ssl = (
                    True
                    if ca is None
                    else await asyncio.to_thread(ssl.create_default_context, cafile=str(ca))
                )
            except (OSError, ssl.SSLError) as error:
                raise ProviderUnavailable(f"{self.name}: CA file {ca}: {error}") from None
        return self._ssl

    async def _call(self, method: str, url: str, **kwargs: Any) -> tuple[int, Any]:
        """The status and the JSON body (None when there is none) of a request to it."""
        secure = await self._ssl_context()
        try:
            async with (
                aiohttp.ClientSession(timeout=_TIMEOUT) as session,
                session.request(method, url, ssl=secure, **kwargs) as answer,
            ):
                try:
                    body = await answer.json(content_type=None)
                except ValueError:
                    body = None
                return answer.status, body
        except (aiohttp.ClientError, TimeoutError) as error:
            logger.warning("OpenID Connect provider %s cannot be reached: %s", self.name, error)
            raise ProviderUnavailable(f"{self.name} cannot be reached at {url}: {error}") from None

    async def metadata(self) -> dict[str, Any]:
        """Its discovery document, fetched once."""
        if self._metadata is None:
            url = self.settings.issuer.rstrip("/") + "/.well-known/openid-configuration"
            status, found = await self._call("GET", url)
            if status != 200 or not isinstance(found, dict):
                raise ProviderUnavailable(f"{self.name}: discovery at {url} answered {status}")
            needed = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")
            missing = [k for k in needed if not _text(found.get(k))]
            if missing:
                raise ProviderUnavailable(f"{self.name}: discovery lacks {', '.join(missing)}")
            if found["issuer"].rstrip("/") != self.settings.issuer.rstrip("/"):
                raise ProviderUnavailable(
                    f"{self.name}: discovery names the issuer {found['issuer']!r}, "
                    f"not {self.settings.issuer!r}"
                )
            self._metadata = found
        return self._metadata

    async def authorization_url(self, login: PendingLogin) -> str:
        scopes = list(self.settings.scopes)
        if "openid" not in scopes:
            scopes.insert(0, "openid")
        challenge = hashlib.sha256(login.verifier.encode()).digest()
        params = {
            "response_type": "code",
            "client_id": self.settings.client_id,
            "redirect_uri": login.redirect_uri,
            "scope": " ".join(scopes),
            "state": login.state,
            "nonce": login.nonce,
            "code_challenge": base64.urlsafe_b64encode(challenge).decode().rstrip("="),
            "code_challenge_method": "S256",
        }
        return _with_query((await self.metadata())["authorization_endpoint"], params)

    async def exchange(self, code: str, login: PendingLogin) -> str:
        """The ID token the provider gives for ``code``."""
        metadata = await self.metadata()
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": login.redirect_uri,
            "code_verifier": login.verifier,
        }
        headers = {"Accept": "application/json"}
        client_id, secret = self.settings.client_id, self.settings.client_secret
        # RFC 8414: a provider that does not say supports client_secret_basic.
        methods = metadata.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        if secret is None:
            form["client_id"] = client_id  # a public client: PKCE alone
        elif "client_secret_basic" in methods or "client_secret_post" not in methods:
            pair = f"{quote(client_id, safe='')}:{quote(secret.get_secret_value(), safe='')}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        else:
            form.update(client_id=client_id, client_secret=secret.get_secret_value())
        status, body = await self._call(
            "POST", metadata["token_endpoint"], data=form, headers=headers
        )
        if status >= 500 or status < 200:
            raise ProviderUnavailable(f"{self.name}'s token endpoint answered {status}")
        if status != 200 or not isinstance(body, dict):
            found = body if isinstance(body, dict) else {}
            error = _text(found.get("error")) or "invalid_grant"
            why = _text(found.get("error_description")) or error
            raise LoginRefused(error, f"{self.name} refused the code: {why}")
        id_token = body.get("id_token")
        if not isinstance(id_token, str) or not id_token:
            raise LoginRefused(
                "invalid_token", f"{self.name} answered without an ID token (scope openid?)"
            )
        return id_token

    async def _fetch_jwks(self) -> list[dict[str, Any]]:
        url = (await self.metadata())["jwks_uri"]
        status, found = await self._call("GET", url)
        keys = found.get("keys") if isinstance(found, dict) else None
        if status != 200 or not isinstance(keys, list):
            raise ProviderUnavailable(f"{self.name}: its JWKS at {url} answered {status}")
        return [k for k in keys if isinstance(k, dict)]

    async def _key(self, kid: str | None, alg: str) -> jwt.PyJWK:
        fetched = self._jwks is None
        if self._jwks is None:
            self._jwks = await self._fetch_jwks()
        found = _matching(self._jwks, kid, alg)
        if found is None and not fetched:  # a key it added since: fetch the set again
            self._jwks = await self._fetch_jwks()
            found = _matching(self._jwks, kid, alg)
        if found is None:
            raise LoginRefused("invalid_token", f"no {alg} key {kid!r} in {self.name}'s JWKS")
        return found

    async def verified_claims(self, id_token: str, *, nonce: str) -> dict[str, Any]:
        metadata = await self.metadata()
        try:
            header = jwt.get_unverified_header(id_token)
        except jwt.PyJWTError as error:
            raise LoginRefused("invalid_token", f"the ID token is not a JWT: {error}") from None
        alg = _text(header.get("alg"))
        listed = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
        allowed = _ALGORITHMS.intersection(listed)
        if alg not in allowed:
            raise LoginRefused(
                "invalid_token", f"the ID token is signed with {alg!r}, not {sorted(allowed)}"
            )
        key = await self._key(_text(header.get("kid")) or None, alg)
        client_id = self.settings.client_id
        try:
            claims: dict[str, Any] = jwt.decode(
                id_token,
                key,
                algorithms=[alg],
                audience=client_id,
                issuer=metadata["issuer"],
                leeway=_LEEWAY,
                options={"require": _REQUIRED_CLAIMS},
            )
        except jwt.PyJWTError as error:
            raise LoginRefused("invalid_token", f"the ID token is not valid: {error}") from None
        audience = claims["aud"]
        several = isinstance(audience, list) and len(audience) > 1
        if (several or "azp" in claims) and claims.get("azp") != client_id:
            raise LoginRefused("invalid_token", "the ID token was issued to another client")
        if not hmac.compare_digest(_text(claims.get("nonce")).encode(), nonce.encode()):
            raise LoginRefused("invalid_token", "the ID token's nonce is not this log-in's")
        return claims

    def identity(self, claims: Mapping[str, Any]) -> ExternalIdentity:
        """Who the claims say the person is; the user name falls back to ``sub``."""
        settings = self.settings
        sub = str(claims["sub"])
        groups = claims.get(settings.groups_claim)
        listed = [groups] if isinstance(groups, str) else groups
        return ExternalIdentity(
            provider=settings.name,
            uid=sub,
            username=_text(claims.get(settings.username_claim)) or sub,
            email=_text(claims.get(settings.email_claim)),
            display_name=_text(claims.get(settings.display_name_claim)),
            groups=tuple(g for g in listed if isinstance(g, str) and g)
            if isinstance(listed, list)
            else (),
        )

    async def end_session_url(self, *, id_token_hint: str, post_logout_redirect_uri: str) -> str:
        """Where the browser ends its session at the provider; "" when it cannot."""
        endpoint = _text((await self.metadata()).get("end_session_endpoint"))
        if not endpoint:
            return ""
        params = {"client_id": self.settings.client_id}
        if id_token_hint:
            params["id_token_hint"] = id_token_hint
        if post_logout_redirect_uri:
            params["post_logout_redirect_uri"] = post_logout_redirect_uri
        return _with_query(endpoint, params)


def _matching(keys: Sequence[dict[str, Any]], kid: str | None, alg: str) -> jwt.PyJWK | None:
    """The signing key ``kid`` (the first fitting key when the token names none)."""
    for key in keys:
        if kid is not None and key.get("kid") != kid:
            continue
        if key.get("use", "sig") != "sig" or key.get("alg", alg) != alg:
            continue
        try:
            return jwt.PyJWK(key, algorithm=alg)
        except (jwt.PyJWTError, ValueError, TypeError, KeyError):  # not a key alg can use
            continue
    return None


def oidc_clients(configured: Sequence[IdentityProvider]) -> dict[str, OidcClient]:
    """The OpenID Connect providers of the settings, by name."""
    return {p.name: OidcClient(p) for p in configured if isinstance(p, OidcProvider)}


# -- the log-in under way, in a signed cookie ------------------------------------------------
