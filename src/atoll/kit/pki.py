"""A private certificate authority and a serving certificate, for servers on one machine.

kubectl (client-go) sends bearer tokens only over TLS, and a token sent in clear text is
a token given away, so the embedded API server always speaks HTTPS, and Atoll's server
offers HTTPS for kubectl too. On first start each creates a CA and a serving certificate
for its listen address under ``<data-dir>/pki`` (private keys 0600); the kubeconfigs they
hand out carry the CA, so every client verifies the server. A user who brings
``--tls-cert/--tls-key`` gets those served instead.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["KUBERNETES_NAMES", "ServingCertificate", "ensure_serving_certificate"]

_VALIDITY = dt.timedelta(days=3650)


@dataclass(frozen=True, slots=True)
class ServingCertificate:
    cert: Path
    key: Path
    ca: Path | None  # None when the user brought their own certificate


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _new_ca(directory: Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "atoll-embedded-ca")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    (directory / "ca.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    _write_private(directory / "ca.key", _key_pem(key))
    return cert, key


def _load_ca(directory: Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    cert = x509.load_pem_x509_certificate((directory / "ca.crt").read_bytes())
    key = serialization.load_pem_private_key((directory / "ca.key").read_bytes(), None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return cert, key


KUBERNETES_NAMES = (
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
)


def _sans(host: str, dns_names: tuple[str, ...]) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = [
        x509.DNSName("localhost"),
        *(x509.DNSName(name) for name in dns_names),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
    ]
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        names.append(x509.DNSName(host))
    else:
        if str(address) != "127.0.0.1":
            names.append(x509.IPAddress(address))
    return names


def _issue(directory: Path, host: str, common_name: str, dns_names: tuple[str, ...]) -> None:
    ca_cert, ca_key = _load_ca(directory)
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.SubjectAlternativeName(_sans(host, dns_names)), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    (directory / "apiserver.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    _write_private(directory / "apiserver.key", _key_pem(key))
    (directory / "apiserver.host").write_text(host)


def ensure_serving_certificate(
    data_dir: Path,
    host: str,
    *,
    common_name: str = "kube-apiserver",
    dns_names: tuple[str, ...] = KUBERNETES_NAMES,
) -> ServingCertificate:
    """Create (once) the CA and a serving certificate valid for ``host`` (and localhost,
    127.0.0.1 and ``dns_names``)."""
    directory = data_dir / "pki"
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not (directory / "ca.crt").exists():
        _new_ca(directory)
    host_file = directory / "apiserver.host"
    if not (directory / "apiserver.crt").exists() or (
        host_file.exists() and host_file.read_text() != host
    ):
        _issue(directory, host, common_name, dns_names)
    return ServingCertificate(
        directory / "apiserver.crt", directory / "apiserver.key", directory / "ca.crt"
    )
