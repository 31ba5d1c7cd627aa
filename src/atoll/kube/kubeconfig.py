"""Where a cluster is and how to prove who we are: kubeconfig files and in-cluster config.

``ClusterConfig`` is the one value every ``KubeClient`` is built from, whichever way it was
found: a kubeconfig file (``from_kubeconfig``, as kubectl reads it: relative paths resolve
against the file's directory, ``*-data`` fields win over paths) or a Pod's service account
(``in_cluster``). Secrets (token, client key) never appear in ``repr`` and are never logged.

Credential plugins (``exec``, ``auth-provider``) are not supported; such a user fails loudly
with ``KubeconfigError`` rather than silently sending no credentials.
"""

from __future__ import annotations

import base64
import os
import ssl
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = ["SERVICE_ACCOUNT_DIR", "ClusterConfig", "KubeconfigError", "running_in_pod"]

SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")


class KubeconfigError(ValueError):
    """A kubeconfig (or in-cluster set-up) that cannot be used; the message says why."""


def running_in_pod(
    *, environ: Mapping[str, str] | None = None, account_dir: Path = SERVICE_ACCOUNT_DIR
) -> bool:
    """Whether ``ClusterConfig.in_cluster`` has what it needs: the API server's Service in the
    environment and a mounted service-account token."""
    env = os.environ if environ is None else environ
    return bool(env.get("KUBERNETES_SERVICE_HOST")) and (account_dir / "token").is_file()


