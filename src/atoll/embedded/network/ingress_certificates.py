"""TLS for the ingress proxy: the fallback certificate and server contexts from Secrets.

The fallback is what ingress-nginx serves for names no Ingress has a certificate for: a
self-signed certificate made at start (EC P-256, CN "Atoll Ingress Fake Certificate").
Contexts are built from a Secret's PEM chain and key, checked with ``cryptography`` first so
a bad Secret gets a clear message, and loaded from an in-memory file so keys never touch a
disk.
"""

from __future__ import annotations

import datetime as dt
import os
import ssl
import tempfile
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

__all__ = ["FAKE_CERTIFICATE_CN", "fake_certificate", "server_context"]

FAKE_CERTIFICATE_CN = "Atoll Ingress Fake Certificate"


def fake_certificate() -> tuple[bytes, bytes]:
    """A self-signed certificate and key (PEM) for names no Ingress has a certificate for."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Atoll"),
            x509.NameAttribute(NameOID.COMMON_NAME, FAKE_CERTIFICATE_CN),
        ]
    )
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("ingress.local")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def server_context(chain: bytes, key: bytes) -> ssl.SSLContext:
    """A server context for a PEM chain and key, checked with ``cryptography`` first so a
    bad Secret gets a clear message rather than OpenSSL's "PEM lib"."""
    x509.load_pem_x509_certificates(chain)  # ValueError when not a PEM certificate
    serialization.load_pem_private_key(key, None)  # ValueError/TypeError when bad or encrypted
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_alpn_protocols(["http/1.1"])
    _load_chain(context, chain + b"\n" + key)
    return context


def _load_chain(context: ssl.SSLContext, pem: bytes) -> None:
    """``load_cert_chain`` reads files only: hand it an in-memory file where Linux has one,
    so private keys never touch a disk; elsewhere a private temporary file."""
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("atoll-ingress-certificate")
        try:
            with open(fd, "wb", closefd=False) as out:
                out.write(pem)
            context.load_cert_chain(f"/proc/self/fd/{fd}")
        finally:
            os.close(fd)
        return
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "chain.pem"
        path.write_bytes(pem)
        context.load_cert_chain(path)
