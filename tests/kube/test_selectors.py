"""Label and field selectors: grammar, matching, rendering and kube-apiserver's error wording."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atoll.errors import BadRequest
from atoll.kube.selectors import (
    FieldRequirement,
    FieldSelector,
    LabelSelector,
    Operator,
    Requirement,
    check_supported,
    from_label_selector_object,
    parse_int64,
    single_value,
)

WEB = {"app": "web", "tier": "front", "replicas": "3"}


def matches(text: str, labels: Mapping[str, str]) -> bool:
    return LabelSelector.parse(text).matches(labels)


def parse_error(text: str) -> str:
    with pytest.raises(BadRequest) as caught:
        LabelSelector.parse(text)
    assert caught.value.code == 400
    return caught.value.message


# --- label selector: operators -----------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "\t\n"])
def test_empty_selector_matches_everything(text: str) -> None:
    selector = LabelSelector.parse(text)
    assert selector.is_empty
    assert selector.matches({}) and selector.matches(WEB)


@pytest.mark.parametrize("text", ["app=web", "app==web", " app = web ", "app\t==\tweb"])
def test_equality_spellings(text: str) -> None:
    assert matches(text, WEB)
    assert not matches(text, {"app": "db"})
    assert not matches(text, {})


def test_not_equals_also_matches_objects_without_the_key() -> None:
    assert matches("app!=db", WEB)
    assert not matches("app!=web", WEB)
    assert matches("app!=web", {})


def test_empty_value_is_a_value() -> None:
    assert matches("app=", {"app": ""})
    assert not matches("app=", {})
    assert not matches("app=", WEB)
    assert matches("app!=", WEB)


def test_in_and_notin() -> None:
    assert matches("tier in (front, back)", WEB)
    assert not matches("tier in (back)", WEB)
    assert not matches("tier in (front)", {})
    assert matches("tier notin (back)", WEB)
    assert not matches("tier notin (front,back)", WEB)
    assert matches("tier notin (front)", {})


def test_set_values_may_be_empty() -> None:
    assert LabelSelector.parse("x in (foo,,baz)").requirements[0].values == ("", "baz", "foo")
    assert LabelSelector.parse("x notin ()").requirements[0].values == ("",)
    assert LabelSelector.parse("x in (,a)").requirements[0].values == ("", "a")
    assert LabelSelector.parse("x in (a,)").requirements[0].values == ("", "a")
    assert matches("x in ()", {"x": ""})


def test_exists_and_does_not_exist() -> None:
    assert matches("app", WEB) and not matches("app", {})
    assert matches("!db", WEB) and not matches("!app", WEB)
    assert matches(" ! db ", WEB)


def test_greater_and_less_than_compare_integers() -> None:
    assert matches("replicas>2", WEB) and not matches("replicas>3", WEB)
    assert matches("replicas<4", WEB) and not matches("replicas<3", WEB)
    assert not matches("replicas>1", {})
    assert not matches("replicas>1", {"replicas": "many"})
    assert matches("replicas>007", {"replicas": "8"})


def test_negative_bound_is_not_a_valid_label_value() -> None:
    # ParseInt accepts "-1" but label-value validation rejects a leading '-', as upstream.
    assert "a valid label must be an empty string" in parse_error("replicas>-1")


def test_comma_is_and() -> None:
    assert matches("app=web,tier in (front),!db,replicas>1", WEB)
    assert not matches("app=web,tier=back", WEB)


def test_in_and_notin_are_identifiers_outside_the_operator_position() -> None:
    selector = LabelSelector.parse("in in (in,notin),notin=in")
    assert selector.requirements == (
        Requirement("in", Operator.IN, ("in", "notin")),
        Requirement("notin", Operator.EQUALS, ("in",)),
    )


def test_prefixed_keys() -> None:
    assert matches("app.kubernetes.io/name=web", {"app.kubernetes.io/name": "web"})
    assert matches("!example.com/skip", WEB)


def test_duplicated_keys_are_all_applied() -> None:
    assert not matches("app=web,app=db", WEB)
    assert matches("app,app=web", WEB)


# --- label selector: rendering -----------------------------------------------------------------


def test_to_string_is_canonical_and_sorted_by_key() -> None:
    selector = LabelSelector.parse("tier in (b, a, b),app==web,!gone,has,n>5,m!=x,z notin (q)")
    assert selector.to_string() == "app=web,!gone,has,m!=x,n>5,tier in (a,b),z notin (q)"


def test_requirement_values_are_sorted_and_unique() -> None:
    assert Requirement("k", Operator.IN, ("b", "a", "b")).values == ("a", "b")


# --- label selector: errors --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a b", "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"),
        (
            "env IN (a)",
            "unable to parse requirement: found 'IN', expected: in, notin, =, ==, !=, gt, lt",
        ),
        ("test-label=====name1", "unable to parse requirement: found '==', expected: identifier"),
        ("a=b,", "found '', expected: identifier after ','"),
        ("a=b,,c", "found ',', expected: identifier after ','"),
        (",a", "found ',', expected: !, identifier, or 'end of string'"),
        ("=a", "found '=', expected: !, identifier, or 'end of string'"),
        ("a=b c", "found 'c', expected: ',' or 'end of string'"),
        ("!a=b", "found '=', expected: ',' or 'end of string'"),
        ("!", "unable to parse requirement: found '', expected: identifier"),
        ("!=a", "found '!=', expected: !, identifier, or 'end of string'"),
        ("! =a", "unable to parse requirement: found '=', expected: identifier"),
        ("a in b", "unable to parse requirement: found 'b' expected: '('"),
        ("a in (b", "unable to parse requirement: found '', expected: ',' or ')'"),
        ("a in (b c)", "unable to parse requirement: found 'c', expected: ',' or ')'"),
        ("a in (=)", "unable to parse requirement: found '=', expected: ',', ')' or identifier"),
        ("a in (b,=)", "unable to parse requirement: found '=', expected: ',', or identifier"),
        ("a=(", "unable to parse requirement: found '(', expected: identifier"),
    ],
)
def test_syntax_errors_use_upstream_wording(text: str, message: str) -> None:
    assert parse_error(text) == message


def test_invalid_key() -> None:
    message = parse_error("a@b=c")
    assert message.startswith('unable to parse requirement: Invalid value: "a@b": name part must')
    assert "regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]'" in message
    assert "(e.g. 'MyName',  or 'my.name',  or '123-abc', " in message


@pytest.mark.parametrize(
    ("key", "detail"),
    [
        ("/a", "prefix part must be non-empty"),
        ("Example.com/a", "prefix part a lowercase RFC 1123 subdomain must consist of"),
        ("a/b/c", "a qualified name must consist of alphanumeric characters"),
        ("x" * 64, "name part must be no more than 63 characters"),
        ("example.com/", "name part must be non-empty"),
        ("-a", "name part must consist of"),
    ],
)
def test_key_validation(key: str, detail: str) -> None:
    assert detail in parse_error(f"{key}=v")


def test_invalid_value() -> None:
    message = parse_error("app=a@b")
    assert message.startswith(
        'unable to parse requirement: values[0][app]: Invalid value: "a@b": a valid label must be'
    )
    assert "must be no more than 63 characters" in parse_error("app=" + "v" * 64)
    # Values are checked sorted, so the index is the one in the sorted set, as upstream.
    assert parse_error("app in (z@b,ok)").startswith(
        'unable to parse requirement: values[1][app]: Invalid value: "z@b"'
    )


def test_gt_needs_an_integer() -> None:
    assert parse_error("n>x") == (
        "unable to parse requirement: values[0]: Invalid value: \"x\": for 'Gt', 'Lt' "
        "operators, the value must be an integer"
    )
    assert "must be an integer" in parse_error("n<")
    assert "must be an integer" in parse_error("n>99999999999999999999")


def test_parse_int64_is_go_strconv() -> None:
    assert parse_int64("42") == 42 and parse_int64("+7") == 7 and parse_int64("-3") == -3
    assert parse_int64("9223372036854775807") == 2**63 - 1
    assert parse_int64("9223372036854775808") is None
    for bad in ("", "1_000", " 1", "٣", "1.0", "0x1"):
        assert parse_int64(bad) is None


# --- metav1.LabelSelector objects --------------------------------------------------------------


def test_label_selector_object() -> None:
    selector = from_label_selector_object(
        {
            "matchLabels": {"app": "web"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["b", "a"]},
                {"key": "env", "operator": "NotIn", "values": ["prod"]},
                {"key": "canary", "operator": "DoesNotExist"},
                {"key": "team", "operator": "Exists", "values": []},
            ],
        }
    )
    assert selector.to_string() == "app=web,!canary,env notin (prod),team,tier in (a,b)"
    assert selector.matches({"app": "web", "tier": "a", "team": "x"})
    assert not selector.matches({"app": "web", "tier": "a"})


def test_null_selector_matches_nothing_and_empty_matches_everything() -> None:
    assert not from_label_selector_object(None).matches({})
    assert from_label_selector_object(None).to_string() == ""
    assert from_label_selector_object({}).matches(WEB)
    assert from_label_selector_object({"matchLabels": None}).is_empty


@pytest.mark.parametrize(
    ("sel", "message"),
    [
        (
            {"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]},
            '"Gt" is not a valid label selector operator',
        ),
        (
            {"matchExpressions": [{"key": "a", "operator": "In", "values": []}]},
            "values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't "
            "be empty",
        ),
        (
            {"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]},
            'values: Invalid value: []string{"x"}: values set must be empty for exists and does '
            "not exist",
        ),
    ],
)
def test_label_selector_object_errors(sel: dict[str, object], message: str) -> None:
    with pytest.raises(BadRequest) as caught:
        from_label_selector_object(sel)
    assert caught.value.message == message


def test_label_selector_object_validates_keys_and_values() -> None:
    with pytest.raises(BadRequest, match="name part"):
        from_label_selector_object({"matchLabels": {"bad key": "x"}})
    with pytest.raises(BadRequest, match="a valid label"):
        from_label_selector_object({"matchLabels": {"app": "a b"}})
    with pytest.raises(BadRequest, match="must be strings"):
        from_label_selector_object({"matchLabels": {"app": 3}})


@pytest.mark.parametrize(
    "sel",
    [
        {"matchLabels": ["app"]},
        {"matchExpressions": {"key": "a"}},
        {"matchExpressions": ["a"]},
        {"matchExpressions": [{"key": "a", "operator": "In", "values": "abc"}]},
    ],
)
def test_label_selector_object_shapes_are_checked(sel: dict[str, object]) -> None:
    with pytest.raises(BadRequest):
        from_label_selector_object(sel)


def test_hand_built_gt_requirement_without_a_value_matches_nothing() -> None:
    assert not Requirement("n", Operator.GREATER_THAN).matches({"n": "5"})


# --- field selectors ---------------------------------------------------------------------------

POD = {"metadata.name": "web", "metadata.namespace": "default", "status.phase": "Running"}


def test_field_selector_terms() -> None:
    selector = FieldSelector.parse(
        "metadata.name=web,status.phase!=Failed,metadata.namespace==default"
    )
    assert selector.requirements == (
        FieldRequirement("metadata.name", "=", "web"),
        FieldRequirement("status.phase", "!=", "Failed"),
        FieldRequirement("metadata.namespace", "=", "default"),
    )
    assert selector.matches(POD)
    assert not FieldSelector.parse("status.phase!=Running").matches(POD)


def test_field_selector_duplicates_and_empty_terms() -> None:
    assert FieldSelector.parse("metadata.name=web,metadata.name=web").matches(POD)
    assert not FieldSelector.parse("metadata.name=web,metadata.name=db").matches(POD)
    assert FieldSelector.parse(",metadata.name=web,").matches(POD)
    assert FieldSelector.parse("").is_empty and FieldSelector.parse("").matches({})


def test_field_selector_reads_missing_fields_as_empty() -> None:
    assert FieldSelector.parse("spec.nodeName=").matches(POD)
    assert not FieldSelector.parse("spec.nodeName!=").matches(POD)


def test_field_selector_escapes() -> None:
    selector = FieldSelector.parse(r"a=x\,y,b=p\=q,c=back\\slash")
    assert [t.value for t in selector.requirements] == ["x,y", "p=q", "back\\slash"]
    assert selector.to_string() == r"a=x\,y,b=p\=q,c=back\\slash"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("foo", "invalid selector: 'foo'; can't understand 'foo'"),
        ("a=b,foo", "invalid selector: 'a=b,foo'; can't understand 'foo'"),
        ("a=b=c", "invalid field selector: unescaped character in value: ="),
        (r"a=b\x", r"invalid field selector: invalid escape sequence: \x"),
        ("a=b\\", "invalid field selector: invalid escape sequence: \\"),
    ],
)
def test_field_selector_errors(text: str, message: str) -> None:
    with pytest.raises(BadRequest) as caught:
        FieldSelector.parse(text)
    assert caught.value.message == message


def test_field_operator_split_prefers_the_leftmost_operator() -> None:
    with pytest.raises(BadRequest, match="unescaped character in value: ="):
        FieldSelector.parse("a!==b")  # "!=" at position 1 wins, leaving "=b" as the value
    assert FieldSelector.parse("a==b").requirements == (FieldRequirement("a", "=", "b"),)
    assert FieldSelector.parse("a!=b").requirements == (FieldRequirement("a", "!=", "b"),)


def test_check_supported() -> None:
    supported = {"metadata.name", "metadata.namespace"}
    check_supported(FieldSelector.parse("metadata.name=x"), supported, resource="pods")
    with pytest.raises(BadRequest) as caught:
        check_supported(FieldSelector.parse("metadata.name=x,spec.x=y"), supported, resource="pods")
    assert caught.value.message == "field label not supported: spec.x"


def test_single_value() -> None:
    assert (
        single_value(FieldSelector.parse("status.phase=Running,metadata.name=web"), "metadata.name")
        == "web"
    )
    assert single_value(FieldSelector.parse("metadata.name!=web"), "metadata.name") is None
    assert single_value(FieldSelector.parse(""), "metadata.name") is None
    assert single_value(LabelSelector.parse("app=web"), "app") == "web"
    assert single_value(LabelSelector.parse("app in (web)"), "app") == "web"
    assert single_value(LabelSelector.parse("app in (web,db)"), "app") is None
    assert single_value(LabelSelector.parse("app!=web"), "app") is None
    assert single_value(LabelSelector.parse("tier=x"), "app") is None


# --- properties --------------------------------------------------------------------------------

KEYS = st.sampled_from(["a", "b", "in", "example.com/c"])
VALUES = st.sampled_from(["", "x", "y", "1", "7", "in", "notin"])
NUMBERS = st.sampled_from(["0", "1", "7", "12"])
LABELS = st.dictionaries(KEYS, st.one_of(VALUES, NUMBERS), max_size=4)
SPACE = st.sampled_from(["", " ", "  ", "\t"])

Term = tuple[str, str, tuple[str, ...]]


@st.composite
def terms(draw: st.DrawFn) -> Term:
    op = draw(st.sampled_from(["=", "==", "!=", "in", "notin", "exists", "!", ">", "<"]))
    if op in ("in", "notin"):
        return draw(KEYS), op, tuple(draw(st.lists(VALUES, min_size=1, max_size=3)))
    if op in ("exists", "!"):
        return draw(KEYS), op, ()
    return draw(KEYS), op, (draw(NUMBERS if op in "<>" else VALUES),)


@st.composite
def selector_texts(draw: st.DrawFn) -> tuple[str, list[Term]]:
    chosen = draw(st.lists(terms(), max_size=4))
    rendered = []
    for key, op, values in chosen:
        s = draw(SPACE)
        if op == "exists":
            rendered.append(f"{s}{key}{s}")
        elif op == "!":
            rendered.append(f"{s}!{s}{key}")
        elif op in ("in", "notin"):
            rendered.append(f"{key} {op}{s}({s}{(s + ',' + s).join(values)}{s})")
        else:
            rendered.append(f"{key}{s}{op}{s}{values[0]}")
    return ",".join(rendered), chosen


def reference(chosen: list[Term], labels: Mapping[str, str]) -> bool:
    """The obvious evaluation of each requirement, written independently of the module."""
    for key, op, values in chosen:
        value = labels.get(key)
        if op in ("=", "==", "in"):
            ok = value in values
        elif op in ("!=", "notin"):
            ok = value not in values
        elif op == "exists":
            ok = value is not None
        elif op == "!":
            ok = value is None
        else:
            ok = value is not None and value.isdigit()
            ok = ok and (int(value) > int(values[0]) if op == ">" else int(value) < int(values[0]))
        if not ok:
            return False
    return True


@given(selector_texts(), LABELS)
def test_matching_agrees_with_reference(
    text_and_terms: tuple[str, list[Term]], labels: dict[str, str]
) -> None:
    text, chosen = text_and_terms
    assert LabelSelector.parse(text).matches(labels) == reference(chosen, labels)


@given(selector_texts())
def test_to_string_reparses_to_an_equal_selector(text_and_terms: tuple[str, list[Term]]) -> None:
    selector = LabelSelector.parse(text_and_terms[0])
    assert LabelSelector.parse(selector.to_string()) == selector


@given(KEYS, VALUES, LABELS)
def test_negations_are_complements(key: str, value: str, labels: dict[str, str]) -> None:
    assert matches(f"{key}!={value}", labels) == (not matches(f"{key}={value}", labels))
    assert matches(f"{key} notin ({value})", labels) == (not matches(f"{key} in ({value})", labels))
    assert matches(f"!{key}", labels) == (not matches(key, labels))


@given(st.text(max_size=30))
def test_label_parse_only_ever_raises_bad_request(text: str) -> None:
    with contextlib.suppress(BadRequest):
        LabelSelector.parse(text)


FIELD_NAMES = st.sampled_from(["metadata.name", "status.phase", "spec.nodeName"])


@given(st.lists(st.tuples(FIELD_NAMES, st.sampled_from(["=", "!="]), st.text(max_size=8))))
def test_field_selector_round_trips_through_text(raw: list[tuple[str, str, str]]) -> None:
    selector = FieldSelector(tuple(FieldRequirement(*term) for term in raw))
    assert FieldSelector.parse(selector.to_string()) == selector


@given(st.text(max_size=30))
def test_field_parse_only_ever_raises_bad_request(text: str) -> None:
    with contextlib.suppress(BadRequest):
        FieldSelector.parse(text)
