"""A small JSONPath evaluator for CRD ``additionalPrinterColumns``.

kube-apiserver evaluates a column's ``jsonPath`` with client-go's template-style JSONPath
(``{.spec.replicas}``) and missing keys allowed. This module covers the subset printer columns
use: fields (``.a.b``, ``['a.b/c']``), wildcards (``.*``, ``[*]``), indexes and slices
(``[0]``, ``[-1]``, ``[1:3]``), recursive descent (``..name``) and filters
(``[?(@.type=="Ready")]``, ``[?(@.ready)]`` for existence, ``== != < > <= >=``).

``find`` returns every match in document order; a missing key, an index out of range or a
filter on something that is not a list yields no match rather than an error, so a column over
a partial object is simply empty.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

_SPECIAL = ".[]()"
_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
}


class JSONPathError(ValueError):
    """The expression is not a JSONPath this evaluator understands."""


@dataclass(frozen=True, slots=True)
class _Field:
    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Wildcard:
    pass


@dataclass(frozen=True, slots=True)
class _Recursive:
    name: str


@dataclass(frozen=True, slots=True)
class _Index:
    start: int | None
    end: int | None
    step: int | None
    is_slice: bool


@dataclass(frozen=True, slots=True)
class _Filter:
    left: tuple[_Step, ...]
    op: str | None
    right: Any


_Step = _Field | _Wildcard | _Recursive | _Index | _Filter


@dataclass(frozen=True, slots=True)
class JSONPath:
    """A parsed expression; ``find`` evaluates it against decoded JSON."""

    expression: str
    steps: tuple[_Step, ...]

    def find(self, data: Any) -> list[Any]:
        return _evaluate(self.steps, [data])


def parse_jsonpath(expression: str) -> JSONPath:
    """Parse ``expression``, with or without the surrounding ``{}``; raise ``JSONPathError``."""
    body = expression.strip()
    if body.startswith("{") and body.endswith("}"):
        body = body[1:-1].strip()
    if body.startswith("$"):
        body = body[1:]
    if not body:
        raise JSONPathError(f"empty JSONPath expression {expression!r}")
    steps, end = _Parser(body).path(0)
    if end != len(body):
        raise JSONPathError(f"unexpected {body[end:]!r} in JSONPath {expression!r}")
    return JSONPath(expression, steps)


def find_results(expression: str, data: Any) -> list[Any]:
    """Every value ``expression`` selects in ``data`` (parsing it first)."""
    return parse_jsonpath(expression).find(data)


class _Parser:
    """A recursive-descent parser over one expression body; methods return (result, next pos)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def fail(self, position: int, what: str) -> JSONPathError:
        return JSONPathError(f"{what} at position {position} of JSONPath {self.text!r}")

    def path(self, position: int, stop: str = "") -> tuple[tuple[_Step, ...], int]:
        steps: list[_Step] = []
        text = self.text
        while position < len(text) and text[position] not in stop:
            char = text[position]
            if text.startswith("..", position):
                name, position = self.name(position + 2)
                steps.append(_Recursive(name))
            elif char == ".":
                name, position = self.name(position + 1)
                steps.append(_Wildcard() if name == "*" else _Field((name,)))
            elif char == "[":
                step, position = self.bracket(position + 1)
                steps.append(step)
            else:
                raise self.fail(position, f"unexpected {char!r}")
        return tuple(steps), position

    def name(self, position: int) -> tuple[str, int]:
        end = position
        while end < len(self.text) and self.text[end] not in _SPECIAL and self.text[end] != " ":
            end += 1
        if end == position:
            raise self.fail(position, "missing field name")
        return self.text[position:end], end

    def bracket(self, position: int) -> tuple[_Step, int]:
        text = self.text
        closing = self._closing_bracket(position)
        inner = text[position:closing].strip()
        if inner == "*":
            return _Wildcard(), closing + 1
        if inner.startswith("?(") and inner.endswith(")"):
            return self.filter(inner[2:-1].strip(), position), closing + 1
        if inner[:1] in ("'", '"'):
            return _Field(tuple(_unquote(part.strip()) for part in _split_keys(inner))), closing + 1
        return _index(inner, self.fail(position, f"bad index {inner!r}")), closing + 1

    def _closing_bracket(self, position: int) -> int:
        quote, depth = "", 0
        for index in range(position, len(self.text)):
            char = self.text[index]
            if quote:
                quote = "" if char == quote else quote
            elif char in ("'", '"'):
                quote = char
            elif char == "(":
                depth += 1
            elif char == ")":
                depth -= 1
            elif char == "]" and depth == 0:
                return index
        raise self.fail(position, "unclosed '['")

    def filter(self, condition: str, position: int) -> _Filter:
        if not condition.startswith("@"):
            raise self.fail(position, "a filter must start with '@'")
        for symbol in _COMPARISONS:
            left, found, right = condition.partition(symbol)
            if found and not _inside_quotes(left):
                return _Filter(self._sub_path(left[1:].strip()), symbol, _literal(right.strip()))
        return _Filter(self._sub_path(condition[1:].strip()), None, None)

    def _sub_path(self, text: str) -> tuple[_Step, ...]:
        steps, end = _Parser(text).path(0)
        if end != len(text):
            raise self.fail(end, f"unexpected {text[end:]!r} in filter")
        return steps


