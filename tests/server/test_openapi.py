"""Atoll's OpenAPI document (``/kapis/openapi.json``), and its API fuzzed from it.

The document lists every HTTP route under ``/kapis`` and ``/oauth``, says how to
authenticate (a bearer token) and that errors are problem+json. schemathesis then sends every
operation generated requests, valid and invalid, as the admin, as a regular user and as
nobody: no answer is a server error, and the admin's answers are what the document says.
Bad input never leaves a partial write: a member list with one bad entry adds nobody, a
project that cannot be made makes no namespace.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
import schemathesis.checks
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import APIOperation, Case, CheckFunction, GenerationMode
from tests.server.atoll_process import (
    IAM,
    TENANT,
    USERS,
    Atoll,
    as_user,
    http,
    login,
    project,
    start_atoll,
    user_session,
)
from tests.waiting import eventually

from atoll.kube.kubeconfig import ClusterConfig
from atoll.server.app import create_app
from atoll.server.components import discover

DOCUMENT = "/kapis/openapi.json"
PROBLEM_JSON = "application/problem+json"
EXAMPLES = 15  # per operation and caller: the whole file stays well under a minute
WORKSPACE, PROJECT, MEMBER = "fuzzed", "fuzzed-web", "fuzzer"
# Names that exist, so that some generated requests get past "not found".
KNOWN = {"workspace": WORKSPACE, "cluster": "host", "namespace": PROJECT, "user": MEMBER}
PASSWORD = "Secret-pass-1"  # user_session's


@dataclass(frozen=True)
class Fuzzed:
    """An Atoll of its own (fuzzing changes what others would find there), and tokens got
    before any test runs: fuzzing ``/oauth/token`` fails logins from this address until the
    login limit refuses every login from it for a while."""

    atoll: Atoll
    admin: str
    user: str

    @property
    def url(self) -> str:
        return self.atoll.url

    def as_admin(self) -> requests.Session:
        return as_user(self.admin)


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzzed]:
    atoll = start_atoll(tmp_path_factory.mktemp("atoll-openapi") / "data")
    try:
        user_session(atoll, MEMBER)
        user_session(atoll, "plain")
        found = Fuzzed(atoll, login(atoll), login(atoll, "plain", PASSWORD))
        admin = found.as_admin()
        made_workspace(admin, atoll.url, WORKSPACE, manager=MEMBER)
        eventually(lambda: project(admin, atoll, WORKSPACE, PROJECT).status_code == 201)
        yield found
    finally:
        atoll.stop()


def made_workspace(admin: requests.Session, url: str, name: str, *, manager: str) -> None:
    body = {
        "apiVersion": "tenant.atoll.io/v1alpha1",
        "kind": "Workspace",
        "metadata": {"name": name},
        "spec": {"manager": manager},
    }
    made = admin.post(f"{url}/apis/tenant.atoll.io/v1alpha1/workspaces", json=body, timeout=10)
    assert made.status_code == 201, made.text


def made_user(admin: requests.Session, url: str, name: str) -> str:
    body = {
        "apiVersion": "iam.atoll.io/v1alpha1",
        "kind": "User",
        "metadata": {"name": name},
        "spec": {"email": f"{name[:20]}@example.com", "password": PASSWORD},
    }
    made = admin.post(f"{url}{USERS}", json=body, timeout=10)
    assert made.status_code == 201, made.text
    return name


@pytest.fixture(scope="module")
def document(fuzzed: Fuzzed) -> dict[str, Any]:
    answer = http().get(f"{fuzzed.url}{DOCUMENT}", timeout=10)
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


@pytest.fixture(scope="module")
def schema(fuzzed: Fuzzed) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{fuzzed.url}{DOCUMENT}", timeout=10)


# -- the document ---------------------------------------------------------------------------


def _http_routes(app: FastAPI, *prefixes: str) -> set[tuple[str, str]]:
    """``(path, method)`` of the HTTP routes under ``prefixes`` that do not opt out of the
    schema (as a WebSocket's HTTP fallback does): FastAPI's and plain Starlette ones, in
    included routers too, walked as FastAPI's own OpenAPI generator walks them."""
    found = set()
    for route in iter_route_contexts(app.routes):
        documentable = getattr(route, "include_in_schema", False)  # not a WebSocket's
        if documentable and route.path and route.path.startswith(prefixes):
            found |= {(route.path, m.lower()) for m in route.methods or () if m != "HEAD"}
    return found


def test_every_kapis_and_oauth_route_is_documented(document: dict[str, Any]) -> None:
    nowhere = ClusterConfig(server="https://127.0.0.1:1")  # never reached: no lifespan runs
    app = create_app(nowhere, discover(), data_dir=Path("/nonexistent"))
    routes = _http_routes(app, "/kapis/", "/oauth/")
    documented = {(path, method) for path, ops in document["paths"].items() for method in ops}
    assert ("/oauth/token", "post") in routes
    assert routes == documented, {"undocumented": routes - documented, "gone": documented - routes}


def test_the_document_says_how_to_authenticate(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    assert schemes == {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}
    assert document["security"] == [{"bearer": []}]  # every operation, unless it says not
    for path in ("/oauth/token", "/oauth/revoke"):
        assert document["paths"][path]["post"]["security"] == []
    members = document["paths"][f"{IAM}/workspaces/{{workspace}}/workspacemembers"]["post"]
    assert "security" not in members
    assert set(members["responses"]) >= {"200", "401", "403", "422", "default"}


def test_errors_are_documented_as_problems(document: dict[str, Any]) -> None:
    problem = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    assert document["components"]["schemas"]["Problem"]["required"] == [
        "type",
        "title",
        "status",
        "detail",
    ]
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for operations in document["paths"].values():
        for operation in operations.values():
            errors = {
                c: r
                for c, r in operation["responses"].items()
                if c.startswith(("4", "5")) or c == "default"  # a 302 is no error
            }
            assert "default" in errors
            assert all(r["content"] == problem for r in errors.values()), errors


def test_the_oauth_forms_are_documented(document: dict[str, Any]) -> None:
    form = "application/x-www-form-urlencoded"
    token = document["paths"]["/oauth/token"]["post"]
    fields = token["requestBody"]["content"][form]["schema"]
    assert fields["required"] == ["grant_type"]
    assert set(fields["properties"]) >= {"grant_type", "username", "password", "refresh_token"}
    assert fields["properties"]["grant_type"]["enum"] == ["password", "refresh_token"]
    tokens = token["responses"]["200"]["content"]["application/json"]["schema"]
    assert set(tokens["required"]) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert set(token["responses"]) >= {"200", "400", "429"}
    revoke = document["paths"]["/oauth/revoke"]["post"]
    assert revoke["requestBody"]["content"][form]["schema"]["required"] == ["token"]
    assert "content" not in revoke["responses"]["200"]  # an empty answer


# -- fuzzing --------------------------------------------------------------------------------


def _strategy(operation: APIOperation) -> st.SearchStrategy[Case]:
    """Valid and invalid requests, and valid ones for objects that exist."""
    strategies = [operation.as_strategy(generation_mode=mode) for mode in GenerationMode]
    names = {p.name for p in operation.path_parameters}
    known = {k: v for k, v in KNOWN.items() if k in names}
    if known:
        strategies.append(operation.as_strategy(path_parameters=known))
    return st.one_of(strategies)


def fuzz(
    schema: schemathesis.BaseSchema, bearer: str | None, checks: list[CheckFunction]
) -> list[str]:
    """What went wrong, operation by operation, each sent ``EXAMPLES`` requests."""
    headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
    session = http()
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,  # one inner test per operation: no examples to replay
            suppress_health_check=list(HealthCheck),
        )
        @given(case=_strategy(operation))
        def send(case: Case) -> None:
            case.call_and_validate(session=session, headers=headers, checks=checks, timeout=30)

        try:
            send()
        except Exception as error:  # every operation gets its turn; all failures are told
            failures.append(f"{operation.label}:\n{error}")
    return failures


NO_SERVER_ERROR = [schemathesis.checks.not_a_server_error]
AS_DOCUMENTED = [
    *NO_SERVER_ERROR,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.response_headers_conformance,
]


def test_the_admin_gets_no_server_error_and_what_the_document_says(
    fuzzed: Fuzzed, schema: schemathesis.BaseSchema
) -> None:
    failures = fuzz(schema, fuzzed.admin, AS_DOCUMENTED)
    assert not failures, "\n\n".join(failures)


def test_a_regular_user_gets_no_server_error(
    fuzzed: Fuzzed, schema: schemathesis.BaseSchema
) -> None:
    failures = fuzz(schema, fuzzed.user, NO_SERVER_ERROR)
    assert not failures, "\n\n".join(failures)


def test_nobody_gets_no_server_error(schema: schemathesis.BaseSchema) -> None:
    failures = fuzz(schema, None, NO_SERVER_ERROR)
    assert not failures, "\n\n".join(failures)


def test_a_form_that_is_not_utf8_is_refused_not_a_server_error(fuzzed: Fuzzed) -> None:
    """It was a 500: the body was decoded strictly."""
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    body = b"grant_type=password&username=\xff&password=\xfe"  # nobody's: no one locked out
    answer = http().post(f"{fuzzed.url}/oauth/token", data=body, headers=form, timeout=10)
    assert answer.status_code in (400, 429), answer.text
    assert answer.json()["error"] in ("invalid_grant", "too_many_requests")
    revoke = b"token=\xfe\xff"
    answer = http().post(f"{fuzzed.url}/oauth/revoke", data=revoke, headers=form, timeout=10)
    assert answer.status_code == 200, answer.text


# -- no partial writes ----------------------------------------------------------------------


def _long_named_user(atoll: Atoll) -> str:
    """A user whose name is too long for the label on its bindings. Atoll refuses to make
    one, but the cluster takes it (User names may have 253 characters, label values only
    63), so someone with kubectl could."""
    name = "long" + "x" * 70
    user = {"apiVersion": "iam.atoll.io/v1alpha1", "kind": "User", "metadata": {"name": name}}
    atoll.kubectl("apply", "-f", "-", input=json.dumps(user))
    return name


def test_a_member_list_with_one_bad_entry_adds_nobody(fuzzed: Fuzzed) -> None:
    admin, url = fuzzed.as_admin(), fuzzed.url
    made_user(admin, url, "first")
    made_workspace(admin, url, "whole", manager="admin")
    members = f"{url}{IAM}/workspaces/whole/workspacemembers"
    manager = {"username": "admin", "roleRef": "whole-workspace-admin"}
    # The workspace controller makes the workspace's roles, then binds its manager.
    eventually(lambda: (answer := admin.get(members, timeout=10)).ok and answer.json()["items"])
    assert admin.get(members, timeout=10).json()["items"] == [manager]
    good = {"username": "first", "roleRef": "whole-workspace-viewer"}
    for bad in (
        {"username": "ghost", "roleRef": "whole-workspace-viewer"},  # no such user
        {"username": "first", "roleRef": "no-such-role"},  # no such role
        {"username": "first"},  # no role at all
        {"username": _long_named_user(fuzzed.atoll), "roleRef": "whole-workspace-viewer"},
    ):
        answer = admin.post(members, json=[good, bad], timeout=10)
        assert 400 <= answer.status_code < 500, answer.text
        assert answer.headers["content-type"] == PROBLEM_JSON
        assert admin.get(members, timeout=10).json()["items"] == [manager], bad

    # The same for a project's members.
    eventually(lambda: project(admin, fuzzed.atoll, "whole", "whole-web").status_code == 201)
    viewer = f"{url}/apis/rbac.authorization.k8s.io/v1/namespaces/whole-web/roles/viewer"
    eventually(lambda: admin.get(viewer, timeout=10).ok)  # made by the project controller
    project_members = f"{url}{IAM}/clusters/host/namespaces/whole-web/members"
    before = admin.get(project_members, timeout=10).json()["items"]
    long_name = _long_named_user(fuzzed.atoll)
    two = [{"username": "first", "roleRef": "viewer"}, {"username": long_name, "roleRef": "viewer"}]
    answer = admin.post(project_members, json=two, timeout=10)
    assert answer.status_code == 422, answer.text
    assert admin.get(project_members, timeout=10).json()["items"] == before

    # A user named twice gets the role named last, and only that one.
    twice = [good, {"username": "first", "roleRef": "whole-workspace-admin"}]
    assert admin.post(members, json=twice, timeout=10).status_code == 200
    listed = admin.get(members, timeout=10).json()["items"]
    assert [m for m in listed if m["username"] == "first"] == [twice[1]]


def test_a_project_that_cannot_be_made_makes_no_namespace(fuzzed: Fuzzed) -> None:
    admin = fuzzed.as_admin()
    namespaces = f"{fuzzed.url}/api/v1/namespaces"

    def existing() -> set[str]:
        return {n["metadata"]["name"] for n in admin.get(namespaces, timeout=10).json()["items"]}

    before = existing()
    url = f"{fuzzed.url}{TENANT}/workspaces/{WORKSPACE}/clusters/host/namespaces"
    bad_names = ("Not_A_Label", "-dash", "x" * 64, "", 7, None)
    bodies: list[Any] = [{"metadata": {"name": name}} for name in bad_names]
    bodies += [
        {"metadata": {"name": "bad-labels", "labels": ["x"]}},  # was a 500
        {"metadata": {"name": "bad-annotations", "annotations": "x"}},  # was a 500
        {"metadata": {"name": "bad-label-value", "labels": {"a": 1}}},
        {"metadata": {"name": "bad-label-key", "labels": {"no spaces": "v"}}},  # the cluster's
        {"metadata": "bad-metadata"},
        {},
        [],
    ]
    for body in bodies:
        answer = admin.post(url, json=body, timeout=10)
        assert answer.status_code == 422, (body, answer.text)
        assert answer.headers["content-type"] == PROBLEM_JSON
    assert not existing() - before  # (fuzzing may have deleted some meanwhile)
