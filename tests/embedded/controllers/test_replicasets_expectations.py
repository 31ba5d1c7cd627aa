"""Expectations on a manual clock (replicasets_expectations)."""

from __future__ import annotations

from atoll.controllers import ManualClock
from atoll.embedded.controllers.replicasets_expectations import EXPECTATIONS_TIMEOUT, Expectations


def test_creations_are_counted_off() -> None:
    expectations = Expectations(ManualClock())
    assert expectations.satisfied("ns/web"), "nothing asked, nothing awaited"
    expectations.expect_creations("ns/web", 2)
    assert not expectations.satisfied("ns/web")
    expectations.creation_observed("ns/web")
    assert not expectations.satisfied("ns/web")
    expectations.creation_observed("ns/web")
    assert expectations.satisfied("ns/web")


def test_deletions_are_tracked_by_pod_so_repeats_count_once() -> None:
    expectations = Expectations(ManualClock())
    expectations.expect_deletions("ns/web", ["ns/a", "ns/b"])
    expectations.deletion_observed("ns/web", "ns/a")
    expectations.deletion_observed("ns/web", "ns/a")  # the DELETED after the update
    assert not expectations.satisfied("ns/web")
    expectations.deletion_observed("ns/web", "ns/b")
    assert expectations.satisfied("ns/web")


def test_unmet_expectations_expire() -> None:
    clock = ManualClock()
    expectations = Expectations(clock)
    expectations.expect_creations("ns/web", 1)
    clock.advance(EXPECTATIONS_TIMEOUT)
    assert not expectations.satisfied("ns/web")
    clock.advance(1)
    assert expectations.satisfied("ns/web")


def test_forgetting_an_owner() -> None:
    expectations = Expectations(ManualClock())
    expectations.expect_creations("ns/web", 3)
    expectations.forget("ns/web")
    assert expectations.satisfied("ns/web")
    expectations.creation_observed("ns/web")  # a late event for a deleted owner is harmless
    assert expectations.satisfied("ns/web")
