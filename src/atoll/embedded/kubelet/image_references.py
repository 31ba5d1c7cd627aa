"""Image references and registry credentials, as Docker and Kubernetes spell them.

``ImageRef.parse`` follows Docker's reference grammar (distribution/reference): a first
component with a dot or a colon, or ``localhost``, is a registry; anything else is on Docker
Hub, where one-component names live under ``library/``. ``python:3.11`` is therefore
``docker.io/library/python:3.11``; ``localhost:5000/x/y@sha256:<hex>`` and
``127.0.0.1:5000/app`` (tag ``latest``) name local registries. Docker Hub answers to
``docker.io``, ``index.docker.io`` and ``registry-1.docker.io``: all three become
``docker.io`` here, in credentials and in mirror settings, and ``api_host`` says where its
API is served. Only sha256 digests are accepted, because the puller verifies every blob.

``credentials_from_pull_secrets`` reads the Secrets named by a pod's ``imagePullSecrets``
(``kubernetes.io/dockerconfigjson`` and the older ``kubernetes.io/dockercfg``) into
registry → (user, password), keyed like ``registry_key`` (a path after the host is ignored).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "DIGEST",
    "DOCKER_HUB",
    "ImageRef",
    "credentials_from_pull_secrets",
    "is_loopback",
    "registry_key",
]

logger = logging.getLogger(__name__)

DOCKER_HUB = "docker.io"
_DOCKER_HUB_API = "registry-1.docker.io"
_DOCKER_HUB_ALIASES = frozenset({DOCKER_HUB, "index.docker.io", _DOCKER_HUB_API})

# Docker's reference grammar, sha256 digests only.
_DOMAIN_PART = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = re.compile(rf"(?:{_DOMAIN_PART}(?:\.{_DOMAIN_PART})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?")
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_PATH = re.compile(rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*")
_TAG = re.compile(r"[\w][\w.-]{0,127}")
DIGEST = re.compile(r"sha256:[a-f0-9]{64}")


@dataclass(frozen=True, slots=True)
class ImageRef:
    """A parsed image reference; ``registry`` is ``docker.io`` for Docker Hub."""

    registry: str
    repository: str
    tag: str | None
    digest: str | None

    @classmethod
    def parse(cls, ref: str) -> ImageRef:
        """Parse with Docker's rules: ``python:3.11`` is ``docker.io/library/python:3.11``."""
        name, at, digest = ref.partition("@")
        if at and not DIGEST.fullmatch(digest):
            raise ValueError(f"invalid reference {ref!r}: digest must be sha256:<64 hex>")
        tag: str | None = None
        if name.rfind(":") > name.rfind("/"):
            name, _, tag = name.rpartition(":")
            if not _TAG.fullmatch(tag):
                raise ValueError(f"invalid reference {ref!r}: bad tag {tag!r}")
        first, slash, rest = name.partition("/")
        if slash and (
            "." in first or ":" in first or first == "localhost" or first.lower() != first
        ):
            registry, repository = first, rest
        else:
            registry, repository = DOCKER_HUB, name
        if not _DOMAIN.fullmatch(registry) or not _PATH.fullmatch(repository):
            lower = _PATH.fullmatch(repository.lower()) and _DOMAIN.fullmatch(registry)
            why = "repository name must be lowercase" if lower else "invalid reference format"
            raise ValueError(f"invalid reference {ref!r}: {why}")
        registry = DOCKER_HUB if registry.lower() in _DOCKER_HUB_ALIASES else registry
        if registry == DOCKER_HUB and "/" not in repository:
            repository = f"library/{repository}"
        if len(registry) + 1 + len(repository) > 255:
            raise ValueError(f"invalid reference {ref!r}: name longer than 255 characters")
        return cls(registry, repository, tag if tag or at else "latest", digest or None)

    @property
    def name(self) -> str:
        return f"{self.registry}/{self.repository}"

    @property
    def reference(self) -> str:
        """What the manifest URL ends with: the digest when there is one, else the tag."""
        return self.digest or self.tag or "latest"

    @property
    def api_host(self) -> str:
        return _DOCKER_HUB_API if self.registry == DOCKER_HUB else self.registry

    def __str__(self) -> str:
        tag = f":{self.tag}" if self.tag else ""
        digest = f"@{self.digest}" if self.digest else ""
        return f"{self.name}{tag}{digest}"


def registry_key(server: str) -> str:
    """``https://index.docker.io/v1/`` → ``docker.io``; ``http://h:5000/x`` → ``h:5000``."""
    host = server.strip().split("://", 1)[-1].split("/", 1)[0].lower()
    return DOCKER_HUB if host in _DOCKER_HUB_ALIASES else host


def credentials_from_pull_secrets(
    secrets: Iterable[Mapping[str, Any]],
) -> dict[str, tuple[str, str]]:
    """Registry → (user, password) from ``kubernetes.io/dockerconfigjson`` and ``dockercfg``
    Secrets. The first Secret naming a registry wins; unreadable ones are skipped."""
    found: dict[str, tuple[str, str]] = {}
    for secret in secrets:
        for server, entry in _docker_config_entries(secret):
            user_password = _user_password(entry)
            if user_password is not None:
                found.setdefault(registry_key(server), user_password)
    return found


_SECRET_KEYS = {
    "kubernetes.io/dockerconfigjson": ".dockerconfigjson",  # {"auths": {server: entry}}
    "kubernetes.io/dockercfg": ".dockercfg",  # {server: entry}
}


def _docker_config_entries(secret: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    key = _SECRET_KEYS.get(str(secret.get("type")))
    if key is None:
        return []
    try:
        encoded = (secret.get("data") or {}).get(key)
        if encoded is not None:
            document = json.loads(base64.b64decode(encoded, validate=True))
        else:  # not stored yet: stringData holds the plain JSON
            document = json.loads((secret.get("stringData") or {})[key])
        entries = document.get("auths") if key == ".dockerconfigjson" else document
        return [(str(k), v) for k, v in entries.items() if isinstance(v, Mapping)]
    except (KeyError, TypeError, ValueError, AttributeError, binascii.Error):
        name = (secret.get("metadata") or {}).get("name", "?")
        logger.warning("image pull secret %s has no readable %s; ignoring it", name, key)
        return []


def _user_password(entry: Mapping[str, Any]) -> tuple[str, str] | None:
    """``auth`` (base64 ``user:password``) wins over the separate fields, as in Kubernetes."""
    auth = entry.get("auth")
    if isinstance(auth, str) and auth:
        try:
            user, colon, password = base64.b64decode(auth).decode().partition(":")
        except (ValueError, binascii.Error):
            return None
        return (user, password) if colon else None
    username, secret = entry.get("username"), entry.get("password")
    if isinstance(username, str) and username and isinstance(secret, str):
        return (username, secret)
    return None


def is_loopback(host: str) -> bool:
    """``localhost``, 127/8 or ``::1``, with or without a port."""
    if host.startswith("["):  # [::1]:5000
        name = host[1:].partition("]")[0]
    else:  # 127.0.0.1:5000, or a bare IPv6 address
        name = host.rpartition(":")[0] if host.count(":") == 1 else host
    name = name.lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False
