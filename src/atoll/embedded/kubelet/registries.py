"""The OCI distribution API as a puller speaks it: manifests, verified blobs, auth.

A ``Fetcher`` talks to one ``Endpoint`` (a base URL) about one repository:

- ``resolve(tag or digest)`` → (digest, manifest): ``GET /v2/<repo>/manifests/<ref>``
  accepting OCI index/manifest and Docker manifest list/v2; an index is narrowed to
  ``linux/<architecture>`` and that manifest fetched by digest. Manifest bytes are checked
  against a requested digest and kept in the blob directory, so they can be read offline.
- ``blob(descriptor)`` → path: ``GET /v2/<repo>/blobs/<digest>`` (redirects followed;
  aiohttp drops ``Authorization`` when a redirect leaves the origin) streamed into a
  temporary file while hashing; it is renamed to ``<blobs>/<hex>`` only when digest and
  size match, so a blob in the directory is always whole and right and is never fetched
  again. An ``asyncio.Lock`` per digest makes concurrent pulls of one blob wait for each
  other; unique temporary names keep other processes harmless too.
- Auth: every request goes anonymous first. A 401 with a ``Bearer`` challenge gets a
  token from the challenge's realm (basic auth when credentials were given), a ``Basic``
  challenge sends the credentials; the header is cached per (endpoint, repository,
  credentials) and the request retried once. Credentials and tokens are never logged or
  put in messages.

Errors (``reason`` is what containerStatuses show; ``kind`` lets a caller decide, e.g. a
kubelet runs the command on the host when the registry is ``unreachable``)::

    PullError                 reason ErrImagePull, kind "failed": 5xx, 429, untrusted TLS,
    │                         a download cut short
    ├── RegistryUnreachable   kind "unreachable": refused, DNS failure, connect timeout
    ├── ImageNotFound         kind "not-found": 404, no manifest for this platform
    ├── PullUnauthorized      kind "unauthorized": 401/403 after authenticating
    ├── BadImage              kind "invalid": digest mismatch, unsupported type, unsafe layer
    ├── ImageNeverPulled      reason ErrImageNeverPull: policy Never and not present
    └── InvalidImageName      reason InvalidImageName: the reference does not parse
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import re
import uuid
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

import aiohttp

from atoll.embedded.kubelet.image_references import DIGEST

__all__ = [
    "BadImage",
    "Descriptor",
    "Endpoint",
    "Fetcher",
    "ImageNeverPulled",
    "ImageNotFound",
    "InvalidImageName",
    "Progress",
    "ProgressCounter",
    "PullError",
    "PullUnauthorized",
    "RegistryClient",
    "RegistryUnreachable",
    "write_atomically",
]

Progress = Callable[[int, int], None]

_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
_DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
_MANIFEST_TYPES = ", ".join((_OCI_INDEX, _DOCKER_LIST, _OCI_MANIFEST, _DOCKER_MANIFEST))
_MAX_MANIFEST = 4 << 20  # what registries themselves accept
_CHALLENGE_PARAM = re.compile(r'(\w+)=(?:"([^"]*)"|([^,\s]*))')


class PullError(Exception):
    """An image could not be pulled; ``reason`` is the container's waiting reason."""

    reason: ClassVar[str] = "ErrImagePull"
    kind: ClassVar[str] = "failed"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class RegistryUnreachable(PullError):
    """No connection: refused, DNS failure, connect timeout, TLS handshake failed."""

    kind = "unreachable"


class ImageNotFound(PullError):
    """The registry has no such repository, tag or digest, or none for this platform."""

    kind = "not-found"


class PullUnauthorized(PullError):
    """Refused after authenticating, or authentication needed and no credentials given."""

    kind = "unauthorized"


class BadImage(PullError):
    """What the registry sent is wrong: digest mismatch, unsupported type, unsafe layer."""

    kind = "invalid"


class ImageNeverPulled(PullError):
    """Pull policy Never and the image is not present."""

    reason = "ErrImageNeverPull"
    kind = "not-present"


