"""The JSONPath subset used by CRD printer columns."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atoll.embedded.apiserver.tables import JSONPathError, find_results, parse_jsonpath

DOC: dict[str, Any] = {
    "metadata": {
        "name": "db",
        "labels": {"app": "web", "app.kubernetes.io/name": "shop"},
        "annotations": {"note": None},
    },
    "spec": {"replicas": 3, "ratio": 1.5, "paused": False, "ports": [80, 443, 8080]},
    "status": {
        "conditions": [
            {"type": "Initialized", "status": "True", "priority": 1},
            {"type": "Ready", "status": "False", "priority": 5},
            {"type": "Ready", "status": "Unknown", "priority": 7},
        ],
        "nodes": [{"name": "a", "ip": "10.0.0.1"}, {"name": "b"}],
    },
}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (".spec.replicas", [3]),
        ("{.spec.replicas}", [3]),
        ("$.spec.replicas", [3]),
        (".metadata.labels.app", ["web"]),
        (".metadata.labels['app.kubernetes.io/name']", ["shop"]),
        ('.metadata.labels["app.kubernetes.io/name"]', ["shop"]),
        (".metadata.labels['app','missing']", ["web"]),
        (".metadata.annotations.note", [None]),
        (".spec.ports[0]", [80]),
        (".spec.ports[-1]", [8080]),
        (".spec.ports[5]", []),
        (".spec.ports[0:2]", [80, 443]),
        (".spec.ports[::2]", [80, 8080]),
        (".spec.ports[*]", [80, 443, 8080]),
        (".status.nodes[*].name", ["a", "b"]),
        (".status.nodes[*].ip", ["10.0.0.1"]),
        ('.status.conditions[?(@.type=="Ready")].status', ["False", "Unknown"]),
        (".status.conditions[?(@.type=='Initialized')].status", ["True"]),
        (".status.conditions[?(@.type != 'Ready')].type", ["Initialized"]),
        (".status.conditions[?(@.priority > 4)].status", ["False", "Unknown"]),
        (".status.conditions[?(@.priority<=1)].type", ["Initialized"]),
        (".status.conditions[?(@.priority >= 7)].status", ["Unknown"]),
        (".status.conditions[?(@.priority < 5)].type", ["Initialized"]),
        (".status.conditions[?(@.priority == '5')].type", []),  # no cross-type matches
        (".status.nodes[?(@.ip)].name", ["a"]),
        (".spec.paused", [False]),
        (".spec.missing.deeper", []),
        (".spec.replicas.deeper", []),
        (".spec.replicas[0]", []),
        (".metadata[?(@.x)]", []),
        ("..name", ["db", "a", "b"]),
        (".metadata.labels.*", ["web", "shop"]),
    ],
)
def test_find(path: str, expected: list[Any]) -> None:
    assert find_results(path, DOC) == expected


def test_parsed_path_is_reusable() -> None:
    path = parse_jsonpath(".spec.replicas")
    assert path.find(DOC) == [3]
    assert path.find({}) == []
    assert path.expression == ".spec.replicas"


def test_filter_on_a_list_of_scalars() -> None:
    assert find_results(".spec.ports[?(@ > 100)]", DOC) == [443, 8080]


@pytest.mark.parametrize(
    "path",
    [
        "",
        "{}",
        "spec",
        ".spec[",
        ".spec[abc]",
        ".spec[1:2:3:4]",
        ".a[?(x==1)]",
        ".a..",
        ".a[?(@.b==x)]",
    ],
)
def test_invalid_paths(path: str) -> None:
    with pytest.raises(JSONPathError):
        parse_jsonpath(path)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(["spec", "status", "a", "b"]), children, max_size=3)
    ),
    max_leaves=12,
)


@given(json_values)
def test_any_document_evaluates_without_raising(document: Any) -> None:
    for path in (".spec.a", ".status[*].b", ".a[0].b", "..b", ".a[?(@.b=='x')]", ".a[-1:]"):
        assert isinstance(find_results(path, document), list)
