"""A real registry for image tests: Debian's ``docker-registry`` (Distribution 2.8) on loopback.

``start_registry(workdir)`` writes its own config (filesystem storage under ``workdir``,
deletes enabled, ``http.addr`` 127.0.0.1 on a free port), starts it, and polls ``GET /v2/``
with a deadline until it answers. Variants:

- ``users={"alice": "secret"}``: htpasswd auth. Distribution accepts bcrypt hashes only;
  they come from libxcrypt (``libcrypt.so.1``, part of every Debian base system) through
  ctypes, so neither ``apache2-utils`` nor the ``bcrypt`` package is needed.
- ``token=TokenIssuer(...)``: token auth. The registry trusts the issuer's self-signed
  certificate; the issuer's tiny aiohttp realm (``serve_token_realm``) hands out ES256 JWTs
  carrying that certificate in ``x5c``, for users it knows.

``Registry.requests(...)`` reads the registry's access log, so a test can count what a pull
fetched. The log is written when a response completes; ``settled()`` waits until a probe
request shows up in it, after which every earlier request is there too.
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import ctypes.util
import datetime
import json
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

REGISTRY_BINARY = shutil.which("docker-registry") or "/usr/bin/docker-registry"
_ACCESS_LINE = re.compile(r'"(GET|HEAD|POST|PUT|PATCH|DELETE) (\S+) HTTP/[\d.]+" (\d{3})')


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def pull_secret(auths: Mapping[str, Any], name: str = "pull") -> dict[str, Any]:
    """A ``kubernetes.io/dockerconfigjson`` Secret as the API returns it (``data`` base64)."""
    document = json.dumps({"auths": auths})
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": "default"},
        "type": "kubernetes.io/dockerconfigjson",
        "data": {".dockerconfigjson": b64(document)},
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bcrypt_hash(password: str) -> str:
    """A ``$2b$`` bcrypt hash from libxcrypt (cost 5: fast enough for tests)."""
    lib = ctypes.CDLL(ctypes.util.find_library("crypt") or "libcrypt.so.1")
    lib.crypt_gensalt.restype = ctypes.c_char_p
    lib.crypt_gensalt.argtypes = [ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p, ctypes.c_int]
    lib.crypt.restype = ctypes.c_char_p
    lib.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    salt = lib.crypt_gensalt(b"$2b$", 5, None, 0)
    hashed = lib.crypt(password.encode(), salt)
    assert hashed and hashed.startswith(b"$2b$"), "libcrypt has no bcrypt"
    return str(hashed.decode())


@dataclass
class TokenIssuer:
    """Signs registry tokens (ES256 JWTs) for ``users`` with a self-signed certificate."""

    users: Mapping[str, str]
    service: str = "atoll-test-registry"
    issuer: str = "atoll-test-issuer"
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    realm: str = ""  # set once the realm is listening
    issued: list[dict[str, Any]] = field(default_factory=list)  # the claims of every token

    def __post_init__(self) -> None:
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, self.issuer)])
        now = datetime.datetime.now(datetime.UTC)
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )

    def certificate_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def token(self, subject: str, access: list[dict[str, Any]]) -> str:
        now = int(time.time())
        der = self.certificate.public_bytes(serialization.Encoding.DER)
        header = {"typ": "JWT", "alg": "ES256", "x5c": [base64.b64encode(der).decode()]}
        claims = {
            "iss": self.issuer,
            "sub": subject,
            "aud": self.service,
            "exp": now + 300,
            "nbf": now - 60,
            "iat": now,
            "jti": uuid.uuid4().hex,
            "access": access,
        }
        self.issued.append(claims)
        signing_input = (
            f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        )
        r, s = decode_dss_signature(
            self.key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
        )
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return f"{signing_input}.{_b64url(signature)}"

    def push_token(self, repository: str) -> str:
        return self.token(
            "tests", [{"type": "repository", "name": repository, "actions": ["pull", "push"]}]
        )

    async def handle(self, request: web.Request) -> web.Response:
        """The realm: anonymous callers get a token that grants nothing."""
        subject, access = "", []
        if header := request.headers.get("Authorization"):
            user, _, password = (
                base64.b64decode(header.removeprefix("Basic ")).decode().partition(":")
            )
            if self.users.get(user) != password:
                return web.json_response({"details": "wrong user or password"}, status=401)
            subject = user
            scope = request.query.get("scope", "")
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            access = [{"type": kind, "name": name, "actions": actions.split(",")}]
        return web.json_response({"token": self.token(subject, access), "expires_in": 300})


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@contextlib.asynccontextmanager
async def serve_token_realm(issuer: TokenIssuer) -> AsyncIterator[str]:
    """Serve ``issuer`` at ``http://127.0.0.1:<port>/token`` on this event loop."""
    app = web.Application()
    app.router.add_get("/token", issuer.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    issuer.realm = f"http://127.0.0.1:{port}/token"
    try:
        yield issuer.realm
    finally:
        await runner.cleanup()


@dataclass
class Registry:
    host: str  # "127.0.0.1:PORT"
    workdir: Path
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    @property
    def log(self) -> Path:
        return self.workdir / "registry.log"

    def blob_file(self, digest: str) -> Path:
        """Where the registry keeps a blob's bytes (filesystem driver layout)."""
        hex_digest = digest.removeprefix("sha256:")
        return (
            self.workdir
            / f"data/docker/registry/v2/blobs/sha256/{hex_digest[:2]}/{hex_digest}/data"
        )

    def requests(self, method: str = "GET", contains: str = "") -> list[tuple[str, str, int]]:
        """(method, path, status) of the logged requests matching ``method`` and ``contains``."""
        found = []
        for line in self.log.read_text(errors="replace").splitlines():
            if (match := _ACCESS_LINE.search(line)) and match[1] == method and contains in match[2]:
                found.append((match[1], match[2], int(match[3])))
        return found

    def settled(self, timeout: float = 10.0) -> None:
        """Return once the access log has caught up with every request made before."""
        marker = f"settled-{uuid.uuid4().hex}"
        with contextlib.suppress(urllib.error.HTTPError):
            urllib.request.urlopen(f"{self.url}/v2/{marker}/tags/list", timeout=timeout).close()
        deadline = time.monotonic() + timeout
        while not any(marker in path for _, path, _ in self.requests()):
            assert time.monotonic() < deadline, "the registry's access log did not catch up"
            time.sleep(0.02)  # a poll interval, not a synchronisation point

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_registry(
    workdir: Path,
    *,
    users: Mapping[str, str] | None = None,
    token: TokenIssuer | None = None,
    timeout: float = 30.0,
) -> Registry:
    """Start a registry on a free loopback port; retried on another port if it cannot bind."""
    if not Path(REGISTRY_BINARY).exists():
        raise AssertionError("docker-registry is not installed: run scripts/setup.sh as root")
    workdir.mkdir(parents=True, exist_ok=True)
    for _ in range(5):
        registry = _launch(workdir, free_port(), users, token)
        if _wait_ready(registry, timeout):
            return registry
        registry.stop()
    raise AssertionError(f"docker-registry did not start; see {workdir / 'registry.log'}")


def _launch(
    workdir: Path, port: int, users: Mapping[str, str] | None, token: TokenIssuer | None
) -> Registry:
    config: dict[str, Any] = {
        "version": 0.1,
        "log": {"level": "info", "accesslog": {"disabled": False}},
        "storage": {
            "filesystem": {"rootdirectory": str(workdir / "data")},
            "delete": {"enabled": True},
        },
        "http": {"addr": f"127.0.0.1:{port}"},
    }
    if users:
        htpasswd = workdir / "htpasswd"
        htpasswd.write_text("".join(f"{u}:{bcrypt_hash(p)}\n" for u, p in users.items()))
        config["auth"] = {"htpasswd": {"realm": "atoll-test", "path": str(htpasswd)}}
    if token:
        bundle = workdir / "token-ca.pem"
        bundle.write_bytes(token.certificate_pem())
        config["auth"] = {
            "token": {
                "realm": token.realm,
                "service": token.service,
                "issuer": token.issuer,
                "rootcertbundle": str(bundle),
            }
        }
    (workdir / "config.yml").write_text(yaml.safe_dump(config))
    with open(workdir / "registry.log", "ab") as log:
        process = subprocess.Popen(
            [REGISTRY_BINARY, "serve", str(workdir / "config.yml")],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return Registry(f"127.0.0.1:{port}", workdir, process)


def _wait_ready(registry: Registry, timeout: float) -> bool:
    """Poll ``/v2/`` until it answers (200, or 401 with auth on); False if the process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if registry.process.poll() is not None:
            return False
        try:
            urllib.request.urlopen(f"{registry.url}/v2/", timeout=1).close()
            return True
        except urllib.error.HTTPError as exc:
            return exc.code == 401
        except OSError:
            time.sleep(0.02)  # a poll interval, not a synchronisation point
    return False
