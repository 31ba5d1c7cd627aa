"""``GET /kapis/auditing.atoll.io/v1alpha1/events`` through a small app, and the component
that serves it: 503 until started, then its sink fills the trail the route searches."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx2
import pytest
from fastapi import FastAPI
from tests.components.auditing.audit_support import event

from atoll.components.auditing import AuditTrail
from atoll.components.auditing.component import component
from atoll.components.auditing.routes import PREFIX, auditing_router
from atoll.server.access import Pipeline
from atoll.server.components import ComponentContext
from atoll.server.problems import PROBLEM_JSON, install_problem_handlers

EVENTS = f"{PREFIX}/events"


def app_with(*routers: object) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    for router in routers:
        app.include_router(router)  # type: ignore[arg-type]
    return app


def client_of(app: FastAPI) -> httpx2.AsyncClient:
    return httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://atoll")


@pytest.fixture
async def client(trail: AuditTrail) -> AsyncIterator[httpx2.AsyncClient]:
    for i in range(30):
        trail.record(event(i, verb="delete" if i % 3 else "create", code=403 if i % 5 else 200))
    assert trail.flush()
    async with client_of(app_with(auditing_router(lambda: trail.directory))) as opened:
        yield opened


async def test_events_newest_first_filtered_and_paged(client: httpx2.AsyncClient) -> None:
    answer = await client.get(EVENTS, params={"verb": "delete", "code": "4xx", "limit": 5})
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    body = answer.json()
    assert body["totalItems"] == 16
    assert [item["name"] for item in body["items"]] == [f"cm-{i}" for i in (29, 28, 26, 23, 22)]
    assert set(body["items"][0]) >= {"time", "user", "source", "verb", "path", "code", "reason"}
    page = await client.get(
        EVENTS,
        params={"page": 2, "limit": 10, "start": "2024-05-01T12:00:10Z", "end": "1714564819"},
    )
    assert page.json() == {"items": [], "totalItems": 10}


@pytest.mark.parametrize(
    ("params", "status", "detail"),
    [
        ({"start": "soon"}, 400, "start is neither an RFC 3339 time nor unix seconds"),
        ({"code": "4x"}, 400, "code '4x' is neither an HTTP status nor a class like 4xx"),
        ({"end": "1", "start": "2"}, 400, "start is later than end"),
        ({"page": "0"}, 422, "the request is not valid"),
        ({"limit": "1001"}, 422, "the request is not valid"),
        ({"limit": "many"}, 422, "the request is not valid"),
    ],
)
async def test_bad_parameters_are_problems(
    client: httpx2.AsyncClient, params: dict[str, str], status: int, detail: str
) -> None:
    answer = await client.get(EVENTS, params=params)
    assert answer.status_code == status
    assert answer.headers["content-type"] == PROBLEM_JSON
    assert answer.json()["detail"] == detail and answer.json()["status"] == status


async def test_the_parameters_are_documented(client: httpx2.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    parameters = document["paths"][EVENTS]["get"]["parameters"]
    described = {p["name"]: p.get("description", "") for p in parameters}
    assert set(described) == {
        "user", "verb", "resource", "namespace", "workspace", "cluster", "name",
        "code", "start", "end", "page", "limit",
    }  # fmt: skip
    assert all(described.values())


async def test_the_component_serves_503_until_started_then_its_sink_fills_the_trail(
    tmp_path: Path,
) -> None:
    auditing = component()
    assert auditing.name == "auditing" and auditing.start is not None
    async with client_of(app_with(*auditing.routers)) as client:
        early = await client.get(EVENTS)
        assert early.status_code == 503 and early.headers["content-type"] == PROBLEM_JSON
        pipeline = Pipeline()
        context = ComponentContext(
            client=None,  # type: ignore[arg-type]  # auditing never talks to the cluster
            admin_password=None,
            tell=print,
            data_dir=tmp_path,
            pipeline=pipeline,
        )
        await auditing.start(context)
        [sink] = pipeline.audit_sinks
        trail = sink.__self__  # type: ignore[attr-defined]
        assert isinstance(trail, AuditTrail) and trail.directory == tmp_path / "audit"
        try:
            sink(event(1, user="dave", reason="no role allows it", code=403))
            assert await asyncio.to_thread(trail.flush)
            found = (await client.get(EVENTS, params={"user": "dave"})).json()
            assert found["totalItems"] == 1
            assert found["items"][0]["reason"] == "no role allows it"
        finally:
            assert await asyncio.to_thread(trail.close)
