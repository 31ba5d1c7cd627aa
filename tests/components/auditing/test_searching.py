"""Searching the trail: newest first across files, exact filters, time ranges, code classes,
paging, and lines a crash tore skipped."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.components.auditing.audit_support import T0, event

from atoll.components.auditing import AuditQuery, AuditTrail, InvalidQuery, search
from atoll.components.auditing.searching import _blocks_newest_first
from atoll.components.auditing.trail import CURRENT, trail_files


def names(directory: Path, page: int = 1, limit: int = 50, **params: Any) -> list[str]:
    found = search(directory, AuditQuery.parse(**params), page=page, limit=limit)
    assert found["totalItems"] >= len(found["items"])
    return [item["name"] for item in found["items"]]


def total(directory: Path, **params: Any) -> int:
    return search(directory, AuditQuery.parse(**params))["totalItems"]


@pytest.fixture
def mixed(trail: AuditTrail) -> Path:
    """Twelve events, a second apart, that differ in every filtered field."""
    for i, fields in enumerate(
        [
            {},
            {"user": "bob", "verb": "delete", "code": 200},
            {"verb": "patch", "code": 403, "reason": "not allowed"},
            {"namespace": "kube-system", "code": 404},
            {"workspace": "ws1", "namespace": "", "resource": "namespaces", "name": "ws-ns"},
            {"cluster": "member", "code": 500},
            {"resource": "secrets", "name": "token"},
            {"user": "bob", "verb": "update", "code": 409},
            {"user": "", "verb": "get", "code": 401, "resource": "", "namespace": ""},
            {"user": "bob", "verb": "deletecollection", "code": 503},
            {"verb": "create", "code": 422, "name": 'odd "name"'},
            {"user": "carol", "resource": "deployments", "api_group": "apps"},
        ]
    ):
        trail.record(event(i, **{"name": f"e{i}", **fields}))
    assert trail.flush()
    return trail.directory


def test_exact_filters(mixed: Path) -> None:
    assert names(mixed, user="bob") == ["e9", "e7", "e1"]
    assert names(mixed, user="bob", verb="update") == ["e7"]
    assert names(mixed, verb="delete,deletecollection , patch") == ["e9", "e2", "e1"]
    assert names(mixed, resource="secrets") == ["token"]
    assert names(mixed, namespace="kube-system") == ["e3"]
    assert names(mixed, workspace="ws1") == ["ws-ns"]
    assert names(mixed, cluster="member") == ["e5"]
    assert names(mixed, name='odd "name"') == ['odd "name"']
    assert names(mixed, name="e1") == ["e1"]  # not e10, e11
    assert names(mixed, user="nobody") == []
    assert total(mixed) == total(mixed, user="", verb=" , ") == 12  # empty: no filter


def test_codes_exact_classes_and_lists(mixed: Path) -> None:
    assert names(mixed, code="403") == ["e2"]
    assert names(mixed, code="4xx") == ['odd "name"', "e8", "e7", "e3", "e2"]
    assert names(mixed, code="5XX") == ["e9", "e5"]
    assert names(mixed, code="200, 5xx") == ["e9", "e5", "e1"]
    assert total(mixed, code="2xx") == 5


def test_newest_first_and_paging(trail: AuditTrail) -> None:
    for i in range(120):
        trail.record(event(i))
    assert trail.flush()
    where = trail.directory
    assert names(where) == [f"cm-{i}" for i in range(119, 69, -1)]
    assert names(where, page=3) == [f"cm-{i}" for i in range(19, -1, -1)]
    assert names(where, page=4) == []
    assert names(where, page=2, limit=7) == [f"cm-{i}" for i in range(112, 105, -1)]
    assert search(where, AuditQuery(), page=4)["totalItems"] == 120


def test_time_ranges_are_inclusive_in_rfc3339_or_unix_seconds(mixed: Path) -> None:
    at = T0 + timedelta(seconds=3)
    assert names(mixed, start=at.isoformat(), end="2024-05-01T12:00:05Z") == ["e5", "ws-ns", "e3"]
    assert names(mixed, start=str(int(at.timestamp())), end=str(at.timestamp() + 0.5)) == ["e3"]
    # "+02:00" sent without escaping its plus arrives as " 02:00"
    assert names(mixed, end="2024-05-01T14:00:01 02:00") == ["e1", "e0"]
    assert names(mixed, start="2024-05-01T12:00:11.000001Z") == []
    assert total(mixed, start="2024-05-01T12:00:00Z", end="2024-05-01T12:00:00Z") == 1


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start": "yesterday"}, "start is neither"),
        ({"end": "2024-05-01T12:00:00"}, "end needs a UTC offset"),
        ({"end": "2024-05-01"}, "end needs a UTC offset"),
        ({"start": "1e400"}, "start is neither"),
        ({"start": "99999999999999999"}, "start is neither"),
        ({"start": "2024-05-02T00:00:00Z", "end": "2024-05-01T00:00:00Z"}, "later than end"),
        ({"code": "99x"}, "code '99x'"),
        ({"code": "600"}, "code '600'"),
        ({"code": "4xx,forbidden"}, "code 'forbidden'"),
    ],
)
def test_parameters_that_cannot_be_understood(params: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidQuery, match=message):
        AuditQuery.parse(**params)


@pytest.mark.parametrize(("page", "limit"), [(0, 50), (1, 0), (1, 1001)])
def test_paging_out_of_range(tmp_path: Path, page: int, limit: int) -> None:
    with pytest.raises(InvalidQuery):
        search(tmp_path, AuditQuery(), page=page, limit=limit)


def test_torn_and_foreign_lines_are_skipped(trail: AuditTrail) -> None:
    for i in range(3):
        trail.record(event(i))
    assert trail.flush()
    with open(trail.directory / CURRENT, "ab") as file:
        file.write(b"not json\n[1, 2]\n\n")
        file.write(b'{"time":"2024-05-01T12:00:09Z","user":"alice","verb":"cre')  # torn
    assert names(trail.directory) == ["cm-2", "cm-1", "cm-0"]
    assert names(trail.directory, user="alice", verb="create") == ["cm-2", "cm-1", "cm-0"]


def test_a_search_spans_rotated_files_and_runs_after_a_restart(tmp_path: Path) -> None:
    with AuditTrail(tmp_path, max_bytes=2_000, max_files=100) as first:
        for i in range(60):
            first.record(event(i))
    with AuditTrail(
        tmp_path, max_bytes=2_000, max_files=100, clock=lambda: T0
    ) as second:  # a restart
        for i in range(60, 120):
            second.record(event(i, user="bob"))
        assert second.flush()
        assert len(trail_files(tmp_path)) > 5
        assert names(tmp_path, limit=1000) == [f"cm-{i}" for i in range(119, -1, -1)]
        assert names(tmp_path, page=2, limit=50, user="alice") == [
            f"cm-{i}" for i in range(9, -1, -1)
        ]
        # Older files end before ``start``, and are skipped whole: the answer is the same.
        assert total(tmp_path, start=(T0 + timedelta(seconds=100)).isoformat()) == 20
        assert total(tmp_path, start=(T0 + timedelta(seconds=30)).isoformat(), user="alice") == 30


def test_a_search_of_nothing_finds_nothing(tmp_path: Path) -> None:
    assert search(tmp_path / "missing", AuditQuery()) == {"items": [], "totalItems": 0}


def test_lines_are_read_backwards_across_block_boundaries(tmp_path: Path) -> None:
    path = tmp_path / "lines"
    lines = [b"a" * n for n in (1, 0, 7, 13, 2, 30, 6)]
    path.write_bytes(b"\n".join(lines) + b"\n")
    for block in (1, 2, 6, 7, 8, 64):
        read = [line for lines in _blocks_newest_first(path, block=block) for line in lines]
        assert read == [line for line in reversed(lines) if line], block
