"""Failed logins are limited per user and per source address, and every login is recorded.

This module starts its own Atoll: every test client is 127.0.0.1, so the per-address limit
it reaches would lock other modules' logins out."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from tests.server.atoll_process import (
    Atoll,
    as_user,
    http,
    login,
    make_user,
    start_atoll,
    token,
)
from tests.waiting import eventually

RECORDS = "/apis/iam.atoll.io/v1alpha1/loginrecords"


@pytest.fixture(scope="module")
def alone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Atoll]:
    atoll = start_atoll(tmp_path_factory.mktemp("logins") / "data")
    yield atoll
    atoll.stop()


def records(
    atoll: Atoll, admin: requests.Session, user: str, success: bool
) -> list[dict[str, object]]:
    selector = f"iam.atoll.io/user={user},iam.atoll.io/success={'true' if success else 'false'}"
    answer = admin.get(f"{atoll.url}{RECORDS}", params={"labelSelector": selector}, timeout=10)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


def test_ten_failures_lock_the_user_and_the_address_out(alone: Atoll) -> None:
    assert make_user(alone, "guessed").status_code == 201
    admin = as_user(login(alone))  # before the address is locked out
    assert login(alone, "guessed", "Secret-pass-1")
    eventually(lambda: len(records(alone, admin, "guessed", True)) == 1)
    for attempt in range(10):
        wrong = token(alone, grant_type="password", username="guessed", password=f"no-{attempt}")
        assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
        # Each failure is counted once its record is seen: wait for it, as a guesser would
        # not, so the count is exact.
        eventually(lambda n=attempt + 1: len(records(alone, admin, "guessed", False)) == n)
    locked = token(alone, grant_type="password", username="guessed", password="Secret-pass-1")
    assert locked.status_code == 429, locked.text
    assert locked.json()["error"] == "too_many_requests"
    assert 1 <= int(locked.headers["Retry-After"]) <= 600
    (failure,) = records(alone, admin, "guessed", False)[:1]
    spec = failure["spec"]
    assert isinstance(spec, dict)
    assert (spec["sourceIP"], spec["success"], spec["provider"]) == ("127.0.0.1", False, "password")

    # The address is locked out too, for every user: the limit counts it on its own.
    other = token(alone, grant_type="password", username="admin", password="wrong")
    assert other.status_code == 429
    # Probes never count, and tokens already issued keep working.
    for _ in range(20):
        assert http().get(f"{alone.url}/readyz", timeout=5).status_code == 200
    assert admin.get(f"{alone.url}{RECORDS}", timeout=10).status_code == 200
