"""The cached resource API through ``atoll up``: what each caller may see of it."""

from __future__ import annotations

from tests.server.atoll_process import (
    Atoll,
    as_user,
    configmap,
    login,
    project,
    user_session,
    workspace,
)
from tests.waiting import eventually

RESOURCES = "/kapis/resources.atoll.io/v1alpha1"


def test_lists_across_namespaces_show_only_what_the_caller_may_see(atoll: Atoll) -> None:
    owner = user_session(atoll, "rowner")
    outsider = user_session(atoll, "routsider")
    workspace(atoll, "rho", manager="rowner")
    eventually(lambda: project(owner, atoll, "rho", "rho-app").status_code == 201)
    assert configmap(owner, atoll, "rho-app", "mine") == 201
    admin = as_user(login(atoll))
    assert configmap(admin, atoll, "default", "theirs") == 201

    def names(session: object, path: str) -> list[str] | None:
        answer = session.get(f"{atoll.url}{RESOURCES}{path}", timeout=20)  # type: ignore[attr-defined]
        if answer.status_code != 200:
            return None
        body = answer.json()
        assert body["totalItems"] >= len(body["items"])
        return sorted(i["metadata"]["name"] for i in body["items"])

    everything = eventually(
        lambda: (n := names(admin, "/configmaps?limit=1000")) and "mine" in n and n
    )
    assert "theirs" in everything
    assert eventually(lambda: names(owner, "/configmaps?limit=1000") == ["mine"])
    assert names(owner, "/namespaces") == ["rho-app"]
    assert names(outsider, "/configmaps") == [] and names(outsider, "/namespaces") == []
    assert names(owner, "/namespaces/rho-app/configmaps") == ["mine"]
    refused = outsider.get(f"{atoll.url}{RESOURCES}/namespaces/rho-app/configmaps", timeout=10)
    assert refused.status_code == 403
    nodes = owner.get(f"{atoll.url}{RESOURCES}/nodes", timeout=10)
    assert nodes.status_code == 403 and nodes.headers["content-type"] == "application/problem+json"
    assert names(admin, "/nodes")


def test_users_from_the_cache_carry_no_password(atoll: Atoll) -> None:
    user_session(atoll, "cached")
    admin = as_user(login(atoll))
    listed = eventually(
        lambda: (
            (a := admin.get(f"{atoll.url}{RESOURCES}/users?limit=100", timeout=20)).status_code
            == 200
            and any(u["metadata"]["name"] == "cached" for u in a.json()["items"])
            and a.json()
        )
    )
    assert all("password" not in u["spec"] for u in listed["items"])
    one = admin.get(f"{atoll.url}{RESOURCES}/users/cached", timeout=10).json()
    assert one["metadata"]["name"] == "cached" and "password" not in one["spec"]
