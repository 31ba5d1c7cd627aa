"""Small validation building blocks shared by every kind's validator.

Objects are decoded JSON (already type-checked by :mod:`.schemas`), so these helpers read
fields defensively (a missing or ``null`` field is the Go zero value) and return lists of
:class:`~atoll.errors.FieldError` worded as kube-apiserver 1.20 words them. Field paths are
plain strings built the way Go's ``field.Path`` prints them: ``spec.ports[0].name``,
``data[tls.crt]``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from atoll.embedded.apiserver.builtins.names import (
    label_value_errors,
    percent_errors,
    qualified_name_errors,
)
from atoll.errors import FieldError

__all__ = [
    "IMMUTABLE",
    "GoValue",
    "as_int",
    "as_list",
    "as_map",
    "as_str",
    "go_int_or_string",
    "go_label_selector",
    "immutable",
    "int_or_percent_errors",
    "label_selector_errors",
    "labels_errors",
    "non_negative",
    "selector_matches",
]

IMMUTABLE = "field is immutable"


@dataclass(frozen=True, slots=True)
class GoValue:
    """A value already rendered as Go's ``%v``/``%#v`` would (printed without quotes)."""

    text: str

    def __str__(self) -> str:
        return self.text


def as_map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def as_list(value: Any) -> Sequence[Any]:
    return value if isinstance(value, list | tuple) else ()


def as_str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def as_int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def non_negative(path: str, value: Any) -> list[FieldError]:
    if isinstance(value, int) and value < 0:
        return [FieldError.invalid(path, value, "must be greater than or equal to 0")]
    return []


def immutable(path: str, new: Any, *, old: Any) -> list[FieldError]:
    """ValidateImmutableField: ``<path>: Invalid value: <new>: field is immutable``."""
    return [] if new == old else [FieldError.invalid(path, _go(new), IMMUTABLE)]


def _go(value: Any) -> Any:
    if isinstance(value, Mapping):
        if set(value) <= {"matchLabels", "matchExpressions"}:
            return go_label_selector(value)
        return GoValue(_go_struct(value))
    return value


def _go_struct(value: Mapping[str, Any]) -> str:
    inner = ", ".join(f"{k[:1].upper()}{k[1:]}:{_go_field(v)}" for k, v in value.items())
    return "{" + inner + "}"


def _go_field(value: Any) -> str:
    if isinstance(value, str):
        return '"' + value.replace('"', '\\"') + '"'
    if isinstance(value, Mapping):
        return _go_struct(value)
    return str(value).lower() if isinstance(value, bool) else str(value)


def go_string_map(value: Mapping[str, Any]) -> str:
    """Go's ``%#v`` of a ``map[string]string`` (keys sorted, as Go prints them)."""
    inner = ", ".join(f'"{k}":"{v}"' for k, v in sorted(value.items()))
    return "map[string]string{" + inner + "}"


def _go_requirement(expr: Mapping[str, Any]) -> str:
    values = ", ".join(f'"{v}"' for v in as_list(expr.get("values")))
    return (
        f'v1.LabelSelectorRequirement{{Key:"{as_str(expr.get("key"))}", '
        f'Operator:"{as_str(expr.get("operator"))}", Values:[]string{{{values}}}}}'
    )


def go_label_selector(selector: Mapping[str, Any]) -> GoValue:
    """Go's ``%#v`` of a ``v1.LabelSelector``."""
    labels = as_map(selector.get("matchLabels"))
    match_labels = go_string_map(labels) if labels else "map[string]string(nil)"
    exprs = [_go_requirement(as_map(e)) for e in as_list(selector.get("matchExpressions"))]
    match_exprs = (
        "[]v1.LabelSelectorRequirement{" + ", ".join(exprs) + "}"
        if exprs
        else "[]v1.LabelSelectorRequirement(nil)"
    )
    return GoValue(
        f"v1.LabelSelector{{MatchLabels:{match_labels}, MatchExpressions:{match_exprs}}}"
    )


def go_int_or_string(value: Any) -> GoValue:
    """IntOrString prints through its String() method: ``25%`` or ``3``, unquoted."""
    return GoValue(str(value))


def labels_errors(path: str, labels: Any) -> list[FieldError]:
    """ValidateLabels: every key a qualified name, every value a label value."""
    errors: list[FieldError] = []
    for key, value in as_map(labels).items():
        errors += [FieldError.invalid(path, key, m) for m in qualified_name_errors(key)]
        text = as_str(value)
        errors += [FieldError.invalid(path, text, m) for m in label_value_errors(text)]
    return errors


_SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


def label_selector_errors(path: str, selector: Any) -> list[FieldError]:
    """ValidateLabelSelector (metav1): matchLabels and matchExpressions."""
    selector = as_map(selector)
    errors = labels_errors(f"{path}.matchLabels", selector.get("matchLabels"))
    for i, expr in enumerate(map(as_map, as_list(selector.get("matchExpressions")))):
        where = f"{path}.matchExpressions[{i}]"
        operator, values = as_str(expr.get("operator")), as_list(expr.get("values"))
        if operator in ("In", "NotIn") and not values:
            errors.append(
                FieldError.required(
                    f"{where}.values", "must be specified when `operator` is 'In' or 'NotIn'"
                )
            )
        elif operator in ("Exists", "DoesNotExist") and values:
            errors.append(
                FieldError.forbidden(
                    f"{where}.values",
                    "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                )
            )
        elif operator not in _SELECTOR_OPERATORS:
            errors.append(
                FieldError.invalid(f"{where}.operator", operator, "not a valid selector operator")
            )
        key = as_str(expr.get("key"))
        errors += [FieldError.invalid(f"{where}.key", key, m) for m in qualified_name_errors(key)]
    return errors


def selector_matches(selector: Mapping[str, Any], labels: Mapping[str, Any]) -> bool:
    """Whether a LabelSelector selects ``labels`` (an empty selector selects everything)."""
    for key, value in as_map(selector.get("matchLabels")).items():
        if labels.get(key) != value:
            return False
    for expr in map(as_map, as_list(selector.get("matchExpressions"))):
        key, operator = as_str(expr.get("key")), as_str(expr.get("operator"))
        values = [str(v) for v in as_list(expr.get("values"))]
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


def int_or_percent_errors(path: str, value: Any) -> list[FieldError]:
    """ValidatePositiveIntOrPercent: a non-negative int or ``N%``."""
    if isinstance(value, str):
        return [FieldError.invalid(path, go_int_or_string(value), m) for m in percent_errors(value)]
    if isinstance(value, int) and value < 0:
        return [FieldError.invalid(path, value, "must be greater than or equal to 0")]
    return []


def percent_over_100(path: str, value: Any) -> list[FieldError]:
    """IsNotMoreThan100Percent."""
    if isinstance(value, str) and not percent_errors(value) and int(value[:-1]) > 100:
        return [FieldError.invalid(path, go_int_or_string(value), "must not be greater than 100%")]
    return []
