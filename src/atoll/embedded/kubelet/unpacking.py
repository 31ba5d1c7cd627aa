"""Extracting image layers into a rootfs, with OCI whiteouts, safely. Blocking: run in a thread.

``unpack_layers([(blob path, media type), ...], dest)`` applies the layers in order, the way
containerd's ``applyNaive`` does:

- ``.wh.<name>`` deletes ``<name>`` from the layers below; ``.wh..wh..opq`` empties its
  directory of everything the layers below put there (entries of the same layer stay,
  whichever order the tar lists them in). Whiteout files themselves are never created.
- Nothing is written outside ``dest``: absolute member names and ``..`` components are
  refused, and the directories a member goes into are resolved *inside* ``dest`` (a symlink
  ``etc -> /host/etc`` is followed as ``dest/host/etc``, like a chroot would), so a layer
  cannot plant a link and then write through it. Symlinks themselves may point anywhere;
  they are only ever followed within the rootfs. Hard links must name an existing non-directory
  inside ``dest``.
- Regular files replace what was there (unlinked first, so a hard-linked file from a lower
  layer is not changed through its other name). Modes, times and, as root, owners are kept;
  device nodes are created only when allowed (as root with CAP_MKNOD) and skipped otherwise.
- gzip and plain tar are recognised from their bytes; zstd needs the ``zstandard`` package.

A refused layer raises ``LayerError``; the caller throws the partial rootfs away.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import shutil
import stat
import tarfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

__all__ = ["LayerError", "unpack_layers"]

logger = logging.getLogger(__name__)

_ZSTD_TYPES = frozenset(
    {
        "application/vnd.oci.image.layer.v1.tar+zstd",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
    }
)
_OTHER_TYPES = frozenset(
    {
        "application/vnd.oci.image.layer.v1.tar",
        "application/vnd.oci.image.layer.v1.tar+gzip",
        "application/vnd.oci.image.layer.nondistributable.v1.tar",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
        "application/vnd.docker.image.rootfs.diff.tar.gzip",
        "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
        "",  # no media type given: trust the bytes
    }
)
_WHITEOUT = ".wh."
_OPAQUE = ".wh..wh..opq"
_MAX_SYMLINKS = 40  # Linux's limit when resolving a path


class LayerError(Exception):
    """A layer cannot be applied: unsupported, unreadable or unsafe."""


def unpack_layers(layers: Sequence[tuple[Path, str]], dest: Path) -> None:
    """Apply ``layers`` (blob path, media type), lowest first, to a new directory ``dest``."""
    dest.mkdir(parents=True)
    for path, media_type in layers:
        with _open_layer(path, media_type) as tar:
            try:
                _LayerWriter(dest).apply(tar)
            except (tarfile.TarError, EOFError, OSError) as exc:
                raise LayerError(f"{path.name}: {exc}") from None


@contextlib.contextmanager
def _open_layer(path: Path, media_type: str) -> Iterator[tarfile.TarFile]:
    if media_type not in _ZSTD_TYPES and media_type not in _OTHER_TYPES:
        raise LayerError(f"unsupported layer media type {media_type!r}")
    with contextlib.ExitStack() as stack:
        raw: IO[bytes] = stack.enter_context(path.open("rb"))
        if media_type in _ZSTD_TYPES:
            raw = stack.enter_context(_zstd_reader(raw))
        try:
            tar = stack.enter_context(tarfile.open(fileobj=raw, mode="r|*"))  # gzip or plain
        except tarfile.TarError as exc:
            raise LayerError(f"{path.name}: not a tar archive ({exc})") from None
        yield tar


def _zstd_reader(raw: IO[bytes]) -> Any:
    try:
        zstandard = importlib.import_module("zstandard")  # optional: not a dependency
    except ModuleNotFoundError:
        raise LayerError("zstd-compressed layers need the 'zstandard' package") from None
    return zstandard.ZstdDecompressor().stream_reader(raw)


def _clean(name: str) -> str:
    """A member name as a relative path ("" for the root); absolute or ``..`` is refused."""
    if name.startswith("/"):
        raise LayerError(f"unsafe path {name!r}: absolute")
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise LayerError(f"unsafe path {name!r}: leaves the root")
    return "/".join(parts)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif os.path.lexists(path):
        path.unlink()


class _LayerWriter:
    """Applies one layer; remembers what it wrote, for opaque directories."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.written: set[Path] = set()
        self.directories: list[tuple[Path, tarfile.TarInfo]] = []
        self.privileged = os.geteuid() == 0

    def apply(self, tar: tarfile.TarFile) -> None:
        for member in tar:
            relative = _clean(member.name)
            if not relative:
                continue  # the root itself: keep dest's own mode
            parent_name, _, base = relative.rpartition("/")
            parent = self.resolve(parent_name)
            if base == _OPAQUE:
                self.make_opaque(parent)
            elif base.startswith(_WHITEOUT):
                self.whiteout(parent / base.removeprefix(_WHITEOUT))
            else:
                parent.mkdir(parents=True, exist_ok=True)
                self.create(tar, member, parent / base)
        for path, member in reversed(self.directories):  # children first: times stick
            self.set_metadata(path, member)

    def resolve(self, relative: str) -> Path:
        """``relative`` inside the root, following symlinks as if the root were ``/``."""
        pending = [part for part in relative.split("/") if part not in ("", ".")]
        current: list[str] = []
        links = 0
        while pending:
            part = pending.pop(0)
            if part == "..":
                current = current[:-1]
                continue
            candidate = self.root.joinpath(*current, part)
            if not candidate.is_symlink():
                current.append(part)
                continue
            links += 1
            if links > _MAX_SYMLINKS:
                raise LayerError(f"too many levels of symbolic links in {relative!r}")
            target = os.readlink(candidate)
            current = [] if target.startswith("/") else current
            pending = [p for p in target.split("/") if p not in ("", ".")] + pending
        return self.root.joinpath(*current)

    def whiteout(self, path: Path) -> None:
        if path not in self.written:
            _remove(path)

    def make_opaque(self, directory: Path) -> None:
        """Remove what lower layers put under ``directory``; keep this layer's entries."""
        if not directory.is_dir() or directory.is_symlink():
            return
        for child in list(directory.iterdir()):
            if child not in self.written:
                _remove(child)
            elif child.is_dir() and not child.is_symlink():
                self.make_opaque(child)

    def create(self, tar: tarfile.TarFile, member: tarfile.TarInfo, path: Path) -> None:
        self.written.add(path)
        if member.isdir():
            if not path.is_dir() or path.is_symlink():
                _remove(path)
                path.mkdir(mode=0o700)
            self.directories.append((path, member))
            return
        _remove(path)
        if member.isreg():
            self.write_file(tar, member, path)
        elif member.issym():
            os.symlink(member.linkname, path)
        elif member.islnk():
            self.hard_link(member, path)
        elif not self.special_file(member, path):
            return
        self.set_metadata(path, member)

    def write_file(self, tar: tarfile.TarFile, member: tarfile.TarInfo, path: Path) -> None:
        source = tar.extractfile(member)
        assert source is not None  # a regular file always has content
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(source, out, 1 << 20)

    def hard_link(self, member: tarfile.TarInfo, path: Path) -> None:
        parent_name, _, base = _clean(member.linkname).rpartition("/")
        source = self.resolve(parent_name) / base
        if not base or not os.path.lexists(source) or (source.is_dir() and not source.is_symlink()):
            raise LayerError(
                f"hard link {member.name!r} to missing or directory {member.linkname!r}"
            )
        os.link(source, path, follow_symlinks=False)

    def special_file(self, member: tarfile.TarInfo, path: Path) -> bool:
        """Create a device node or FIFO; False when skipped."""
        if member.isfifo():
            os.mkfifo(path)
            return True
        if not (member.ischr() or member.isblk()):
            logger.debug("skipping %s: unsupported tar member type", member.name)
            return False
        kind = stat.S_IFCHR if member.ischr() else stat.S_IFBLK
        try:
            os.mknod(path, kind | 0o600, os.makedev(member.devmajor, member.devminor))
        except PermissionError:
            logger.debug("skipping device node %s: not permitted", member.name)
            return False
        return True

    def set_metadata(self, path: Path, member: tarfile.TarInfo) -> None:
        if self.privileged:
            os.lchown(path, member.uid, member.gid)  # before chmod: chown clears setuid
        if not member.issym():
            os.chmod(path, member.mode & 0o7777)
        os.utime(path, (member.mtime, member.mtime), follow_symlinks=False)
