"""What nothing else caught is a 500 problem, logged once, and the connection lives on."""

from __future__ import annotations

import logging

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from atoll.server.problems import install_problem_handlers


def test_an_unexpected_error_is_a_500_problem_without_its_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals")

    @app.get("/fine")
    async def fine() -> dict[str, bool]:
        return {"ok": True}

    with caplog.at_level(logging.ERROR), TestClient(app, raise_server_exceptions=True) as http:
        answer = http.get("/boom")
        assert answer.status_code == 500
        assert answer.headers["content-type"] == "application/problem+json"
        assert "secret internals" not in answer.text
        assert answer.json()["detail"] == (
            "the server could not answer this request; it has been logged"
        )
        assert http.get("/fine").json() == {"ok": True}
    failures = [r for r in caplog.records if "GET /boom failed" in r.getMessage()]
    assert len(failures) == 1 and failures[0].exc_info is not None
