"""The web console: the files Vite built (``console/dist``), served at ``/``.

Every path outside the API is the console's (``console_path``): anyone may load it, since
the console logs in through the API, which stays protected. The API is ``/api``, ``/apis``,
``/kapis``, ``/oauth``, ``/version``, ``/openapi`` and the same under
``/clusters/<c>/`` (the cluster proxy), and the probes (``/healthz``, ``/readyz``,
``/metrics``); so ``/clusters/host/projects/web`` is a console page while
``/clusters/host/api/v1/pods`` is the proxy's.

``ConsoleFiles`` answers a GET (or HEAD) that no route took, on a console path:

- a file of the directory, as it is; under ``/assets/`` (named by their content's hash)
  cached for a year as ``immutable``, anything else revalidated (``no-cache``, with an
  ETag). A ``.br`` or ``.gz`` sibling is sent instead, with ``Content-Encoding``, when the
  request's ``Accept-Encoding`` takes it (Vite writes them; without them, the file itself);
- a missing file under ``/assets/`` is a 404 (a stale page asking for an old build's chunk
  must fail as such, not get HTML);
- any other path is ``index.html`` (``no-cache``), so deep links load the console, whose
  router shows the page.

Without the directory (or before the console is built into it) every console path answers a
short page saying so. The directory is looked at per request, so a console built while
Atoll runs is served at once. Anything else gets what the router would have answered.
"""

from __future__ import annotations

import asyncio
import mimetypes
import os
import stat
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.datastructures import Headers
from starlette.responses import FileResponse, HTMLResponse, Response

from .access import in_cluster
from .problems import problem

__all__ = ["ConsoleFiles", "accepts", "console_path"]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_API_ROOTS = frozenset(
    {"api", "apis", "kapis", "oauth", "version", "openapi", "healthz", "readyz", "metrics"}
)
ASSETS = "/assets/"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
INDEX = "index.html"
_ENCODINGS = (("br", ".br"), ("gzip", ".gz"))  # the smaller first
NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Atoll</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 4em auto">
<h1>Atoll</h1>
<p>The web console is not built. Run <code>make setup</code> (it builds
<code>console/dist</code>), then reload this page.</p>
<p>The API answers as usual: see <a href="/kapis/openapi.json">/kapis/openapi.json</a>.</p>
</body></html>
"""


def console_path(path: str) -> bool:
    """Whether ``path`` is the console's: outside the API and the probes."""
    if in_cluster(path)[1] != path:
        return False  # /clusters/<c>/api…: that cluster's API, through the proxy
    return path.lstrip("/").split("/", 1)[0] not in _API_ROOTS


def accepts(accept_encoding: str, coding: str) -> bool:
    """Whether an ``Accept-Encoding`` value takes ``coding``: named, or by ``*``, with a
    quality above 0."""
    named: float | None = None
    anything: float | None = None
    for entry in accept_encoding.split(","):
        token, *parameters = (part.strip() for part in entry.split(";"))
        quality = 1.0
        for parameter in parameters:
            key, _, value = parameter.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if token.lower() == coding:
            named = quality
        elif token == "*":
            anything = quality
    chosen = named if named is not None else anything
    return chosen is not None and chosen > 0


@dataclass(frozen=True)
class _Found:
    """The file to send for a request: ``sent`` (maybe a compressed sibling of ``file``)."""

    file: Path
    sent: Path
    stat: os.stat_result
    encoding: str | None
    compressed: bool  # whether siblings exist: the answer varies with Accept-Encoding


def _regular(path: Path) -> os.stat_result | None:
    try:
        found = path.stat()
    except (OSError, ValueError):  # missing, not a directory on the way, a NUL in the name
        return None
    return found if stat.S_ISREG(found.st_mode) else None


def _find(root: Path, relative: str, accept_encoding: str) -> _Found | None:
    """The file ``relative`` of ``root`` (never outside it), or its best compressed sibling."""
    try:
        base = root.resolve()
        file = (base / relative).resolve()
    except (OSError, ValueError):
        return None
    if not file.is_relative_to(base):
        return None
    found = _regular(file)
    if found is None:
        return None
    siblings = False
    for coding, suffix in _ENCODINGS:
        sibling = file.with_name(file.name + suffix)
        sibling_stat = _regular(sibling)
        siblings = siblings or sibling_stat is not None
        if sibling_stat is not None and accepts(accept_encoding, coding):
            return _Found(file, sibling, sibling_stat, coding, True)
    return _Found(file, file, found, None, siblings)


def _unchanged(request: Headers, response: Response) -> bool:
    tags = request.get("if-none-match")
    etag = response.headers.get("etag")
    if not tags or etag is None:
        return False
    return tags.strip() == "*" or etag in (t.strip().removeprefix("W/") for t in tags.split(","))


class ConsoleFiles:
    """The router's answer when no route matched: the console on its paths, ``otherwise``
    (the router's own 404) elsewhere."""

    def __init__(self, directory: Path | None, otherwise: ASGIApp) -> None:
        self.directory = directory
        self.otherwise = otherwise

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in ("GET", "HEAD")
            or not console_path(scope["path"])
        ):
            await self.otherwise(scope, receive, send)
            return
        response = await self.answer(scope["path"], Headers(scope=scope))
        await response(scope, receive, send)

    async def answer(self, path: str, headers: Headers) -> Response:
        if self.directory is None:
            return _not_built()
        encodings = headers.get("accept-encoding", "")
        relative = path.lstrip("/")
        found = await asyncio.to_thread(_find, self.directory, relative, encodings)
        cache = IMMUTABLE if path.startswith(ASSETS) else REVALIDATE
        if found is None:
            if path.startswith(ASSETS):
                return problem(404, f"{path} is not part of this console's build")
            found = await asyncio.to_thread(_find, self.directory, INDEX, encodings)
            cache = REVALIDATE
            if found is None:
                return _not_built()
        return _send(found, cache, headers)


def _send(found: _Found, cache: str, request: Headers) -> Response:
    headers = {"cache-control": cache}
    if found.encoding is not None:
        headers["content-encoding"] = found.encoding
    if found.compressed:
        headers["vary"] = "Accept-Encoding"
    media_type = mimetypes.guess_type(found.file.name)[0] or "application/octet-stream"
    response = FileResponse(
        found.sent, headers=headers, media_type=media_type, stat_result=found.stat
    )
    if _unchanged(request, response):
        kept = {k: v for k, v in response.headers.items() if k in ("cache-control", "etag", "vary")}
        return Response(status_code=304, headers=kept)
    return response


def _not_built() -> Response:
    return HTMLResponse(NOT_BUILT, headers={"cache-control": REVALIDATE})
