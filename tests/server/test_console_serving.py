"""The web console at ``/``: its files (compressed siblings when the client takes them,
hashed assets cached for good), every other page path answered with ``index.html`` so deep
links load, a page saying how to build it when it is not built, all of it public while the
API beside it stays protected.

Most of it in-process (no lifespan: the console needs no cluster); one real ``atoll up``
shows the setting ``ATOLL_SERVER__CONSOLE_DIR`` reaching the server."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import APIRouter
from starlette.testclient import TestClient
from tests.server.atoll_process import Atoll, http, start_atoll

from atoll.kube.kubeconfig import ClusterConfig
from atoll.server.app import create_app
from atoll.server.components import Component, discover
from atoll.server.console import accepts, console_path

INDEX = b"<!doctype html><title>Atoll console</title>"
SCRIPT = b"console.log('atoll');" * 50
IMMUTABLE = "public, max-age=31536000, immutable"


def built_console(root: Path) -> Path:
    """A dist directory as Vite leaves it: index.html, hashed assets, a .gz sibling."""
    dist = root / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_bytes(INDEX)
    (dist / "assets" / "app-abc.js").write_bytes(SCRIPT)
    (dist / "assets" / "app-abc.js.gz").write_bytes(gzip.compress(SCRIPT))
    (dist / "assets" / "app-abc.css").write_bytes(b"body{}")  # below Vite's threshold: no .gz
    (dist / "favicon.svg").write_bytes(b"<svg/>")
    return dist


def _client(console_dir: Path | None) -> TestClient:
    nowhere = ClusterConfig(server="https://127.0.0.1:1")  # never reached: no lifespan runs
    app = create_app(nowhere, discover(), data_dir=Path("/nonexistent"), console_dir=console_dir)
    return TestClient(app)


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return built_console(tmp_path_factory.mktemp("console"))


@pytest.fixture
def console(dist: Path) -> TestClient:
    return _client(dist)


def test_index_and_deep_links_are_the_console_revalidated(console: TestClient) -> None:
    for path in ("/", "/index.html", "/clusters/host/projects/web/deployments/x", "/login"):
        answer = console.get(path)
        assert answer.status_code == 200, path
        assert answer.content == INDEX
        assert answer.headers["content-type"] == "text/html; charset=utf-8"
        assert answer.headers["cache-control"] == "no-cache"
    etag = console.get("/").headers["etag"]
    again = console.get("/workspaces", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.headers["etag"] == etag


def test_assets_are_cached_for_good_and_sent_compressed_when_taken(console: TestClient) -> None:
    gzipped = console.get("/assets/app-abc.js", headers={"Accept-Encoding": "gzip, br"})
    assert gzipped.status_code == 200
    assert gzipped.headers["content-encoding"] == "gzip"
    assert gzipped.headers["vary"] == "Accept-Encoding"
    assert gzipped.headers["cache-control"] == IMMUTABLE
    assert gzipped.headers["content-type"].startswith("text/javascript")
    assert gzipped.content == SCRIPT  # the client undid the encoding
    plain = console.get("/assets/app-abc.js", headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "content-encoding" not in plain.headers and plain.content == SCRIPT
    assert plain.headers["content-length"] == str(len(SCRIPT))
    alone = console.get("/assets/app-abc.css", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in alone.headers and alone.content == b"body{}"
    assert alone.headers["cache-control"] == IMMUTABLE
    other = console.get("/favicon.svg")
    assert other.content == b"<svg/>" and other.headers["cache-control"] == "no-cache"
    head = console.head("/assets/app-abc.js", headers={"Accept-Encoding": "identity"})
    assert head.status_code == 200 and head.headers["content-length"] == str(len(SCRIPT))


def test_brotli_wins_where_it_is_built_and_taken(tmp_path: Path) -> None:
    dist = built_console(tmp_path)
    (dist / "assets" / "app-abc.js.br").write_bytes(b"not really brotli")
    console = _client(dist)
    answer = console.get("/assets/app-abc.js", headers={"Accept-Encoding": "gzip, br"})
    assert answer.headers["content-encoding"] == "br"
    answer = console.get("/assets/app-abc.js", headers={"Accept-Encoding": "gzip"})
    assert answer.headers["content-encoding"] == "gzip"


def test_a_missing_asset_is_not_answered_with_html(console: TestClient) -> None:
    answer = console.get("/assets/app-old.js")
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"


def test_nothing_outside_the_directory_is_served(console: TestClient, dist: Path) -> None:
    (dist.parent / "secret.txt").write_text("never")
    for path in ("/../secret.txt", "/assets/../../secret.txt", "/%2e%2e/secret.txt"):
        answer = console.get(path)
        assert b"never" not in answer.content, path


def test_the_api_stays_protected_and_answers_as_before(console: TestClient) -> None:
    for path in (
        "/api/v1/namespaces",
        "/apis/apps/v1/deployments",
        "/clusters/host/api/v1/pods",
        "/clusters/prod/apis/apps/v1/deployments",
        "/kapis/iam.atoll.io/v1alpha1/me",
        "/version",
        "/clusters/host/version",
        "/openapi/v2",
    ):
        assert console.get(path).status_code == 401, path
    assert console.get("/kapis/openapi.json").status_code == 200
    assert console.get("/healthz").text == "ok"
    missing = console.post("/clusters/host/projects/web")  # only GETs are pages
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"


def test_console_paths_are_told_from_api_paths() -> None:
    assert console_path("/") and console_path("/clusters/host/projects/web")
    assert console_path("/clusters/host") and console_path("/apiary")
    for path in ("/api", "/apis/x", "/kapis/x", "/oauth/token", "/clusters/c/api/v1", "/metrics"):
        assert not console_path(path), path
    assert accepts("gzip, deflate, br", "br") and accepts("*", "gzip")
    assert not accepts("gzip;q=0", "gzip") and not accepts("br", "gzip")
    assert not accepts("*, gzip;q=0", "gzip") and not accepts("", "gzip")


def test_without_a_built_console_the_pages_say_how_to_build_it(tmp_path: Path) -> None:
    for console_dir in (None, tmp_path / "missing", tmp_path):  # none, absent, not built
        console = _client(console_dir)
        for path in ("/", "/clusters/host/projects/web"):
            answer = console.get(path)
            assert answer.status_code == 200
            assert answer.headers["content-type"] == "text/html; charset=utf-8"
            assert "not built" in answer.text and "make setup" in answer.text
        assert console.get("/api/v1/pods").status_code == 401


def test_a_console_built_while_atoll_runs_is_served_at_once(tmp_path: Path) -> None:
    console = _client(tmp_path / "dist")
    assert "not built" in console.get("/").text
    built_console(tmp_path)
    assert console.get("/").content == INDEX


def test_the_consoles_hits_are_one_route_in_the_metrics(console: TestClient) -> None:
    for n in range(3):
        console.get(f"/clusters/host/projects/p{n}")
    metrics = console.get("/metrics").text
    assert 'route="console"' in metrics
    assert "/clusters/host/projects" not in metrics


def test_a_component_route_outside_the_api_is_refused() -> None:
    """It would be public, as the console's pages are."""
    stray = APIRouter()

    @stray.get("/dashboard")
    async def dashboard() -> str:
        return "secret"

    component = Component(name="stray", description="routes outside the API", routers=(stray,))
    with pytest.raises(ValueError, match="/dashboard"):
        create_app(
            ClusterConfig(server="https://127.0.0.1:1"), [component], data_dir=Path("/nonexistent")
        )


# -- through atoll up -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, dist: Path) -> Iterator[Atoll]:
    atoll = start_atoll(
        tmp_path_factory.mktemp("atoll-console") / "data", ATOLL_SERVER__CONSOLE_DIR=str(dist)
    )
    yield atoll
    atoll.stop()


def test_atoll_up_serves_the_console_of_its_setting(served: Atoll) -> None:
    session = http()
    page = session.get(f"{served.url}/clusters/host/projects/web/deployments/x", timeout=10)
    assert page.status_code == 200 and page.content == INDEX
    script = session.get(
        f"{served.url}/assets/app-abc.js", headers={"Accept-Encoding": "gzip"}, timeout=10
    )
    assert script.headers["content-encoding"] == "gzip" and script.content == SCRIPT
    assert script.headers["cache-control"] == IMMUTABLE
    assert session.get(f"{served.url}/api/v1/namespaces", timeout=10).status_code == 401
    me = session.get(f"{served.url}/kapis/iam.atoll.io/v1alpha1/me", timeout=10)
    assert me.status_code == 401
