"""LDAP log-in against a real directory (Debian's ``slapd`` on loopback, ``ldap_support``).

One ``atoll up`` per module is configured with two providers on the same directory:
``corp`` (StartTLS, a manager's search of ``ou=people``, groups from ``ou=groups``,
``mapping_method: auto``) and ``partners`` (ldaps://, an anonymous search of
``ou=partners``, ``lookup``). The tests log in through ``POST /oauth/token`` as a browser
would, and check what the log-in made: the User, its GroupBindings, and what the groups'
role bindings grant.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
import requests
from tests.server.atoll_process import (
    TENANT,
    Atoll,
    as_user,
    http,
    login,
    project,
    ready,
    start_atoll,
    token,
    workspace,
)
from tests.server.ldap_support import (
    GROUPS,
    PARTNERS,
    PASSWORDS,
    PEOPLE,
    ROOT_DN,
    ROOT_PASSWORD,
    Directory,
    start_directory,
)
from tests.waiting import eventually

IAM_API = "/apis/iam.atoll.io/v1alpha1"
PROVIDER_LABEL = "iam.atoll.io/identity-provider"
ORIGIN_UID = "iam.atoll.io/origin-uid"
# ldap3 2.9 imports names newer pyasn1 calls deprecated: harmless, but warnings are errors.
LDAP3_IMPORT = pytest.mark.filterwarnings("ignore:.* is deprecated:DeprecationWarning")


@pytest.fixture(scope="module")
def directory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Directory]:
    found = start_directory(tmp_path_factory.mktemp("ldap") / "slapd")
    yield found
    found.stop()


def providers(directory: Directory) -> list[dict[str, Any]]:
    return [
        {
            "type": "LDAP",
            "name": "corp",
            "url": directory.starttls_url,
            "start_tls": True,
            "ca_file": str(directory.ca),
            "manager_dn": ROOT_DN,
            "manager_password": ROOT_PASSWORD,
            "user_search_base": PEOPLE,
            "group_search_base": GROUPS,
        },
        {
            "type": "LDAP",
            "name": "partners",
            "mapping_method": "lookup",
            "url": directory.tls_url,
            "ca_file": str(directory.ca),
            "user_search_base": PARTNERS,
        },
    ]


@pytest.fixture(scope="module")
def atoll(directory: Directory, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Atoll]:
    """This module's own Atoll, with the directory's providers (not the shared one)."""
    found = start_atoll(
        tmp_path_factory.mktemp("atoll-ldap") / "data",
        ATOLL_SERVER__IDENTITY_PROVIDERS=json.dumps(providers(directory)),
    )
    ready(found)
    yield found
    found.stop()


def ldap_login(atoll: Atoll, username: str, password: str | None = None) -> requests.Response:
    password = PASSWORDS[username] if password is None else password
    return token(atoll, grant_type="password", username=username, password=password)


def subject(answer: requests.Response) -> str:
    """Whom the tokens of a log-in are for (read, not verified: Atoll verifies them)."""
    assert answer.status_code == 200, answer.text
    claims = jwt.decode(answer.json()["access_token"], options={"verify_signature": False})
    return str(claims["sub"])


def refused(answer: requests.Response, status: int, error: str) -> str:
    assert answer.status_code == status, answer.text
    assert answer.json()["error"] == error
    return str(answer.json()["error_description"])


def names(answer: requests.Response) -> list[str]:
    assert answer.status_code == 200, answer.text
    return [item["metadata"]["name"] for item in answer.json()["items"]]


def test_the_providers_are_listed_for_the_log_in_page(atoll: Atoll) -> None:
    listed = http().get(f"{atoll.url}/oauth/providers", timeout=10)
    assert listed.status_code == 200
    assert listed.json()["items"] == [
        {"name": "corp", "type": "LDAP", "mappingMethod": "auto"},
        {"name": "partners", "type": "LDAP", "mappingMethod": "lookup"},
    ]


def test_a_directory_user_logs_in_and_becomes_an_atoll_user(
    atoll: Atoll, directory: Directory
) -> None:
    first = ldap_login(atoll, "alice")
    assert subject(first) == "alice"
    admin = as_user(login(atoll))
    user = admin.get(f"{atoll.url}{IAM_API}/users/alice", timeout=10).json()
    labels = user["metadata"]["labels"]
    uuid = directory.entry_uuid(f"uid=alice,{PEOPLE}")
    assert (labels[PROVIDER_LABEL], labels[ORIGIN_UID]) == ("corp", uuid)
    assert user["spec"] == {"email": "alice@example.org", "displayName": "Alice Liddell"}
    mine = as_user(first.json()["access_token"]).get(f"{atoll.url}{IAM_API}/users/alice")
    assert mine.status_code == 200, mine.text
    assert subject(ldap_login(atoll, "alice")) == "alice"  # the same user the next time


def test_wrong_passwords_unknown_names_and_empty_passwords_are_refused(atoll: Atoll) -> None:
    assert refused(ldap_login(atoll, "alice", "not-hers"), 400, "invalid_grant")
    assert refused(ldap_login(atoll, "bob", PASSWORDS["alice"]), 400, "invalid_grant")
    unknown = token(atoll, grant_type="password", username="nobody", password="whatever")
    assert refused(unknown, 400, "invalid_grant") == "the user name or password is wrong"
    wildcard = token(atoll, grant_type="password", username="*", password=PASSWORDS["alice"])
    assert refused(wildcard, 400, "invalid_grant")  # escaped: no entry is called "*"
    assert refused(ldap_login(atoll, "alice", ""), 400, "invalid_request")


def test_lookup_refuses_an_identity_until_an_administrator_maps_it(
    atoll: Atoll, directory: Directory
) -> None:
    why = refused(ldap_login(atoll, "carol"), 400, "invalid_grant")
    assert "no Atoll user is mapped to 'carol' of partners" in why
    admin = as_user(login(atoll))
    uuid = directory.entry_uuid(f"uid=carol,{PARTNERS}")
    mapped = {
        "apiVersion": "iam.atoll.io/v1alpha1",
        "kind": "User",
        "metadata": {
            "name": "carol-from-partners",
            "labels": {PROVIDER_LABEL: "partners", ORIGIN_UID: uuid},
        },
        "spec": {"email": "carol@example.org"},
    }
    made = admin.post(f"{atoll.url}{IAM_API}/users", json=mapped, timeout=10)
    assert made.status_code == 201, made.text
    answer = eventually(lambda: (found := ldap_login(atoll, "carol")).status_code == 200 and found)
    assert subject(answer) == "carol-from-partners"


def group_bindings(admin: requests.Session, atoll: Atoll, user: str) -> list[dict[str, Any]]:
    answer = admin.get(
        f"{atoll.url}{IAM_API}/groupbindings",
        params={"labelSelector": f"iam.atoll.io/user={user}"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


def test_directory_groups_become_atoll_groups_bound_to_roles(
    atoll: Atoll, directory: Directory
) -> None:
    admin = as_user(login(atoll))
    group = {
        "apiVersion": "iam.atoll.io/v1alpha1",
        "kind": "Group",
        "metadata": {"name": "devs"},
        "spec": {"providerGroups": ["corp:developers"]},
    }
    made = admin.post(f"{atoll.url}{IAM_API}/groups", json=group, timeout=10)
    assert made.status_code == 201, made.text
    workspace(atoll, "ldap-ws", manager="admin")
    eventually(lambda: project(admin, atoll, "ldap-ws", "ldap-ws-app").status_code == 201)
    binding = {
        "apiVersion": "iam.atoll.io/v1alpha1",
        "kind": "WorkspaceRoleBinding",
        "metadata": {"name": "devs-viewer", "labels": {"tenant.atoll.io/workspace": "ldap-ws"}},
        "roleRef": {
            "apiGroup": "iam.atoll.io",
            "kind": "WorkspaceRole",
            "name": "ldap-ws-workspace-viewer",
        },
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "devs"}],
    }
    bound = admin.post(f"{atoll.url}{IAM_API}/workspacerolebindings", json=binding, timeout=10)
    assert bound.status_code == 201, bound.text

    projects = f"{atoll.url}{TENANT}/workspaces/ldap-ws/clusters/host/namespaces"
    configmaps = f"{atoll.url}/api/v1/namespaces/ldap-ws-app/configmaps"

    def sees_the_project() -> bool:
        alice = as_user(ldap_login(atoll, "alice").json()["access_token"])
        return names(alice.get(projects, timeout=10)) == ["ldap-ws-app"]

    eventually(sees_the_project, what="alice's group grants her the workspace")
    alice = as_user(ldap_login(atoll, "alice").json()["access_token"])
    assert alice.get(configmaps, timeout=10).status_code == 200
    (membership,) = group_bindings(admin, atoll, "alice")
    assert membership["groupRef"]["name"] == "devs" and membership["users"] == ["alice"]

    bob = as_user(ldap_login(atoll, "bob").json()["access_token"])
    assert names(bob.get(projects, timeout=10)) == []
    assert bob.get(configmaps, timeout=10).status_code == 403
    assert group_bindings(admin, atoll, "bob") == []

    # Alice leaves the directory's group: her next log-in takes the Atoll group away.
    directory.modify(
        f"dn: cn=developers,{GROUPS}\nchangetype: modify\n"
        f"delete: member\nmember: uid=alice,{PEOPLE}\n"
    )
    assert subject(ldap_login(atoll, "alice")) == "alice"
    eventually(lambda: group_bindings(admin, atoll, "alice") == [])
    eventually(lambda: alice.get(configmaps, timeout=10).status_code == 403)


def test_a_directory_that_cannot_be_asked_is_a_503(atoll: Atoll, directory: Directory) -> None:
    admin_token = login(atoll)  # Atoll's own users never depend on a directory
    directory.stop()
    try:
        down = ldap_login(atoll, "bob")
        why = refused(down, 503, "temporarily_unavailable")
        assert "corp" in why and PASSWORDS["bob"] not in why and ROOT_PASSWORD not in why
        assert login(atoll) and admin_token
    finally:
        directory.start()
    assert subject(ldap_login(atoll, "bob")) == "bob"


@LDAP3_IMPORT
async def test_an_empty_password_never_reaches_the_directory() -> None:
    from atoll.components.iam.identity.ldap import LdapPasswordProvider
    from atoll.settings import LdapProvider

    # Nothing listens on port 9: asking the directory would be a ProviderUnavailable.
    nowhere = LdapProvider(name="x", url="ldap://127.0.0.1:9", user_search_base=PEOPLE)
    assert await LdapPasswordProvider(nowhere).authenticate("alice", "") is None


@LDAP3_IMPORT
async def test_an_untrusted_certificate_or_a_silent_server_is_unavailable(
    directory: Directory,
) -> None:
    from atoll.components.iam.identity import ProviderUnavailable
    from atoll.components.iam.identity.ldap import TIMEOUT, LdapPasswordProvider
    from atoll.settings import LdapProvider

    untrusted = LdapProvider(name="corp", url=directory.tls_url, user_search_base=PEOPLE)
    with pytest.raises(ProviderUnavailable, match="CERTIFICATE_VERIFY_FAILED"):
        await LdapPasswordProvider(untrusted).authenticate("alice", PASSWORDS["alice"])

    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"ldap://127.0.0.1:{silent.getsockname()[1]}"
        mute = LdapProvider(name="mute", url=url, user_search_base=PEOPLE)
        started = asyncio.get_running_loop().time()
        with pytest.raises(ProviderUnavailable, match="timed out") as caught:
            await LdapPasswordProvider(mute).authenticate("alice", PASSWORDS["alice"])
        assert asyncio.get_running_loop().time() - started < TIMEOUT + 2
        assert PASSWORDS["alice"] not in str(caught.value)
