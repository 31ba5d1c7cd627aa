"""ClusterConfig from kubeconfig files and from a Pod's service account, and its TLS context."""

from __future__ import annotations

import base64
import datetime as dt
import ssl
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from tests.conftest import ClusterProcess

from atoll.kube.kubeconfig import ClusterConfig, KubeconfigError


def _self_signed() -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tester")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def _write(path: Path, doc: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(doc))
    return path


def _two_contexts(tmp_path: Path) -> Path:
    cert, key = _self_signed()
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "ca.crt").write_bytes(cert)
    (tmp_path / "certs" / "token").write_text("from-file\n")
    return _write(
        tmp_path / "config",
        {
            "apiVersion": "v1",
            "kind": "Config",
            "current-context": "a",
            "clusters": [
                {"name": "one", "cluster": {"server": "https://one.example:6443/"}},
                {
                    "name": "two",
                    "cluster": {
                        "server": "https://two.example",
                        "certificate-authority": "certs/ca.crt",
                        "tls-server-name": "api.two",
                    },
                },
            ],
            "users": [
                {"name": "token", "user": {"token": "s3cret"}},
                {
                    "name": "cert",
                    "user": {
                        "client-certificate-data": base64.b64encode(cert).decode(),
                        "client-key-data": base64.b64encode(key).decode(),
                        "tokenFile": "certs/token",
                    },
                },
                {"name": "plugin", "user": {"exec": {"command": "get-token"}}},
            ],
            "contexts": [
                {"name": "a", "context": {"cluster": "one", "user": "token"}},
                {"name": "b", "context": {"cluster": "two", "user": "cert", "namespace": "ns"}},
                {"name": "c", "context": {"cluster": "one", "user": "plugin"}},
                {"name": "d", "context": {"cluster": "missing", "user": "token"}},
            ],
        },
    )


def test_current_context_is_the_default(tmp_path: Path) -> None:
    config = ClusterConfig.from_kubeconfig(_two_contexts(tmp_path))
    assert config.server == "https://one.example:6443"
    assert config.token == "s3cret"
    assert config.read_token() == "s3cret"
    assert config.namespace == "default"
    assert "s3cret" not in repr(config)


def test_named_context_resolves_paths_against_the_file(tmp_path: Path) -> None:
    config = ClusterConfig.from_kubeconfig(_two_contexts(tmp_path), context="b")
    assert config.ca_path == tmp_path / "certs" / "ca.crt"
    assert config.token_file == tmp_path / "certs" / "token"
    assert config.read_token() == "from-file"
    assert config.tls_server_name == "api.two"
    assert config.namespace == "ns"
    assert config.client_key_data is not None
    assert b"PRIVATE KEY" not in repr(config).encode()
    ctx = config.ssl_context()  # loads the CA file and the client certificate from data
    assert isinstance(ctx, ssl.SSLContext)
    assert ctx.verify_mode == ssl.CERT_REQUIRED


@pytest.mark.parametrize(
    ("context", "problem"),
    [("c", "credential plugins"), ("d", "no cluster named"), ("zzz", "no context named")],
)
def test_unusable_contexts_fail_loudly(tmp_path: Path, context: str, problem: str) -> None:
    with pytest.raises(KubeconfigError, match=problem):
        ClusterConfig.from_kubeconfig(_two_contexts(tmp_path), context=context)


def test_unreadable_files_raise_kubeconfig_error(tmp_path: Path) -> None:
    with pytest.raises(KubeconfigError, match="cannot read"):
        ClusterConfig.from_kubeconfig(tmp_path / "absent")
    (tmp_path / "list").write_text("- 1\n")
    with pytest.raises(KubeconfigError, match="not a mapping"):
        ClusterConfig.from_kubeconfig(tmp_path / "list")


def test_embedded_cluster_kubeconfig(cluster: ClusterProcess) -> None:
    config = ClusterConfig.from_kubeconfig(cluster.kubeconfig)
    assert config.server == cluster.url
    assert config.token == cluster.token
    assert config.ca_data == cluster.ca.read_bytes()
    assert config.ssl_context() is not None


def test_insecure_and_plain_http() -> None:
    insecure = ClusterConfig("https://x", insecure=True).ssl_context()
    assert insecure is not None
    assert insecure.verify_mode == ssl.CERT_NONE
    assert not insecure.check_hostname
    assert ClusterConfig("http://127.0.0.1:8080").ssl_context() is None


def test_in_cluster(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("sa-token")
    (tmp_path / "namespace").write_text("team-a\n")
    env = {"KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"}
    config = ClusterConfig.in_cluster(environ=env, account_dir=tmp_path)
    assert config.server == "https://10.0.0.1:443"
    assert config.read_token() == "sa-token"
    assert config.namespace == "team-a"
    assert config.ca_path is None
    v6 = {"KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "443"}
    assert (
        ClusterConfig.in_cluster(environ=v6, account_dir=tmp_path).server == "https://[fd00::1]:443"
    )
    (tmp_path / "token").write_text("rotated")
    assert config.read_token() == "rotated"


def test_in_cluster_needs_the_environment_and_a_token(tmp_path: Path) -> None:
    with pytest.raises(KubeconfigError, match="not running in a cluster"):
        ClusterConfig.in_cluster(environ={}, account_dir=tmp_path)
    env = {"KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"}
    with pytest.raises(KubeconfigError, match="no service account token"):
        ClusterConfig.in_cluster(environ=env, account_dir=tmp_path)