class InvalidImageName(PullError):
    """The reference does not parse."""

    reason = "InvalidImageName"
    kind = "invalid"


@dataclass(frozen=True, slots=True)
class Descriptor:
    """What a manifest says about a blob; only sha256 digests are accepted."""

    media_type: str
    digest: str
    size: int

    @classmethod
    def of(cls, value: Any) -> Descriptor:
        if not isinstance(value, Mapping):
            raise BadImage("manifest: a descriptor is not an object")
        digest, size = value.get("digest"), value.get("size")
        if not isinstance(digest, str) or not DIGEST.fullmatch(digest):
            raise BadImage(f"manifest: unsupported digest {digest!r} (sha256 only)")
        if not isinstance(size, int) or size < 0:
            raise BadImage(f"manifest: bad size for {digest}")
        return cls(str(value.get("mediaType") or ""), digest, size)


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One place to pull from: a base URL and the rules for moving on when it fails."""

    base: str  # "https://registry-1.docker.io"
    host: str  # whose credentials apply: "docker.io", "127.0.0.1:5001"
    verify_tls: bool
    fall_back_on: tuple[type[PullError], ...]  # errors that try the next endpoint instead


@dataclass(slots=True)
class ProgressCounter:
    """Bytes of blobs so far, reported as ``(done, total)`` after each chunk."""

    total: int
    report: Progress | None
    done: int = 0

    def add(self, amount: int) -> None:
        self.done += amount
        if self.report is not None:
            self.report(self.done, self.total)


@dataclass(slots=True)
class RegistryClient:
    """What every request of a store shares: the HTTP session, tokens, locks, blob directory."""

    blobs: Path
    architecture: str
    timeout: aiohttp.ClientTimeout
    # (base URL, repository, credentials) → Authorization header. The credentials are part
    # of the key so that a pull without a pod's secret never rides on a token another pod's
    # secret obtained.
    auth: dict[tuple[str, str, tuple[str, str] | None], str] = field(default_factory=dict)
    locks: defaultdict[str, asyncio.Lock] = field(default_factory=lambda: defaultdict(asyncio.Lock))
    session: aiohttp.ClientSession | None = None

    def http(self) -> aiohttp.ClientSession:
        if self.session is None:
            self.session = aiohttp.ClientSession(
                timeout=self.timeout,
                auto_decompress=False,  # blobs are checked byte for byte against their digest
                trust_env=False,
                headers={"User-Agent": "atoll-kubelet", "Accept-Encoding": "identity"},
            )
        return self.session

    def blob_path(self, digest: str) -> Path:
        return self.blobs / digest.removeprefix("sha256:")

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
            self.session = None


class Fetcher:
    """Requests to one endpoint for one repository, authenticating when challenged."""

    def __init__(
        self,
        client: RegistryClient,
        endpoint: Endpoint,
        repository: str,
        creds: tuple[str, str] | None,
    ) -> None:
        self._client = client
        self._endpoint = endpoint
        self._repository = repository
        self._creds = creds

    async def resolve(self, reference: str) -> tuple[str, dict[str, Any]]:
        """The digest ``reference`` resolves to, and the image manifest for this platform."""
        digest, manifest = await self._manifest(reference)
        if manifest.get("mediaType") in (_OCI_INDEX, _DOCKER_LIST) or "manifests" in manifest:
            _, manifest = await self._manifest(self._platform_manifest(manifest).digest)
        media_type = manifest.get("mediaType")
        if "config" not in manifest or media_type not in (_OCI_MANIFEST, _DOCKER_MANIFEST, None):
            raise BadImage(f"{reference}: unsupported manifest type {media_type!r}")
        return digest, manifest

    def _platform_manifest(self, index: Mapping[str, Any]) -> Descriptor:
        arch = self._client.architecture
        for entry in index.get("manifests") or []:
            wanted = entry.get("platform") if isinstance(entry, Mapping) else None
            if isinstance(wanted, Mapping) and _platform(wanted) == ("linux", arch):
                return Descriptor.of(entry)
        raise ImageNotFound(f"no matching manifest for linux/{arch} in the manifest list entries")

    async def _manifest(self, reference: str) -> tuple[str, dict[str, Any]]:
        response = await self._get(f"manifests/{reference}", accept=_MANIFEST_TYPES)
        async with response:
            body = await _read_body(response, _MAX_MANIFEST, f"manifest {reference}")
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        if DIGEST.fullmatch(reference) and digest != reference:
            raise BadImage(f"manifest {reference}: content has digest {digest}")
        try:
            manifest = json.loads(body)
        except ValueError:
            raise BadImage(f"manifest {reference} is not JSON") from None
        if not isinstance(manifest, dict):
            raise BadImage(f"manifest {reference} is not a JSON object")
        await asyncio.to_thread(_write_blob_if_missing, self._client.blob_path(digest), body)
        return digest, manifest

    async def blob(self, descriptor: Descriptor, counter: ProgressCounter) -> Path:
        """The blob's path in the store, downloaded and verified unless already there."""
        path = self._client.blob_path(descriptor.digest)
        async with self._client.locks[descriptor.digest]:
            if path.exists():
                counter.add(descriptor.size)
            else:
                await self._download(descriptor, path, counter)
        return path

    async def _download(self, descriptor: Descriptor, path: Path, counter: ProgressCounter) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.partial")
        hasher, received = hashlib.sha256(), 0
        try:
            response = await self._get(f"blobs/{descriptor.digest}")
            async with response:
                with partial.open("wb") as out:
                    async for chunk in response.content.iter_chunked(1 << 20):
                        received += len(chunk)
                        if received > descriptor.size:
                            break
                        hasher.update(chunk)
                        await asyncio.to_thread(out.write, chunk)
                        counter.add(len(chunk))
            actual = "sha256:" + hasher.hexdigest()
            if actual != descriptor.digest or received != descriptor.size:
                raise BadImage(
                    f"blob {descriptor.digest}: content does not match its digest and size"
                )
            os.replace(partial, path)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise PullError(
                f"blob {descriptor.digest}: download failed: {exc or 'timed out'}"
            ) from None
        finally:
            partial.unlink(missing_ok=True)

    async def _get(self, path: str, *, accept: str | None = None) -> aiohttp.ClientResponse:
        """GET ``/v2/<repository>/<path>``, authenticating on a 401; only a 200 is returned."""
        key = (self._endpoint.base, self._repository, self._creds)
        url = f"{self._endpoint.base}/v2/{self._repository}/{path}"
        for attempt in (1, 2):
            headers = {"Accept": accept} if accept else {}
            if key in self._client.auth:
                headers["Authorization"] = self._client.auth[key]
            response = await self._send(url, headers, verify=self._endpoint.verify_tls)
            if response.status != 401 or attempt == 2:
                break
            challenge = response.headers.get("WWW-Authenticate", "")
            response.release()
            self._client.auth[key] = await self._authorization(challenge)
        if response.status == 200:
            return response
        async with response:
            detail = await _error_text(response)
        raise _status_error(
            response.status, f"{self._repository}/{path}", self._endpoint.base, detail
        )

    async def _send(
        self,
        url: str,
        headers: Mapping[str, str],
        *,
        verify: bool,
        params: Mapping[str, str] | None = None,
    ) -> aiohttp.ClientResponse:
        where = "{0.scheme}://{0.netloc}".format(urlsplit(url))  # never the query: no secrets
        try:
            http = self._client.http()
            return await http.get(url, headers=headers, ssl=verify, params=params)
        except aiohttp.ClientConnectorCertificateError as exc:
            raise PullError(
                f"{where}: TLS certificate not trusted ({exc.certificate_error})"
            ) from None
        except (aiohttp.ClientConnectionError, TimeoutError) as exc:
            raise RegistryUnreachable(f"cannot reach {where}: {exc or 'timed out'}") from None
        except aiohttp.ClientError as exc:  # too many redirects, a bad redirect URL, ...
            raise PullError(f"{where}: {exc}") from None

    async def _authorization(self, challenge: str) -> str:
        """The ``Authorization`` header answering a ``WWW-Authenticate`` challenge."""
        scheme, _, rest = challenge.strip().partition(" ")
        params = {m[1].lower(): m[2] or m[3] for m in _CHALLENGE_PARAM.finditer(rest)}
        if scheme.lower() == "basic" and self._creds is not None:
            return _basic(self._creds)
        if scheme.lower() == "bearer" and params.get("realm", "").startswith(
            ("https://", "http://")
        ):
            return f"Bearer {await self._token(params)}"
        why = "no credentials" if self._creds is None else f"unsupported challenge {scheme!r}"
        raise PullUnauthorized(
            f"{self._endpoint.base}/{self._repository}: authentication required ({why})"
        )

    async def _token(self, params: Mapping[str, str]) -> str:
        realm = params["realm"]
        scope = params.get("scope") or f"repository:{self._repository}:pull"
        query = {"service": params.get("service", ""), "scope": scope}
        # The realm may be another host (auth.docker.io): only this registry's own realm
        # inherits its relaxed TLS rules.
        same_host = urlsplit(realm).netloc == urlsplit(self._endpoint.base).netloc
        verify = self._endpoint.verify_tls or not same_host
        headers = {"Authorization": _basic(self._creds)} if self._creds is not None else {}
        async with await self._send(realm, headers, verify=verify, params=query) as response:
            if response.status != 200:
                raise _status_error(response.status, "token", realm, await _error_text(response))
            body = await _read_body(response, 1 << 20, "token answer")
        try:
            answer = json.loads(body)
            token = answer.get("token") or answer.get("access_token")
        except (ValueError, AttributeError):
            token = None
        if not isinstance(token, str) or not token:
            raise PullError(f"token endpoint {realm} gave no token")
        return token


