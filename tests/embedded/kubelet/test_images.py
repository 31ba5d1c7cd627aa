"""The image puller against a real registry: Debian's docker-registry on 127.0.0.1.

Most tests push to repositories of their own (``repo``) in a registry shared by the module
(one per xdist worker); tests that need auth, a corrupted store or a stopped registry start
their own. Image stores live in each test's ``tmp_path``. Nothing sleeps to synchronise:
registries are polled until ready, and ``Registry.settled()`` waits for the access log
before requests are counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
import os
import platform
import socket
import stat
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from tests.embedded.kubelet import oci_support as oci
from tests.embedded.kubelet.registry_support import (
    Registry,
    TokenIssuer,
    b64,
    free_port,
    pull_secret,
    serve_token_realm,
    start_registry,
)

from atoll.embedded.hostinfo import go_architecture
from atoll.embedded.kubelet.images import (
    BadImage,
    ImageConfig,
    ImageNeverPulled,
    ImageNotFound,
    ImageRef,
    ImageStore,
    InvalidImageName,
    PullUnauthorized,
    RegistryUnreachable,
    credentials_from_pull_secrets,
)

HOST_ARCH = go_architecture(platform.machine())
OTHER_ARCH = "arm64" if HOST_ARCH != "arm64" else "amd64"
PRIVILEGED = os.geteuid() == 0

RUNTIME_CONFIG = {
    "Entrypoint": ["/bin/app"],
    "Cmd": ["--serve"],
    "Env": ["PATH=/bin", "MODE=test"],
    "WorkingDir": "/srv",
    "User": "65534:65534",
    "ExposedPorts": {"8080/tcp": {}, "53/udp": {}},
    "Labels": {"org.example.team": "atoll"},
}


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    shared = start_registry(tmp_path_factory.mktemp("registry"))
    yield shared
    shared.stop()


@pytest.fixture
def own_registry(tmp_path: Path) -> Iterator[Registry]:
    """A registry for this test alone, for tests that stop or corrupt it."""
    started = start_registry(tmp_path / "registry")
    yield started
    started.stop()


@pytest.fixture
def repo() -> str:
    """A repository namespace that no other test uses."""
    return f"t{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[ImageStore]:
    images = ImageStore(tmp_path / "store")
    yield images
    await images.close()


def base_layer() -> oci.Blob:
    return oci.layer(
        {
            "etc/": oci.Dir(),
            "etc/os-release": "ID=atoll-test\n",
            "bin/": oci.Dir(),
            "bin/app": oci.File(b"#!/bin/sh\necho hi\n", mode=0o755),
            "a/": oci.Dir(),
            "a/keep": "keep",
            "a/gone": "gone",
            "a/gone-dir/": oci.Dir(),
            "a/gone-dir/inner": "inner",
            "b/": oci.Dir(mode=0o750),
            "b/old": "old",
            "b/sub/": oci.Dir(),
            "b/sub/old2": "old2",
            "c": "a file, later a directory",
            "owned": oci.File(b"mine", uid=1000, gid=1000),
            "dev/": oci.Dir(),
            "dev/null": oci.CharDevice(1, 3),
        }
    )


def top_layer() -> oci.Blob:
    return oci.layer(
        {
            "a/.wh.gone": b"",
            "a/.wh.gone-dir": b"",
            "b/new": "new",  # listed before the opaque marker: it must survive it
            "b/sub/": oci.Dir(),
            "b/sub/new2": "new2",
            "b/.wh..wh..opq": b"",
            "c/": oci.Dir(),
            "c/inside": "inside",
            "links/": oci.Dir(),
            "links/sym": oci.Symlink("/etc/os-release"),
            "links/hard": oci.Hardlink("etc/os-release"),
            "suid": oci.File(b"x", mode=0o4755),
        }
    )


async def push(registry: Registry, repository: str, img: oci.Image, tag: str = "v1") -> str:
    return await oci.Pusher(registry.url).push_image(repository, img, tag=tag)


def unique_layer() -> oci.Blob:
    return oci.layer({"id": uuid.uuid4().hex})


# ---- pulling ------------------------------------------------------------------------------


async def test_pull_by_tag_gives_config_digests_and_rootfs(
    registry: Registry, repo: str, store: ImageStore
) -> None:
    img = oci.image([base_layer(), top_layer()], config=RUNTIME_CONFIG)
    digest = await push(registry, f"{repo}/app", img)
    seen: list[tuple[int, int]] = []
    pulled = await store.pull(f"{registry.host}/{repo}/app:v1", progress=lambda *p: seen.append(p))
    assert pulled.digest == digest == img.digest
    assert pulled.image_id == img.config.digest
    assert pulled.size == sum(len(blob.data) for blob in img.blobs)
    assert seen[-1] == (pulled.size, pulled.size)
    assert pulled.config == ImageConfig(
        entrypoint=["/bin/app"],
        cmd=["--serve"],
        env=["PATH=/bin", "MODE=test"],
        working_dir="/srv",
        user="65534:65534",
        exposed_ports=["53/udp", "8080/tcp"],
        labels={"org.example.team": "atoll"},
    )
    assert (pulled.rootfs / "etc/os-release").read_text() == "ID=atoll-test\n"
    assert pulled.rootfs == store.root / "images" / img.config.digest[7:] / "rootfs"
    assert store.present(f"{registry.host}/{repo}/app:v1") == pulled


async def test_whiteouts_opaque_directories_modes_and_links(
    registry: Registry, repo: str, store: ImageStore
) -> None:
    await push(registry, f"{repo}/app", oci.image([base_layer(), top_layer()]))
    rootfs = (await store.pull(f"{registry.host}/{repo}/app:v1")).rootfs
    assert (rootfs / "a/keep").read_text() == "keep"
    assert not (rootfs / "a/gone").exists()
    assert not (rootfs / "a/gone-dir").exists()
    assert sorted(os.listdir(rootfs / "b")) == ["new", "sub"]
    assert os.listdir(rootfs / "b/sub") == ["new2"]
    assert (rootfs / "c/inside").read_text() == "inside"
    names = [n for _, dirs, files in os.walk(rootfs) for n in dirs + files]
    assert not [n for n in names if n.startswith(".wh.")]
    assert os.readlink(rootfs / "links/sym") == "/etc/os-release"
    assert (rootfs / "links/hard").stat().st_ino == (rootfs / "etc/os-release").stat().st_ino
    assert stat.S_IMODE((rootfs / "bin/app").stat().st_mode) == 0o755
    assert stat.S_IMODE((rootfs / "b").stat().st_mode) == 0o750
    assert stat.S_IMODE((rootfs / "suid").stat().st_mode) == 0o4755
    assert (rootfs / "a/keep").stat().st_mtime == oci.MTIME
    if PRIVILEGED:
        assert ((rootfs / "owned").stat().st_uid, (rootfs / "owned").stat().st_gid) == (1000, 1000)
    device = rootfs / "dev/null"  # created where mknod is allowed, skipped elsewhere
    assert not os.path.lexists(device) or stat.S_ISCHR(device.lstat().st_mode)


async def test_pull_by_digest_with_a_plain_tar_layer(
    registry: Registry, repo: str, store: ImageStore
) -> None:
    img = oci.image([oci.layer({"hello": "plain"}, media_type=oci.OCI_LAYER_TAR)])
    digest = await push(registry, f"{repo}/plain", img)
    by_digest = f"{registry.host}/{repo}/plain@{digest}"
    pulled = await store.pull(by_digest)
    assert (pulled.digest, pulled.image_id) == (digest, img.config.digest)
    assert (pulled.rootfs / "hello").read_text() == "plain"
    assert store.present(by_digest) == pulled
    assert store.present(f"{registry.host}/{repo}/plain:v1") is None  # never pulled by tag


@pytest.mark.parametrize("docker", [False, True], ids=["oci-index", "docker-manifest-list"])
async def test_an_index_is_narrowed_to_the_host_architecture(
    registry: Registry, repo: str, store: ImageStore, tmp_path: Path, docker: bool
) -> None:
    media_type = oci.DOCKER_LAYER if docker else oci.OCI_LAYER_GZIP
    images = [
        oci.image(
            [oci.layer({"arch": arch}, media_type=media_type)], architecture=arch, docker=docker
        )
        for arch in (OTHER_ARCH, HOST_ARCH)
    ]
    index_digest = await oci.Pusher(registry.url).push_index(
        f"{repo}/multi", images, "v1", docker=docker
    )
    pulled = await store.pull(f"{registry.host}/{repo}/multi:v1")
    assert (pulled.rootfs / "arch").read_text() == HOST_ARCH
    assert (pulled.digest, pulled.image_id) == (index_digest, images[1].config.digest)
    elsewhere = ImageStore(tmp_path / "s390x", architecture="s390x")
    try:
        with pytest.raises(ImageNotFound, match="linux/s390x"):
            await elsewhere.pull(f"{registry.host}/{repo}/multi:v1")
    finally:
        await elsewhere.close()


async def test_concurrent_pulls_fetch_each_blob_once(
    registry: Registry, repo: str, store: ImageStore
) -> None:
    img = oci.image([base_layer(), unique_layer()])
    await push(registry, f"{repo}/app", img)
    ref = f"{registry.host}/{repo}/app:v1"
    first, *others = await asyncio.gather(*(store.pull(ref) for _ in range(4)))
    assert all(other == first for other in others)
    registry.settled()
    assert len(registry.requests("GET", f"/v2/{repo}/app/blobs/")) == len(img.blobs)


async def test_cached_blobs_and_images_are_not_downloaded_again(
    registry: Registry, repo: str, store: ImageStore
) -> None:
    shared_base = base_layer()
    first = oci.image([shared_base, unique_layer()])
    await push(registry, f"{repo}/app", first)
    ref = f"{registry.host}/{repo}/app:v1"
    pulled = await store.pull(ref)
    again = await store.pull(ref, policy="Always")  # asks for the manifest, nothing else
    assert again == pulled
    registry.settled()
    assert len(registry.requests("GET", f"/v2/{repo}/app/manifests/v1")) == 2
    assert len(registry.requests("GET", f"/v2/{repo}/app/blobs/")) == len(first.blobs)

    second = oci.image([shared_base, unique_layer()])  # same base layer, new top layer
    await push(registry, f"{repo}/app", second, tag="v2")
    await store.pull(f"{registry.host}/{repo}/app:v2")
    registry.settled()
    fetched = {
        path.rsplit("/", 1)[1] for _, path, _ in registry.requests("GET", f"/v2/{repo}/app/blobs/")
    }
    assert shared_base.digest in fetched
    assert len(fetched) == len(first.blobs) + 2  # only the new config and top layer


async def test_present_images_survive_a_restart_without_the_registry(
    own_registry: Registry, repo: str, tmp_path: Path
) -> None:
    await push(own_registry, f"{repo}/app", oci.image([base_layer()]))
    ref = f"{own_registry.host}/{repo}/app:v1"
    store = ImageStore(tmp_path / "store")
    try:
        pulled = await store.pull(ref)
    finally:
        await store.close()
    own_registry.stop()

    restarted = ImageStore(tmp_path / "store")
    try:
        assert restarted.present(ref) == pulled
        assert await restarted.pull(ref) == pulled  # IfNotPresent: no network needed
        with pytest.raises(RegistryUnreachable):
            await restarted.pull(ref, policy="Always")
    finally:
        await restarted.close()


async def test_never_policy(registry: Registry, repo: str, store: ImageStore) -> None:
    await push(registry, f"{repo}/app", oci.image([unique_layer()]))
    ref = f"{registry.host}/{repo}/app:v1"
    with pytest.raises(ImageNeverPulled) as failure:
        await store.pull(ref, policy="Never")
    assert failure.value.reason == "ErrImageNeverPull"
    pulled = await store.pull(ref)
    assert await store.pull(ref, policy="Never") == pulled


async def test_missing_images_and_bad_names(
    registry: Registry, repo: str, store: ImageStore
) -> None:
    with pytest.raises(ImageNotFound) as failure:
        await store.pull(f"{registry.host}/{repo}/nothing:v1")
    assert (failure.value.kind, failure.value.reason) == ("not-found", "ErrImagePull")
    assert "manifest unknown" in failure.value.message
    with pytest.raises(InvalidImageName) as invalid:
        await store.pull("Not/A Valid:name")
    assert invalid.value.reason == "InvalidImageName"


# ---- auth ---------------------------------------------------------------------------------


async def test_basic_auth_with_a_dockerconfigjson_secret(
    tmp_path: Path, repo: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    registry = start_registry(tmp_path / "registry", users={"alice": "s3cret-pw"})
    store = ImageStore(tmp_path / "store")
    try:
        pusher = oci.Pusher(registry.url, authorization="Basic " + b64("alice:s3cret-pw"))
        await pusher.push_image(f"{repo}/private", oci.image([unique_layer()]), tag="v1")
        ref = f"{registry.host}/{repo}/private:v1"
        with pytest.raises(PullUnauthorized) as anonymous:
            await store.pull(ref)
        assert anonymous.value.kind == "unauthorized"
        wrong = pull_secret({registry.url: {"auth": b64("alice:wrong-pw")}})
        with pytest.raises(PullUnauthorized):
            await store.pull(ref, credentials=credentials_from_pull_secrets([wrong]))
        right = pull_secret({registry.host: {"auth": b64("alice:s3cret-pw")}})
        pulled = await store.pull(ref, credentials=credentials_from_pull_secrets([right]))
        assert pulled.image_id
    finally:
        await store.close()
        registry.stop()
    assert "s3cret-pw" not in caplog.text
    assert "wrong-pw" not in caplog.text


async def test_bearer_token_auth(tmp_path: Path, repo: str) -> None:
    issuer = TokenIssuer(users={"bob": "hunter2"})
    async with serve_token_realm(issuer):
        registry = start_registry(tmp_path / "registry", token=issuer)
        store = ImageStore(tmp_path / "store")
        try:
            pusher = oci.Pusher(
                registry.url, authorization=f"Bearer {issuer.push_token(f'{repo}/app')}"
            )
            await pusher.push_image(f"{repo}/app", oci.image([unique_layer()]), tag="v1")
            ref = f"{registry.host}/{repo}/app:v1"
            with pytest.raises(PullUnauthorized):
                await store.pull(ref)  # an anonymous token grants nothing
            with pytest.raises(PullUnauthorized):
                await store.pull(ref, credentials={registry.host: ("bob", "wrong")})
            await store.pull(ref, credentials={registry.host: ("bob", "hunter2")})
        finally:
            await store.close()
            registry.stop()
    claims = issuer.issued[-1]
    assert claims["sub"] == "bob"
    assert claims["access"] == [{"type": "repository", "name": f"{repo}/app", "actions": ["pull"]}]


# ---- endpoints ----------------------------------------------------------------------------


async def test_a_mirror_serves_docker_hub_images(
    registry: Registry, repo: str, tmp_path: Path
) -> None:
    img = oci.image([unique_layer()])
    await push(registry, f"library/{repo}", img, tag="1.0")  # as a pull-through cache holds it
    store = ImageStore(tmp_path / "store", mirrors={"docker.io": registry.url})
    try:
        pulled = await store.pull(f"{repo}:1.0")
    finally:
        await store.close()
    assert pulled.ref == ImageRef("docker.io", f"library/{repo}", "1.0", None)
    assert pulled.image_id == img.config.digest
    assert store.present(f"docker.io/library/{repo}:1.0") == pulled


async def test_a_failing_mirror_falls_back_to_the_registry(
    registry: Registry, repo: str, tmp_path: Path
) -> None:
    await push(registry, f"{repo}/app", oci.image([unique_layer()]))
    dead = f"http://127.0.0.1:{free_port()}"
    store = ImageStore(tmp_path / "store", mirrors={registry.host: dead})
    try:
        pulled = await store.pull(f"{registry.host}/{repo}/app:v1")
    finally:
        await store.close()
    assert pulled.rootfs.is_dir()


@contextlib.contextmanager
def black_hole() -> Iterator[str]:
    """A loopback address whose accept queue is full: SYNs go unanswered, connects hang."""
    with contextlib.ExitStack() as stack:
        listener = stack.enter_context(socket.socket())
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        for _ in range(4):  # the first fills the queue, the rest wait for answers never sent
            filler = stack.enter_context(socket.socket())
            filler.setblocking(False)
            filler.connect_ex(listener.getsockname())
        yield f"127.0.0.1:{listener.getsockname()[1]}"


@pytest.mark.parametrize("where", ["refused", "no-such-host", "black-hole"])
async def test_an_unreachable_registry_fails_fast(tmp_path: Path, where: str) -> None:
    with contextlib.ExitStack() as stack:
        host = {
            "refused": lambda: f"127.0.0.1:{free_port()}",
            "no-such-host": lambda: "registry.invalid",  # RFC 6761: never resolves
            "black-hole": lambda: stack.enter_context(black_hole()),
        }[where]()
        store = ImageStore(tmp_path / "store", connect_timeout=0.5)
        started = time.monotonic()
        try:
            with pytest.raises(RegistryUnreachable) as failure:
                await store.pull(f"{host}/app:v1")
        finally:
            await store.close()
        elapsed = time.monotonic() - started
    # loopback tries https, then http: at most two connect timeouts
    assert elapsed < 2.0, f"took {elapsed:.2f} s"
    assert (failure.value.kind, failure.value.reason) == ("unreachable", "ErrImagePull")


# ---- hostile content ----------------------------------------------------------------------


def leftovers(store: ImageStore) -> list[str]:
    """Anything in the store beyond verified blobs: partial downloads, unpacked images."""
    found = [p.name for p in (store.root / "blobs/sha256").glob(".*")]
    images = store.root / "images"
    return found + (os.listdir(images) if images.exists() else [])


async def test_a_blob_that_does_not_match_its_digest_is_rejected(
    own_registry: Registry, repo: str, store: ImageStore
) -> None:
    img = oci.image([unique_layer()])
    await push(own_registry, f"{repo}/app", img)
    stored = own_registry.blob_file(img.layers[0].digest)
    tampered = bytearray(stored.read_bytes())
    tampered[-1] ^= 0xFF
    stored.write_bytes(bytes(tampered))
    with pytest.raises(BadImage, match="does not match its digest") as failure:
        await store.pull(f"{own_registry.host}/{repo}/app:v1")
    assert failure.value.kind == "invalid"
    assert not (store.root / "blobs/sha256" / img.layers[0].digest[7:]).exists()
    assert leftovers(store) == []


@pytest.mark.parametrize(
    ("files", "why"),
    [
        ({"../escaped": "x"}, "leaves the root"),
        ({"ok/../../escaped": "x"}, "leaves the root"),
        ({"/escaped-absolute": "x"}, "absolute"),
        ({"ok": "x", "hard": oci.Hardlink("../../etc/passwd")}, "leaves the root"),
        ({"hard": oci.Hardlink("missing")}, "missing or directory"),
    ],
    ids=["dotdot", "nested-dotdot", "absolute", "hardlink-out", "hardlink-missing"],
)
async def test_layers_that_escape_the_root_are_refused(
    registry: Registry, repo: str, store: ImageStore, files: dict[str, oci.Entry], why: str
) -> None:
    await push(registry, f"{repo}/evil", oci.image([oci.layer(files)]))
    with pytest.raises(BadImage, match=why):
        await store.pull(f"{registry.host}/{repo}/evil:v1")
    assert leftovers(store) == []
    assert not (store.root / "escaped").exists()
    assert not (store.root / "images/escaped").exists()
    assert store.present(f"{registry.host}/{repo}/evil:v1") is None


async def test_symlinks_are_followed_inside_the_rootfs_only(
    registry: Registry, repo: str, store: ImageStore, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    files: dict[str, oci.Entry] = {
        "escape": oci.Symlink(str(outside)),
        "escape/planted": "absolute link",
        "up": oci.Symlink("../../../../.."),
        "up/planted-too": "relative link",
    }
    await push(registry, f"{repo}/links", oci.image([oci.layer(files)]))
    rootfs = (await store.pull(f"{registry.host}/{repo}/links:v1")).rootfs
    assert list(outside.iterdir()) == []
    assert (rootfs / str(outside).lstrip("/") / "planted").read_text() == "absolute link"
    assert (rootfs / "planted-too").read_text() == "relative link"
    assert os.readlink(rootfs / "escape") == str(outside)


async def test_zstd_layers_need_the_zstandard_package(
    registry: Registry, repo: str, store: ImageStore
) -> None:
    if importlib.util.find_spec("zstandard") is not None:
        pytest.skip("zstandard is installed here, so zstd layers are supported")
    await push(
        registry, f"{repo}/zstd", oci.image([oci.Blob(oci.OCI_LAYER_ZSTD, b"\x28\xb5\x2f\xfd")])
    )
    with pytest.raises(BadImage, match="zstandard"):
        await store.pull(f"{registry.host}/{repo}/zstd:v1")
    assert leftovers(store) == []
