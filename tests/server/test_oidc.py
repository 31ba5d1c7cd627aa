"""Logging in through an OpenID Connect provider, as a browser does, and out again.

The provider is a real one made of Authlib's server parts (``oidc_support.py``), on its own
port; Atoll is ``atoll up`` configured with four of its clients. The browser here is
``requests`` following each redirect by hand: Atoll → the provider (where the person is
named, as a log-in form would) → Atoll's callback → the console path, with Atoll's tokens
in the fragment.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from urllib.parse import parse_qs, parse_qsl, urlsplit

import jwt
import pytest
import requests
from tests.server.atoll_process import (
    IAM,
    TENANT,
    USERS,
    Atoll,
    as_user,
    http,
    login,
    start_atoll,
    workspace,
)
from tests.server.oidc_support import ALL_METHODS, CODE_TTL, Client, OidcProvider, Person
from tests.waiting import eventually

IAM_API = "/apis/iam.atoll.io/v1alpha1"
PROBLEM_JSON = "application/problem+json"
PEOPLE = [
    Person("alice", "0001-alice", "Alice Liddell", ["developers", "staff"]),
    Person("dave", "0002-dave", "Dave", ["developers"]),
    Person("erin", "0003-erin", "Erin", ["staff"]),
    Person("frank", "0004-frank", "Frank"),
    Person("grace", "0005-grace", "Grace"),
    Person("heidi", "0006-heidi", "Heidi"),
    Person("ivan", "0007-ivan", "Ivan"),
    Person("judy", "0008-judy", "Judy"),
]
# Atoll's provider name → the provider's realm and client.
CONFIGURED = {
    "corp": ("corp", Client("atoll", "atoll-secret")),  # HTTP Basic
    "pub": ("corp", Client("atoll-public", method="none")),  # PKCE alone
    "legacy": ("legacy", Client("atoll-legacy", "legacy-secret", "client_secret_post")),
    "strict": ("corp", Client("atoll-strict", "strict-secret")),  # mapping: lookup
}
REALMS = {"corp": ALL_METHODS, "legacy": ("client_secret_post",)}


@dataclass
class Site:
    atoll: Atoll
    idp: OidcProvider
    admin: requests.Session

    @property
    def url(self) -> str:
        return self.atoll.url


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _settings(idp: OidcProvider) -> str:
    providers: list[dict[str, object]] = []
    for name, (realm, client) in CONFIGURED.items():
        provider = {"type": "OIDC", "name": name, "issuer": idp.issuer(realm)}
        provider["client_id"] = client.client_id
        if client.secret:
            provider["client_secret"] = client.secret
        if name == "strict":
            provider["mapping_method"] = "lookup"
        providers.append(provider)
    gone = f"http://127.0.0.1:{_closed_port()}"
    providers.append({"type": "OIDC", "name": "gone", "issuer": gone, "client_id": "x"})
    return json.dumps(providers)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    clients = {name: replace(client) for name, (_, client) in CONFIGURED.items()}
    idp = OidcProvider([replace(p) for p in PEOPLE], list(clients.values()), REALMS).start()
    try:
        data_dir = tmp_path_factory.mktemp("oidc") / "data"
        atoll = start_atoll(data_dir, ATOLL_SERVER__IDENTITY_PROVIDERS=_settings(idp))
        try:
            for name, client in clients.items():  # registered once Atoll has a port
                client.redirect_uris = [f"{atoll.url}/oauth/callback/{name}"]
                client.post_logout_redirect_uris = [f"{atoll.url}/login"]
            yield Site(atoll, idp, as_user(login(atoll)))
        finally:
            atoll.stop()
    finally:
        idp.stop()


@pytest.fixture(autouse=True)
def provider_behaves(site: Site) -> Iterator[None]:
    yield
    site.idp.behave()
    assert not site.idp.errors, site.idp.errors


# -- the browser ----------------------------------------------------------------------------


def start(site: Site, via: str = "corp", redirect: str = "/") -> tuple[requests.Session, str]:
    """A browser that began a log-in, and where Atoll sent it."""
    browser = http()
    begun = browser.get(
        f"{site.url}/oauth/authorize",
        params={"provider": via, "redirect": redirect},
        allow_redirects=False,
        timeout=10,
    )
    assert begun.status_code == 302, begun.text
    return browser, begun.headers["Location"]


def at_provider(browser: requests.Session, location: str, who: str | None) -> str:
    """Where the provider sends the browser back, once ``who`` logged in there."""
    params = {"login_as": who} if who else None
    answer = browser.get(location, params=params, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"]


def finish(browser: requests.Session, callback: str) -> requests.Response:
    return browser.get(callback, allow_redirects=False, timeout=10)


def log_in(site: Site, who: str, via: str = "corp", redirect: str = "/") -> dict[str, str]:
    """The whole dance; what the fragment of the last redirect carries (and ``path``)."""
    browser, to_provider = start(site, via, redirect)
    done = finish(browser, at_provider(browser, to_provider, who))
    assert done.status_code == 302, done.text
    location = urlsplit(done.headers["Location"])
    assert (location.scheme, location.netloc) == ("", ""), "to the console, on this site"
    assert not browser.cookies, "the log-in's cookie is cleared"
    path = location.path + (f"?{location.query}" if location.query else "")
    return {**dict(parse_qsl(location.fragment)), "path": path}


def refused(answer: requests.Response, status: int, error: str) -> None:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM_JSON
    assert answer.json()["error"] == error, answer.text
    assert "Location" not in answer.headers and "access_token" not in answer.text


def workspaces_status(session: requests.Session, site: Site) -> int:
    return session.get(f"{site.url}{TENANT}/workspaces", timeout=10).status_code


# -- logging in -----------------------------------------------------------------------------


def test_a_browser_logs_in_and_its_tokens_work(site: Site) -> None:
    tokens = log_in(site, "alice", redirect="/clusters/host?tab=pods")
    assert tokens["path"] == "/clusters/host?tab=pods"
    assert (tokens["token_type"], tokens["expires_in"], tokens["provider"]) == (
        "Bearer",
        "7200",
        "corp",
    )
    alice = as_user(tokens["access_token"])
    eventually(lambda: workspaces_status(alice, site) == 200, what="alice's token works")
    hint = jwt.decode(tokens["id_token_hint"], options={"verify_signature": False})
    assert (hint["iss"], hint["aud"], hint["sub"]) == (
        site.idp.issuer("corp"),
        ["atoll"],
        "0001-alice",
    )

    # The user was made at the first log-in, marked as the provider's.
    user = site.admin.get(f"{site.url}{USERS}/alice", timeout=10).json()
    labels = user["metadata"]["labels"]
    assert labels["iam.atoll.io/identity-provider"] == "corp"
    assert labels["iam.atoll.io/origin-uid"] == "0001-alice"
    assert (user["spec"]["email"], user["spec"]["displayName"]) == (
        "alice@corp.example",
        "Alice Liddell",
    )
    selector = "iam.atoll.io/user=alice,iam.atoll.io/success=true"
    eventually(
        lambda: site.admin.get(
            f"{site.url}{IAM_API}/loginrecords", params={"labelSelector": selector}, timeout=10
        ).json()["items"],
        what="the log-in is recorded",
    )

    # The refresh token refreshes, as after a password log-in; the next log-in is the
    # same user.
    form = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    assert http().post(f"{site.url}/oauth/token", data=form, timeout=10).status_code == 200
    again = log_in(site, "alice")
    assert jwt.decode(again["access_token"], options={"verify_signature": False})["sub"] == "alice"


@pytest.mark.parametrize(("via", "who"), [("pub", "grace"), ("legacy", "heidi")])
def test_public_clients_and_form_posted_secrets_log_in_too(site: Site, via: str, who: str) -> None:
    """A client without a secret (PKCE alone), and a provider that takes the secret only in
    the form (its discovery says so)."""
    tokens = log_in(site, who, via=via)
    session = as_user(tokens["access_token"])
    eventually(lambda: workspaces_status(session, site) == 200)


def test_a_new_signing_key_is_fetched_when_the_provider_rotates(site: Site) -> None:
    log_in(site, "alice")  # the JWKS is known
    site.idp.rotate_keys("k-rotated")
    tokens = log_in(site, "alice")
    assert jwt.get_unverified_header(tokens["id_token_hint"])["kid"] == "k-rotated"


# -- groups ---------------------------------------------------------------------------------


def _bound_groups(site: Site, user: str) -> list[str]:
    answer = site.admin.get(
        f"{site.url}{IAM_API}/groupbindings",
        params={"labelSelector": f"iam.atoll.io/user={user},iam.atoll.io/identity-provider=corp"},
        timeout=10,
    )
    return sorted(b["groupRef"]["name"] for b in answer.json()["items"])


def _developers_view(site: Site, workspace_name: str) -> None:
    """The Atoll group oidc-devs, standing for the provider's group "developers" of corp,
    made viewer of the workspace."""
    admin, url = site.admin, site.url
    group = {
        "apiVersion": "iam.atoll.io/v1alpha1",
        "kind": "Group",
        "metadata": {"name": "oidc-devs"},
        "spec": {"providerGroups": ["corp:developers"]},
    }
    assert admin.post(f"{url}{IAM_API}/groups", json=group, timeout=10).status_code == 201
    workspace(site.atoll, workspace_name, manager="admin")
    binding = {
        "apiVersion": "iam.atoll.io/v1alpha1",
        "kind": "WorkspaceRoleBinding",
        "metadata": {
            "name": "oidc-devs-viewer",
            "labels": {"tenant.atoll.io/workspace": workspace_name},
        },
        "roleRef": {
            "apiGroup": "iam.atoll.io",
            "kind": "WorkspaceRole",
            "name": f"{workspace_name}-workspace-viewer",
        },
        "subjects": [
            {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "oidc-devs"}
        ],
    }
    made = admin.post(f"{url}{IAM_API}/workspacerolebindings", json=binding, timeout=10)
    assert made.status_code == 201, made.text


def test_provider_groups_give_access_to_a_workspace(site: Site) -> None:
    _developers_view(site, "oidc-ws")
    members = f"{site.url}{IAM}/workspaces/oidc-ws/workspacemembers"

    # The group is in Atoll's cache moments after it was made: log in until it is seen.
    dave_tokens = eventually(
        lambda: (found := log_in(site, "dave")) and _bound_groups(site, "dave") and found,
        what="dave's provider group bound",
    )
    assert _bound_groups(site, "dave") == ["oidc-devs"]
    dave = as_user(dave_tokens["access_token"])
    eventually(lambda: dave.get(members, timeout=10).status_code == 200, what="dave's access")
    erin = as_user(log_in(site, "erin")["access_token"])
    eventually(lambda: workspaces_status(erin, site) == 200)
    assert _bound_groups(site, "erin") == []
    assert erin.get(members, timeout=10).status_code == 403

    # Out of the group at the provider: out of the Atoll group at the next log-in.
    site.idp.people["dave"].groups = ["staff"]
    log_in(site, "dave")
    assert _bound_groups(site, "dave") == []
    eventually(lambda: dave.get(members, timeout=10).status_code == 403, what="access gone")


# -- refusals -------------------------------------------------------------------------------

Misbehaviour = Callable[[OidcProvider], None]


def _wrong_nonce(idp: OidcProvider) -> None:
    idp.wrong_nonce = True


@pytest.mark.parametrize(
    ("misbehave", "error"),
    [
        (_wrong_nonce, "invalid_token"),
        (lambda idp: idp.sign_with_unpublished_key("k1"), "invalid_token"),  # a known kid
        (lambda idp: idp.sign_with_unpublished_key("k-unknown"), "invalid_token"),
        (lambda idp: idp.advance(CODE_TTL + 1), "invalid_grant"),  # the code expired
    ],
    ids=["wrong-nonce", "another-key", "unknown-key", "expired-code"],
)
def test_a_bad_answer_from_the_provider_gives_no_tokens(
    site: Site, misbehave: Misbehaviour, error: str
) -> None:
    browser, to_provider = start(site)
    back = at_provider(browser, to_provider, "alice")
    misbehave(site.idp)
    refused(finish(browser, back), 400, error)


def test_a_callback_this_browser_did_not_start_is_refused(site: Site) -> None:
    browser, to_provider = start(site)
    back = at_provider(browser, to_provider, "alice")
    (cookie,) = browser.cookies
    assert cookie.path == "/oauth/callback/corp" and cookie.has_nonstandard_attr("HttpOnly")
    refused(finish(browser, back.replace("state=", "state=x")), 400, "invalid_request")
    refused(finish(http(), back), 400, "invalid_request")  # another browser: no cookie
    forged = f"{cookie.name}={cookie.value[:-4]}AAAA"  # its signature broken
    refused(http().get(back, headers={"Cookie": forged}, timeout=10), 400, "invalid_request")

    kept = f"{cookie.name}={cookie.value}"
    assert finish(browser, back).status_code == 302  # still good: nothing was spent
    replayed = http().get(back, headers={"Cookie": kept}, timeout=10)
    refused(replayed, 400, "invalid_grant")  # the provider's codes are good once


def test_refusals_at_the_provider_and_bad_requests_are_answered_400(site: Site) -> None:
    browser, to_provider = start(site)
    refused(finish(browser, at_provider(browser, to_provider, None)), 400, "access_denied")
    authorize = f"{site.url}/oauth/authorize"
    for params in (
        {},
        {"provider": "nobody"},
        {"provider": "corp", "redirect": "//evil.example/"},
        {"provider": "corp", "redirect": "https://evil.example/"},
        {"provider": "corp", "redirect": "/\\evil.example"},
    ):
        answer = http().get(authorize, params=params, allow_redirects=False, timeout=10)
        refused(answer, 400, "invalid_request")
    answer = http().get(f"{site.url}/oauth/callback/nobody?code=c&state=s", timeout=10)
    refused(answer, 404, "invalid_request")
    refused(http().get(f"{site.url}/oauth/logout", timeout=10), 400, "invalid_request")
    unreachable = http().get(authorize, params={"provider": "gone"}, timeout=10)
    refused(unreachable, 503, "temporarily_unavailable")


def test_an_identity_without_a_user_or_a_disabled_user_gets_no_tokens(site: Site) -> None:
    browser, to_provider = start(site, via="strict")  # lookup: nobody is made
    refused(finish(browser, at_provider(browser, to_provider, "ivan")), 400, "access_denied")
    assert site.admin.get(f"{site.url}{USERS}/ivan", timeout=10).status_code == 404

    log_in(site, "judy")

    def disabled() -> bool:  # the users controller may write it meanwhile: a 409, again
        user = site.admin.get(f"{site.url}{USERS}/judy", timeout=10).json()
        user["status"] = {**(user.get("status") or {}), "state": "Disabled"}
        put = site.admin.put(f"{site.url}{USERS}/judy/status", json=user, timeout=10)
        assert put.status_code in (200, 409), put.text
        return put.status_code == 200

    eventually(disabled, what="judy disabled")
    browser, to_provider = start(site)
    answer = finish(browser, at_provider(browser, to_provider, "judy"))
    refused(answer, 400, "access_denied")
    assert "disabled" in answer.json()["detail"]


# -- logging out ----------------------------------------------------------------------------


def test_logging_out_ends_the_providers_session_and_revokes_the_token(site: Site) -> None:
    tokens = log_in(site, "frank")
    frank = as_user(tokens["access_token"])
    eventually(lambda: workspaces_status(frank, site) == 200)
    out = frank.get(
        f"{site.url}/oauth/logout",
        params={
            "provider": "corp",
            "id_token_hint": tokens["id_token_hint"],
            "post_logout_redirect": "/login",
        },
        allow_redirects=False,
        timeout=10,
    )
    assert out.status_code == 302, out.text
    end_session = urlsplit(out.headers["Location"])
    assert f"{end_session.scheme}://{end_session.netloc}{end_session.path}" == (
        f"{site.idp.issuer('corp')}/end_session"
    )
    asked = {k: v[0] for k, v in parse_qs(end_session.query).items()}
    assert asked == {
        "client_id": "atoll",
        "id_token_hint": tokens["id_token_hint"],
        "post_logout_redirect_uri": f"{site.url}/login",
    }
    at_provider = http().get(out.headers["Location"], allow_redirects=False, timeout=10)
    assert at_provider.status_code == 302, at_provider.text
    assert at_provider.headers["Location"] == f"{site.url}/login"
    assert {"sub": "0004-frank", "client_id": "atoll"} in site.idp.logouts
    eventually(lambda: workspaces_status(frank, site) == 401, what="the token revoked")