def _basic(creds: tuple[str, str]) -> str:
    """A ``Basic`` header; UTF-8, as Docker's Go client sends it."""
    return "Basic " + base64.b64encode(f"{creds[0]}:{creds[1]}".encode()).decode()


def _platform(wanted: Mapping[str, Any]) -> tuple[Any, Any]:
    return wanted.get("os"), wanted.get("architecture")


def _status_error(status: int, what: str, base: str, detail: str) -> PullError:
    said = f"{what}: {detail or 'no details'} (HTTP {status} from {base})"
    if status == 404:
        return ImageNotFound(said)
    if status in (401, 403):
        return PullUnauthorized(said)
    return PullError(said)


async def _read_body(response: aiohttp.ClientResponse, limit: int, what: str) -> bytes:
    try:
        body = await _read_up_to(response, limit + 1)
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise PullError(f"{what}: reading failed: {exc or 'timed out'}") from None
    if len(body) > limit:
        raise BadImage(f"{what} is larger than {limit} bytes")
    return body


async def _read_up_to(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """The body, or its first ``limit`` bytes (``content.read(n)`` may return fewer)."""
    body = bytearray()
    while len(body) < limit and (chunk := await response.content.read(limit - len(body))):
        body += chunk
    return bytes(body)


async def _error_text(response: aiohttp.ClientResponse) -> str:
    """The registry's ``errors[].message``, or the start of the body."""
    try:
        body = (await _read_up_to(response, 4096)).decode(errors="replace")
    except (aiohttp.ClientError, TimeoutError):
        return ""
    try:
        errors = json.loads(body).get("errors") or []
        return "; ".join(str(e.get("message") or e.get("code")) for e in errors)
    except (ValueError, AttributeError):
        return body[:200].strip()


def write_atomically(path: Path, content: bytes) -> None:
    """Write through a uniquely named temporary file and a rename: readers see old or new."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.partial")
    partial.write_bytes(content)
    os.replace(partial, path)


def _write_blob_if_missing(path: Path, content: bytes) -> None:
    if not path.exists():
        write_atomically(path, content)