@dataclass(frozen=True, slots=True)
class ClusterConfig:
    """How to reach one API server. Paths are absolute; ``*_data`` holds PEM bytes."""

    server: str
    token: str | None = field(default=None, repr=False)
    # Re-read periodically by the client: projected service-account tokens rotate.
    token_file: Path | None = None
    ca_data: bytes | None = field(default=None, repr=False)
    ca_path: Path | None = None
    client_cert_data: bytes | None = field(default=None, repr=False)
    client_cert_path: Path | None = None
    client_key_data: bytes | None = field(default=None, repr=False)
    client_key_path: Path | None = None
    insecure: bool = False
    tls_server_name: str | None = None
    namespace: str = "default"

    @classmethod
    def from_kubeconfig(cls, path: Path | str, context: str | None = None) -> ClusterConfig:
        """Read a kubeconfig file; ``context`` defaults to its ``current-context``."""
        path = Path(path).expanduser()
        try:
            doc = yaml.safe_load(path.read_text())
        except (OSError, yaml.YAMLError) as exc:
            raise KubeconfigError(f"cannot read kubeconfig {path}: {exc}") from None
        return cls._from_document(doc, str(path), path.parent, context)

    @classmethod
    def from_kubeconfig_text(cls, text: str, context: str | None = None) -> ClusterConfig:
        """A kubeconfig given as text (uploaded, stored in a Secret): everything it needs
        must be in it, so files it names are refused."""
        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise KubeconfigError(f"the kubeconfig is not YAML: {exc}") from None
        return cls._from_document(doc, "the kubeconfig", None, context)

    @classmethod
    def _from_document(
        cls, doc: object, source: str, base: Path | None, context: str | None
    ) -> ClusterConfig:
        if not isinstance(doc, Mapping):
            raise KubeconfigError(f"{source} is not a mapping")
        name = context or doc.get("current-context")
        if not name:
            raise KubeconfigError(f"{source} has no current-context")
        where = Path(source)
        ctx = _named(doc, "contexts", "context", str(name), where)
        cluster = _named(doc, "clusters", "cluster", str(ctx.get("cluster", "")), where)
        user = _named(doc, "users", "user", str(ctx["user"]), where) if ctx.get("user") else {}
        if "exec" in user or "auth-provider" in user:
            raise KubeconfigError(f"user {ctx.get('user')!r}: credential plugins are not supported")
        if not cluster.get("server"):
            raise KubeconfigError(f"cluster {ctx.get('cluster')!r} has no server")
        if base is None:
            files = [
                key
                for key, found in (
                    ("certificate-authority", cluster),
                    ("client-certificate", user),
                    ("client-key", user),
                    ("tokenFile", user),
                )
                if found.get(key)
            ]
            if files:
                raise KubeconfigError(
                    f"{source} names files ({', '.join(files)}): embed them instead "
                    "(certificate-authority-data, client-certificate-data, client-key-data, "
                    "token)"
                )
            base = Path("/")
        return cls(
            server=str(cluster["server"]).rstrip("/"),
            token=user.get("token") or None,
            token_file=_path(user.get("tokenFile"), base),
            ca_data=_data(cluster.get("certificate-authority-data")),
            ca_path=_path(cluster.get("certificate-authority"), base),
            client_cert_data=_data(user.get("client-certificate-data")),
            client_cert_path=_path(user.get("client-certificate"), base),
            client_key_data=_data(user.get("client-key-data")),
            client_key_path=_path(user.get("client-key"), base),
            insecure=bool(cluster.get("insecure-skip-tls-verify", False)),
            tls_server_name=cluster.get("tls-server-name") or None,
            namespace=str(ctx.get("namespace") or "default"),
        )

    @classmethod
    def in_cluster(
        cls,
        *,
        environ: Mapping[str, str] | None = None,
        account_dir: Path = SERVICE_ACCOUNT_DIR,
    ) -> ClusterConfig:
        """The config of a process running in a Pod (client-go's ``InClusterConfig``)."""
        env = os.environ if environ is None else environ
        host, port = env.get("KUBERNETES_SERVICE_HOST"), env.get("KUBERNETES_SERVICE_PORT")
        if not host or not port:
            raise KubeconfigError(
                "not running in a cluster: KUBERNETES_SERVICE_HOST and "
                "KUBERNETES_SERVICE_PORT must be set"
            )
        token_file = account_dir / "token"
        if not token_file.is_file():
            raise KubeconfigError(f"no service account token at {token_file}")
        namespace_file = account_dir / "namespace"
        namespace = (
            namespace_file.read_text().strip() if namespace_file.is_file() else ""
        ) or "default"
        ca = account_dir / "ca.crt"
        host = f"[{host}]" if ":" in host else host
        return cls(
            server=f"https://{host}:{port}",
            token_file=token_file,
            ca_path=ca if ca.is_file() else None,
            namespace=namespace,
        )

    def read_token(self) -> str | None:
        """The bearer token: from ``token_file`` when set (it may have rotated), else ``token``."""
        if self.token_file is not None:
            try:
                return self.token_file.read_text().strip() or self.token
            except OSError:
                return self.token
        return self.token

    def ssl_context(self) -> ssl.SSLContext | None:
        """TLS settings for an ``https`` server; None for plain ``http``."""
        if not self.server.startswith("https://"):
            return None
        if self.insecure:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        elif self.ca_data is not None:
            ctx = ssl.create_default_context(cadata=self.ca_data.decode())
        elif self.ca_path is not None:
            ctx = ssl.create_default_context(cafile=str(self.ca_path))
        else:
            ctx = ssl.create_default_context()
        self._load_client_certificate(ctx)
        return ctx

    def _load_client_certificate(self, ctx: ssl.SSLContext) -> None:
        cert, key = self.client_cert_data, self.client_key_data
        if cert is None and key is None:
            if self.client_cert_path is not None:
                ctx.load_cert_chain(self.client_cert_path, self.client_key_path)
            return
        # ssl loads certificates only from files: write PEM data to a private temp dir.
        with tempfile.TemporaryDirectory(prefix="atoll-tls-") as tmp:
            cert_file = Path(tmp, "client.crt")
            key_file = Path(tmp, "client.key")
            cert_file.write_bytes(cert if cert is not None else _read(self.client_cert_path))
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(key if key is not None else _read(self.client_key_path))
            ctx.load_cert_chain(cert_file, key_file)


def _named(doc: Mapping[str, Any], section: str, field_: str, name: str, path: Path) -> Any:
    for entry in doc.get(section) or []:
        if isinstance(entry, Mapping) and entry.get("name") == name:
            value = entry.get(field_) or {}
            if not isinstance(value, Mapping):
                raise KubeconfigError(f"{section} entry {name!r} in {path} is malformed")
            return value
    raise KubeconfigError(f"kubeconfig {path} has no {field_} named {name!r}")


def _data(value: Any) -> bytes | None:
    if not value:
        return None
    try:
        return base64.b64decode(str(value), validate=True)
    except ValueError:
        raise KubeconfigError("a *-data field is not valid base64") from None


def _path(value: Any, base: Path) -> Path | None:
    if not value:
        return None
    return (base / Path(str(value)).expanduser()).resolve()


def _read(path: Path | None) -> bytes:
    if path is None:
        raise KubeconfigError("a client certificate needs both a certificate and a key")
    return path.read_bytes()
