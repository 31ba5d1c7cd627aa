"""Image references and pull-secret credentials: Docker's and Kubernetes' spellings."""

from __future__ import annotations

import json
import logging

import pytest
from tests.embedded.kubelet.registry_support import b64, pull_secret

from atoll.embedded.kubelet.image_references import (
    ImageRef,
    credentials_from_pull_secrets,
    is_loopback,
    registry_key,
)


@pytest.mark.parametrize(
    ("text", "registry", "repository", "tag", "digest"),
    [
        ("python:3.11", "docker.io", "library/python", "3.11", None),
        ("python", "docker.io", "library/python", "latest", None),
        ("index.docker.io/bitnami/redis", "docker.io", "bitnami/redis", "latest", None),
        ("registry-1.docker.io/library/busybox:1", "docker.io", "library/busybox", "1", None),
        ("127.0.0.1:5000/app", "127.0.0.1:5000", "app", "latest", None),
        ("localhost/team/app:v2", "localhost", "team/app", "v2", None),
        (
            "localhost:5000/x/y@sha256:" + "a" * 64,
            "localhost:5000",
            "x/y",
            None,
            "sha256:" + "a" * 64,
        ),
        ("[::1]:5000/app:t@sha256:" + "b" * 64, "[::1]:5000", "app", "t", "sha256:" + "b" * 64),
    ],
)
def test_references_parse_with_docker_rules(
    text: str, registry: str, repository: str, tag: str | None, digest: str | None
) -> None:
    ref = ImageRef.parse(text)
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == (
        registry,
        repository,
        tag,
        digest,
    )
    assert ImageRef.parse(str(ref)) == ref


def test_docker_hub_is_served_by_registry_1() -> None:
    assert ImageRef.parse("python:3.11").api_host == "registry-1.docker.io"
    assert str(ImageRef.parse("python:3.11")) == "docker.io/library/python:3.11"


@pytest.mark.parametrize(
    "text", ["", "Python", "a:b:c", "app@sha256:abc", "app@md5:" + "a" * 32, "a//b", "app:"]
)
def test_invalid_references_raise_value_error(text: str) -> None:
    with pytest.raises(ValueError, match="invalid reference"):
        ImageRef.parse(text)


def test_credentials_from_pull_secrets(caplog: pytest.LogCaptureFixture) -> None:
    dockercfg = {
        "type": "kubernetes.io/dockercfg",
        "data": {".dockercfg": b64(json.dumps({"https://quay.io": {"auth": b64("q:pw")}}))},
    }
    secrets = [
        pull_secret(
            {
                "https://index.docker.io/v1/": {"auth": b64("hub:pw1")},
                "127.0.0.1:5000": {"username": "u", "password": "p"},
                "registry.lan:5000": {
                    "username": "x",
                    "password": "y",
                    "auth": b64("a:pw:with:colons"),
                },
            }
        ),
        pull_secret({"127.0.0.1:5000": {"auth": b64("later:loses")}}),
        dockercfg,
        {"type": "Opaque", "data": {"x": b64("y")}},
        {
            "type": "kubernetes.io/dockerconfigjson",
            "metadata": {"name": "broken"},
            "data": {".dockerconfigjson": "!!"},
        },
    ]
    with caplog.at_level(logging.WARNING):
        found = credentials_from_pull_secrets(secrets)
    assert found == {
        "docker.io": ("hub", "pw1"),
        "127.0.0.1:5000": ("u", "p"),
        "registry.lan:5000": ("a", "pw:with:colons"),
        "quay.io": ("q", "pw"),
    }
    assert "broken" in caplog.text


@pytest.mark.parametrize(
    ("server", "key"),
    [
        ("https://index.docker.io/v1/", "docker.io"),
        ("registry-1.docker.io", "docker.io"),
        ("docker.io", "docker.io"),
        ("http://127.0.0.1:5000/v2/", "127.0.0.1:5000"),
        ("Quay.IO", "quay.io"),
    ],
)
def test_registry_keys_name_docker_hub_once(server: str, key: str) -> None:
    assert registry_key(server) == key


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("localhost:5000", True),
        ("127.0.0.1:5000", True),
        ("127.3.2.1", True),
        ("[::1]:5000", True),
        ("::1", True),
        ("registry.lan:5000", False),
        ("[2001:db8::1]:5000", False),
        ("docker.io", False),
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
