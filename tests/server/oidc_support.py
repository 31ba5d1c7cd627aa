"""A small but real OpenID Connect provider for the tests, made of Authlib's server parts.

It serves HTTP on 127.0.0.1 (a free port) from a thread of the test process, in *realms*
as Keycloak does: each realm ``<url>/realms/<name>`` is an issuer with its own discovery
document, and all share the signing keys, the people and the clients. Authlib does the
protocol: the authorization-code grant (RFC 6749) with PKCE (RFC 7636, required for every
client), OpenID Connect's ID tokens (signed RS256 with an RSA key published at the JWKS),
client authentication (HTTP Basic, form, or none for a public client), and RP-initiated
logout, which it checks the ``id_token_hint`` of and which the provider records.

Nobody types a password here: the browser's request to the authorization endpoint names
the person who logs in (``login_as=<username>``), as a log-in form would; without one the
provider answers ``error=access_denied``. Tests make it misbehave on purpose through its
attributes (``wrong_nonce``, ``rogue_key``, ``unlisted_key``, ``advance``), and reset it
with ``behave()``. Whatever fails inside it is kept in ``errors`` (and answered 500), so a
test can tell the provider's faults from Atoll's.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from authlib.oauth2 import AuthorizationServer, OAuth2Error, OAuth2Request
from authlib.oauth2.rfc6749 import ClientMixin, OAuth2Payload, grants
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import AuthorizationCodeMixin
from authlib.oidc.core.grants import OpenIDCode
from authlib.oidc.discovery import OpenIDProviderMetadata
from authlib.oidc.rpinitiated import EndSessionEndpoint, EndSessionRequest
from joserfc.jwk import RSAKey

__all__ = ["Client", "OidcProvider", "Person"]

CODE_TTL = 60  # seconds an authorization code is good for
ALL_METHODS = ("client_secret_basic", "client_secret_post", "none")
Answer = tuple[int, bytes, list[tuple[str, str]]]


@dataclass
class Person:
    username: str
    sub: str
    name: str = ""
    groups: list[str] = field(default_factory=list)

    @property
    def email(self) -> str:
        return f"{self.username}@corp.example"


@dataclass
class Client(ClientMixin):
    client_id: str
    secret: str = ""  # "": a public client
    method: str = "client_secret_basic"  # how it authenticates at the token endpoint
    redirect_uris: list[str] = field(default_factory=list)
    post_logout_redirect_uris: list[str] = field(default_factory=list)

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope: str) -> str:
        return " ".join(s for s in (scope or "").split() if s in SCOPES)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return bool(self.secret) and secrets.compare_digest(client_secret, self.secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == self.method

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"

    @property
    def client_metadata(self) -> dict[str, Any]:
        return {"post_logout_redirect_uris": self.post_logout_redirect_uris}


SCOPES = ("openid", "email", "profile", "groups")


@dataclass
class Code(AuthorizationCodeMixin):
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    nonce: str
    person: Person
    code_challenge: str
    code_challenge_method: str
    issued_at: float

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str:
        return self.nonce

    def get_auth_time(self) -> int:
        return int(self.issued_at)

    def get_acr(self) -> str:
        return ""

    def get_amr(self) -> list[str]:
        return []


class _Payload(OAuth2Payload):
    def __init__(self, values: Mapping[str, list[str]]) -> None:
        self._datalist = defaultdict(list, values)

    @property
    def data(self) -> dict[str, str]:
        return {k: v[0] for k, v in self._datalist.items() if v}

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        return self._datalist


class _Request(OAuth2Request):
    """What Authlib's framework integrations make of a request, from ``http.server``'s."""

    def __init__(
        self, method: str, uri: str, headers: Any, query: dict[str, list[str]], form: Any
    ) -> None:
        super().__init__(method=method, uri=uri, headers=headers)
        self._args = {k: v[0] for k, v in query.items()}
        self._form = {k: v[0] for k, v in form.items()}
        self.payload = _Payload({**query, **form})

    @property
    def args(self) -> dict[str, str]:
        return self._args

    @property
    def form(self) -> dict[str, str]:
        return self._form


class _CodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = list(ALL_METHODS)

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        data = request.payload.data
        provider: OidcProvider = self.server.provider
        provider.codes[code] = Code(
            code=code,
            client_id=request.client.get_client_id(),
            redirect_uri=request.payload.redirect_uri or "",
            scope=request.scope or "",
            nonce=data.get("nonce", ""),
            person=request.user,
            code_challenge=data.get("code_challenge", ""),
            code_challenge_method=data.get("code_challenge_method", ""),
            issued_at=provider.now(),
        )

    def query_authorization_code(self, code: str, client: Client) -> Code | None:
        provider: OidcProvider = self.server.provider
        found = provider.codes.get(code)
        if found is None or found.client_id != client.get_client_id():
            return None
        if provider.now() - found.issued_at > CODE_TTL:
            return None  # expired: invalid_grant
        return found

    def delete_authorization_code(self, authorization_code: Code) -> None:
        self.server.provider.codes.pop(authorization_code.code, None)

    def authenticate_user(self, authorization_code: Code) -> Person:
        return authorization_code.person


class _IdTokens(OpenIDCode):
    def __init__(self, realm: _Realm) -> None:
        super().__init__(require_nonce=True)
        self.realm = realm

    def exists_nonce(self, nonce: str, request: OAuth2Request) -> bool:
        return any(c.nonce == nonce for c in self.realm.provider.codes.values())

    def resolve_client_private_key(self, client: Client) -> RSAKey:
        return self.realm.provider.signing_key()

    def get_encode_header(self, client: Client) -> dict[str, str]:
        return {"alg": "RS256", "kid": str(self.realm.provider.signing_key().kid)}

    def get_client_claims(self, client: Client) -> dict[str, Any]:
        return {"iss": self.realm.issuer, "aud": [client.get_client_id()]}

    def get_authorization_code_claims(self, authorization_code: Code) -> dict[str, Any]:
        claims: dict[str, Any] = super().get_authorization_code_claims(authorization_code)
        if self.realm.provider.wrong_nonce:
            claims["nonce"] = "another-log-in"
        return claims

    def generate_user_info(self, user: Person, scope: str) -> dict[str, Any]:
        return {
            "sub": user.sub,
            "preferred_username": user.username,
            "email": user.email,
            "name": user.name,
            "groups": list(user.groups),
        }


class _EndSession(EndSessionEndpoint):
    def get_server_jwks(self) -> dict[str, Any]:
        return self.server.provider.jwks()

    def end_session(self, end_session_request: EndSessionRequest) -> None:
        claims = end_session_request.id_token_claims or {}
        client = end_session_request.client
        self.server.provider.logouts.append(
            {"sub": claims.get("sub"), "client_id": client.client_id if client else None}
        )


class _Server(AuthorizationServer):
    def __init__(self, provider: OidcProvider) -> None:
        super().__init__(scopes_supported=list(SCOPES))
        self.provider = provider
        self.register_token_generator(
            "default", BearerTokenGenerator(lambda **_: secrets.token_urlsafe(32))
        )

    def query_client(self, client_id: str) -> Client | None:
        return self.provider.clients.get(client_id)

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        pass  # Atoll never shows the provider's access token again

    def create_oauth2_request(self, request: Any) -> OAuth2Request:
        assert isinstance(request, OAuth2Request), "requests are made by the handler"
        return request

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        pass

    def handle_response(self, status: int, body: Any, headers: Sequence[tuple[str, str]]) -> Answer:
        raw = body if isinstance(body, bytes) else str(body).encode()
        if isinstance(body, dict):
            raw = json.dumps(body).encode()
        return status, raw, list(headers)


class _Realm:
    def __init__(self, provider: OidcProvider, name: str, methods: Sequence[str]) -> None:
        self.provider = provider
        self.issuer = f"{provider.url}/realms/{name}"
        self.methods = list(methods)
        self.server = _Server(provider)
        self.server.register_grant(_CodeGrant, [CodeChallenge(required=True), _IdTokens(self)])
        self.server.register_endpoint(_EndSession)

    def discovery(self) -> dict[str, Any]:
        issuer = self.issuer
        document = {
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/authorize",
            "token_endpoint": f"{issuer}/token",
            "jwks_uri": f"{issuer}/jwks",
            "end_session_endpoint": f"{issuer}/end_session",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": list(SCOPES),
            "token_endpoint_auth_methods_supported": self.methods,
            "code_challenge_methods_supported": ["S256"],
            "grant_types_supported": ["authorization_code"],
            "claims_supported": ["sub", "preferred_username", "email", "name", "groups"],
        }
        OpenIDProviderMetadata(document).validate()
        return document

    def answer(self, endpoint: str, request: _Request) -> Answer:
        server = self.server
        if endpoint == ".well-known/openid-configuration":
            return _json(self.discovery())
        if endpoint == "jwks":
            return _json(self.provider.jwks())
        if endpoint == "authorize":
            person = self.provider.people.get(request.args.get("login_as", ""))
            try:
                grant = server.get_consent_grant(request, end_user=person)
            except OAuth2Error as error:  # no redirect to a client it cannot trust
                return server.handle_error_response(request, error)
            return server.create_authorization_response(request, person, grant)
        if endpoint == "token" and request.method == "POST":
            return server.create_token_response(request)
        if endpoint == "end_session":
            return server.create_endpoint_response("end_session", request) or (
                200,
                b"You are logged out.",
                [("Content-Type", "text/plain")],
            )
        return 404, b"not found", [("Content-Type", "text/plain")]


def _json(body: Mapping[str, Any]) -> Answer:
    return 200, json.dumps(body).encode(), [("Content-Type", "application/json")]


class _Handler(BaseHTTPRequestHandler):
    server: _HttpServer

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: failures are in the provider's ``errors``

    def _serve(self) -> None:
        provider = self.server.provider
        split = urlsplit(self.path)
        query = parse_qs(split.query, keep_blank_values=True)
        length = int(self.headers.get("Content-Length") or 0)
        form = parse_qs(self.rfile.read(length).decode(), keep_blank_values=True)
        try:
            status, body, headers = provider.answer(
                self.command, f"{provider.url}{self.path}", self.headers, split.path, query, form
            )
        except Exception as error:  # kept for the test to see; the client gets a 500
            provider.errors.append(f"{self.command} {split.path}: {error!r}")
            status, body, headers = 500, b"provider fault", [("Content-Type", "text/plain")]
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    provider: OidcProvider


class OidcProvider:
    """The provider; ``start()`` it, ``stop()`` it. ``people`` by user name, ``clients``
    by id; ``logouts`` lists each ended session (``sub``, ``client_id``)."""

    def __init__(
        self,
        people: Sequence[Person],
        clients: Sequence[Client],
        realms: Mapping[str, Sequence[str]],
    ) -> None:
        self.people = {p.username: p for p in people}
        self.clients = {c.client_id: c for c in clients}
        self.codes: dict[str, Code] = {}
        self.logouts: list[dict[str, Any]] = []
        self.errors: list[str] = []
        self._keys = [_rsa("k1")]  # published; the last one signs
        self._realm_methods = dict(realms)
        self._http = _HttpServer(("127.0.0.1", 0), _Handler)
        self._http.provider = self
        self.url = f"http://127.0.0.1:{self._http.server_address[1]}"
        self.realms = {name: _Realm(self, name, m) for name, m in self._realm_methods.items()}
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)
        self.behave()

    def issuer(self, realm: str) -> str:
        return self.realms[realm].issuer

    def start(self) -> OidcProvider:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()
        self._thread.join(timeout=10)

    # -- misbehaving on purpose --

    def behave(self) -> None:
        self.wrong_nonce = False  # ID tokens carry another log-in's nonce
        self.rogue_key: RSAKey | None = None  # ID tokens are signed with this unpublished key
        self._offset = 0.0

    def advance(self, seconds: float) -> None:
        """Move the provider's clock on (authorization codes expire)."""
        self._offset += seconds

    def sign_with_unpublished_key(self, kid: str) -> None:
        self.rogue_key = _rsa(kid)

    def rotate_keys(self, kid: str) -> None:
        """Publish a new key and sign with it from now on."""
        self._keys.append(_rsa(kid))

    # -- what its parts use --

    def now(self) -> float:
        return time.time() + self._offset

    def signing_key(self) -> RSAKey:
        return self.rogue_key or self._keys[-1]

    def jwks(self) -> dict[str, Any]:
        return {"keys": [k.as_dict(private=False) for k in self._keys]}

    def answer(
        self,
        method: str,
        uri: str,
        headers: Any,
        path: str,
        query: dict[str, list[str]],
        form: dict[str, list[str]],
    ) -> Answer:
        parts = path.strip("/").split("/", 2)  # realms/<name>/<endpoint>
        if len(parts) != 3 or parts[0] != "realms" or parts[1] not in self.realms:
            return 404, b"no such realm", [("Content-Type", "text/plain")]
        request = _Request(method, uri, headers, query, form)
        return self.realms[parts[1]].answer(parts[2], request)


def _rsa(kid: str) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"})
