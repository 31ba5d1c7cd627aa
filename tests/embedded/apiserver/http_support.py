"""Raw HTTP against the embedded API server, for tests where the wire shape is the point."""

from __future__ import annotations

import json
from typing import Any

import requests
from tests.conftest import ClusterProcess

__all__ = ["Http", "assert_status"]


class Http(requests.Session):
    """A session bound to one cluster, so tests write paths, not URLs."""

    def __init__(self, cluster: ClusterProcess, token: str | None = None) -> None:
        super().__init__()
        self.base_url = cluster.url
        self.ca = str(cluster.ca)
        if token != "":
            self.headers["Authorization"] = f"Bearer {token or cluster.token}"

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        kwargs.setdefault("timeout", 30)
        kwargs.setdefault("verify", self.ca)  # requests prefers CA env vars over .verify
        return super().request(method, self.base_url + url, *args, **kwargs)

    def watch_lines(self, path: str, **params: Any) -> list[dict[str, Any]]:
        """Every event of a watch the server ends itself (``timeoutSeconds`` is required)."""
        assert "timeoutSeconds" in params
        response = self.get(path, params={"watch": "true", **params}, stream=True)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/json")
        with response:
            lines = list(response.iter_lines())
        assert all(lines), "a watch must never send blank lines"
        return [json.loads(line) for line in lines]


def assert_status(response: requests.Response, code: int, reason: str) -> dict[str, Any]:
    """The response is a Kubernetes ``Status`` failure with this code and reason."""
    assert response.status_code == code, (response.status_code, response.text[:500])
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert (body["kind"], body["apiVersion"], body["status"]) == ("Status", "v1", "Failure")
    assert (body["code"], body["reason"]) == (code, reason), body
    assert body["metadata"] == {}
    return body