def _inside_quotes(prefix: str) -> bool:
    return prefix.count("'") % 2 == 1 or prefix.count('"') % 2 == 1


def _split_keys(inner: str) -> list[str]:
    parts, current, quote = [], "", ""
    for char in inner:
        if quote:
            quote = "" if char == quote else quote
        elif char in ("'", '"'):
            quote = char
        elif char == ",":
            parts.append(current)
            current = ""
            continue
        current += char
    return [*parts, current]


def _unquote(token: str) -> str:
    if len(token) >= 2 and token[0] == token[-1] and token[0] in ("'", '"'):
        return token[1:-1]
    raise JSONPathError(f"bad quoted key {token!r}")


def _index(inner: str, error: JSONPathError) -> _Index:
    parts = inner.split(":")
    if len(parts) > 3:
        raise error
    try:
        numbers = [int(part) if part.strip() else None for part in parts]
    except ValueError:
        raise error from None
    if len(parts) == 1:
        if numbers[0] is None:
            raise error
        return _Index(numbers[0], None, None, is_slice=False)
    return _Index(numbers[0], numbers[1], numbers[2] if len(numbers) == 3 else None, True)


def _literal(token: str) -> Any:
    if len(token) >= 2 and token[0] == token[-1] and token[0] in ("'", '"'):
        return token[1:-1]
    if token in ("true", "false"):
        return token == "true"
    try:
        return int(token)
    except ValueError:
        pass
    try:
        return float(token)
    except ValueError:
        raise JSONPathError(f"bad literal {token!r} in filter") from None


def _evaluate(steps: tuple[_Step, ...], values: list[Any]) -> list[Any]:
    for step in steps:
        values = [found for value in values for found in _apply(step, value)]
    return values


def _apply(step: _Step, value: Any) -> list[Any]:
    if isinstance(step, _Field):
        if not isinstance(value, Mapping):
            return []
        return [value[name] for name in step.names if name in value]
    if isinstance(step, _Wildcard):
        if isinstance(value, Mapping):
            return list(value.values())
        return list(value) if isinstance(value, list) else []
    if isinstance(step, _Recursive):
        return _descend(step.name, value)
    if isinstance(step, _Index):
        return _select(step, value) if isinstance(value, list) else []
    return _filter(step, value) if isinstance(value, list) else []


def _descend(name: str, value: Any) -> list[Any]:
    found: list[Any] = []
    if isinstance(value, Mapping):
        if name in value:
            found.append(value[name])
        children: list[Any] = list(value.values())
    elif isinstance(value, list):
        children = value
    else:
        return found
    for child in children:
        found.extend(_descend(name, child))
    return found


def _select(step: _Index, values: list[Any]) -> list[Any]:
    if not step.is_slice:
        assert step.start is not None
        index = step.start + len(values) if step.start < 0 else step.start
        return [values[index]] if 0 <= index < len(values) else []
    if step.step == 0:
        return []
    return values[step.start : step.end : step.step]


def _filter(step: _Filter, values: list[Any]) -> list[Any]:
    kept = []
    for item in values:
        lefts = _evaluate(step.left, [item])
        if step.op is None:
            if lefts:
                kept.append(item)
        elif len(lefts) == 1 and _compare(step.op, lefts[0], step.right):
            kept.append(item)
    return kept


def _compare(op: str, left: Any, right: Any) -> bool:
    # Values of different kinds never match (Go's template comparison refuses them).
    numbers = (int, float)
    same_kind = (
        isinstance(left, bool) == isinstance(right, bool)
        and (isinstance(left, numbers) and isinstance(right, numbers))
    ) or type(left) is type(right)
    if not same_kind:
        return False
    try:
        return _COMPARISONS[op](left, right)
    except TypeError:
        return False
