"""Kubernetes label and field selectors: parsing, matching and rendering.

List, watch and delete-collection requests carry ``labelSelector`` and ``fieldSelector`` query
parameters; controllers and PodDisruptionBudgets carry ``metav1.LabelSelector`` objects. This
module turns all three into immutable values that match plain label/field dicts, with the grammar
and error wording of apimachinery's ``labels.Parse`` and ``fields.ParseSelector`` so clients see
the messages kube-apiserver would give them. Every parse error is a ``BadRequest`` (HTTP 400).

Deliberate simplifications against upstream:
- ``k==v`` is stored as ``k=v`` (same meaning), so ``to_string`` renders the canonical ``=``.
- Inside ``in (...)``/``notin (...)`` an empty item is the empty value wherever it appears;
  upstream rejects a few odd spellings such as ``(a,,)``. Every spelling upstream accepts parses
  to the same requirement here.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Any, NamedTuple

from atoll.errors import BadRequest, FieldError

__all__ = [
    "FieldRequirement",
    "FieldSelector",
    "LabelSelector",
    "Operator",
    "Requirement",
    "check_supported",
    "from_label_selector_object",
    "parse_int64",
    "single_value",
]

logger = logging.getLogger(__name__)


class Operator(StrEnum):
    """A label requirement's operator; the value is its spelling in selector text."""

    EQUALS = "="
    NOT_EQUALS = "!="
    IN = "in"
    NOT_IN = "notin"
    EXISTS = "exists"
    DOES_NOT_EXIST = "!"
    GREATER_THAN = ">"
    LESS_THAN = "<"


_INT64 = re.compile(r"[+-]?[0-9]+")


def parse_int64(text: str) -> int | None:
    """Go's ``strconv.ParseInt(text, 10, 64)``: ASCII digits with an optional sign, in range."""
    if not _INT64.fullmatch(text):
        return None
    number = int(text)
    return number if -(2**63) <= number < 2**63 else None


# --- validation: apimachinery's IsQualifiedName / IsValidLabelValue, with their wording --------

_NAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_NAME_MSG = (
    "must consist of alphanumeric characters, '-', '_' or '.', "
    "and must start and end with an alphanumeric character"
)
_SUBDOMAIN_FMT = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character"
)
_VALUE_FMT = f"({_NAME_FMT})?"
_VALUE_MSG = "a valid label must be an empty string or consist of alphanumeric characters, " + (
    "'-', '_' or '.', and must start and end with an alphanumeric character"
)
_NAME_RE, _SUBDOMAIN_RE, _VALUE_RE = map(re.compile, (_NAME_FMT, _SUBDOMAIN_FMT, _VALUE_FMT))


def _regex_error(message: str, pattern: str, *examples: str) -> str:
    # Go's validation.RegexError, double spaces included, so messages match byte for byte.
    shown = " or ".join(f"'{example}', " for example in examples)
    return f"{message} (e.g. {shown}regex used for validation is '{pattern}')"


def _key_details(key: str) -> list[str]:
    """Why ``key`` is not a qualified name (``[prefix/]name``); empty when it is one."""
    parts = key.split("/")
    if len(parts) > 2:
        example = _regex_error(_NAME_MSG, _NAME_FMT, "MyName", "my.name", "123-abc")
        tail = " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        return [f"a qualified name {example}{tail}"]
    details = []
    if len(parts) == 2:
        prefix = parts[0]
        if not prefix:
            details.append("prefix part must be non-empty")
        if len(prefix) > 253:
            details.append("prefix part must be no more than 253 characters")
        if prefix and not _SUBDOMAIN_RE.fullmatch(prefix):
            details.append(
                "prefix part " + _regex_error(_SUBDOMAIN_MSG, _SUBDOMAIN_FMT, "example.com")
            )
    name = parts[-1]
    if not name:
        details.append("name part must be non-empty")
    elif len(name) > 63:
        details.append("name part must be no more than 63 characters")
    if not _NAME_RE.fullmatch(name):
        details.append(
            "name part " + _regex_error(_NAME_MSG, _NAME_FMT, "MyName", "my.name", "123-abc")
        )
    return details


def _value_details(value: str) -> list[str]:
    details = []
    if len(value) > 63:
        details.append("must be no more than 63 characters")
    if not _VALUE_RE.fullmatch(value):
        details.append(_regex_error(_VALUE_MSG, _VALUE_FMT, "MyValue", "my_value", "12345"))
    return details


def _key_problem(key: str) -> str | None:
    details = _key_details(key)
    return str(FieldError.invalid("", key, "; ".join(details))) if details else None


def _values_problems(key: str, values: list[str], *, operator: Operator) -> list[str]:
    """Upstream ``NewRequirement``'s checks on the values, as ``field.Error`` texts."""
    problems = []
    if operator in (Operator.IN, Operator.NOT_IN) and not values:
        detail = "for 'in', 'notin' operators, values set can't be empty"
        problems.append(FieldError.invalid("values", values, detail))
    if operator in (Operator.EXISTS, Operator.DOES_NOT_EXIST) and values:
        detail = "values set must be empty for exists and does not exist"
        problems.append(FieldError.invalid("values", values, detail))
    if operator in (Operator.GREATER_THAN, Operator.LESS_THAN):
        if len(values) != 1:
            detail = "for 'Gt', 'Lt' operators, exactly one value is required"
            problems.append(FieldError.invalid("values", values, detail))
        for i, value in enumerate(values):
            if parse_int64(value) is None:
                detail = "for 'Gt', 'Lt' operators, the value must be an integer"
                problems.append(FieldError.invalid(f"values[{i}]", value, detail))
    for i, value in enumerate(values):
        if details := _value_details(value):
            problems.append(FieldError.invalid(f"values[{i}][{key}]", value, "; ".join(details)))
    return [str(problem) for problem in problems]


def _aggregate(problems: list[str]) -> str:
    """Go's ``utilerrors.Aggregate`` text: one message bare, several in brackets."""
    unique = list(dict.fromkeys(problems))
    return unique[0] if len(unique) == 1 else "[" + ", ".join(unique) + "]"


# --- label selectors --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Requirement:
    """One ANDed term of a label selector; values are kept sorted and unique (canonical form)."""

    key: str
    operator: Operator
    values: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", tuple(sorted(set(self.values))))

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        match self.operator:
            case Operator.EQUALS | Operator.IN:
                return present and labels[self.key] in self.values
            case Operator.NOT_EQUALS | Operator.NOT_IN:
                # Upstream semantics: a missing key satisfies a negative requirement.
                return not present or labels[self.key] not in self.values
            case Operator.EXISTS:
                return present
            case Operator.DOES_NOT_EXIST:
                return not present
        return present and self._compare(labels[self.key])

    def _compare(self, label_value: str) -> bool:
        if len(self.values) != 1:
            return False
        have, want = parse_int64(label_value), parse_int64(self.values[0])
        if have is None or want is None:
            return False
        return have > want if self.operator is Operator.GREATER_THAN else have < want

    def to_string(self) -> str:
        joined = ",".join(self.values)
        match self.operator:
            case Operator.EXISTS:
                return self.key
            case Operator.DOES_NOT_EXIST:
                return f"!{self.key}"
            case Operator.IN | Operator.NOT_IN:
                return f"{self.key} {self.operator.value} ({joined})"
        return f"{self.key}{self.operator.value}{joined}"


@dataclass(frozen=True, slots=True)
class LabelSelector:
    """An AND of requirements, sorted by key like upstream; no requirements matches everything.

    ``selects_nothing`` models a null ``metav1.LabelSelector`` (upstream ``labels.Nothing()``).
    """

    requirements: tuple[Requirement, ...] = ()
    selects_nothing: bool = False

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.requirements, key=lambda r: r.key))
        object.__setattr__(self, "requirements", ordered)

    @classmethod
    def parse(cls, text: str) -> LabelSelector:
        """Parse ``labelSelector`` text (``labels.Parse``); raise ``BadRequest`` when malformed."""
        try:
            return cls(tuple(_LabelParser(text).parse()))
        except _SyntaxProblem as exc:
            raise BadRequest(str(exc)) from None

    @classmethod
    def everything(cls) -> LabelSelector:
        return cls()

    @classmethod
    def nothing(cls) -> LabelSelector:
        return cls(selects_nothing=True)

    @property
    def is_empty(self) -> bool:
        """True when the selector does not restrict anything (upstream ``Empty()``)."""
        return not self.requirements and not self.selects_nothing

    def matches(self, labels: Mapping[str, str]) -> bool:
        if self.selects_nothing:
            return False
        return all(r.matches(labels) for r in self.requirements)

    def to_string(self) -> str:
        """Canonical text, e.g. ``app=web,tier in (a,b)``; ``""`` for everything and nothing."""
        return ",".join(r.to_string() for r in self.requirements)


class _SyntaxProblem(Exception):
    """A parse error; its text is the message a client gets in the 400 Status."""


class _Tok(Enum):
    END = "end"
    IDENT = "identifier"
    COMMA = ","
    OPEN = "("
    CLOSE = ")"
    NOT = "!"
    EQUALS = "="
    DOUBLE_EQUALS = "=="
    NOT_EQUALS = "!="
    GREATER = ">"
    LESS = "<"


_SYMBOLS = {tok.value: tok for tok in _Tok if tok not in (_Tok.END, _Tok.IDENT)}
_SPECIAL = frozenset("=!(),<>")
_WHITESPACE = frozenset(" \t\r\n")
_BINARY = {
    _Tok.EQUALS: Operator.EQUALS,
    _Tok.DOUBLE_EQUALS: Operator.EQUALS,
    _Tok.NOT_EQUALS: Operator.NOT_EQUALS,
    _Tok.GREATER: Operator.GREATER_THAN,
    _Tok.LESS: Operator.LESS_THAN,
}


def _tokenize(text: str) -> list[tuple[_Tok, str]]:
    """Upstream's lexer: identifiers run to whitespace or a symbol; ``!=``/``==`` are one token.

    ``in``/``notin`` stay identifiers: upstream treats them as keywords only where an operator
    is expected, which the parser decides.
    """
    tokens: list[tuple[_Tok, str]] = []
    i = 0
    while i < len(text):
        if text[i] in _WHITESPACE:
            i += 1
            continue
        if text[i] in _SPECIAL:
            symbol = text[i : i + 2] if text[i : i + 2] in ("!=", "==") else text[i]
            tokens.append((_SYMBOLS[symbol], symbol))
            i += len(symbol)
            continue
        end = i
        while end < len(text) and text[end] not in _SPECIAL and text[end] not in _WHITESPACE:
            end += 1
        tokens.append((_Tok.IDENT, text[i:end]))
        i = end
    tokens.append((_Tok.END, ""))
    return tokens


class _LabelParser:
    """Recursive descent over the token list, with upstream's error messages."""

    def __init__(self, text: str) -> None:
        self._tokens = _tokenize(text)
        self._pos = 0

    def _peek(self) -> tuple[_Tok, str]:
        return self._tokens[self._pos]

    def _take(self) -> tuple[_Tok, str]:
        token = self._tokens[self._pos]
        self._pos = min(self._pos + 1, len(self._tokens) - 1)
        return token

    def parse(self) -> list[Requirement]:
        requirements: list[Requirement] = []
        kind, literal = self._peek()
        if kind is _Tok.END:
            return requirements
        if kind not in (_Tok.IDENT, _Tok.NOT):
            raise _SyntaxProblem(f"found '{literal}', expected: !, identifier, or 'end of string'")
        while True:
            try:
                requirements.append(self._requirement())
            except _SyntaxProblem as exc:
                raise _SyntaxProblem(f"unable to parse requirement: {exc}") from None
            kind, literal = self._take()
            if kind is _Tok.END:
                return requirements
            if kind is not _Tok.COMMA:
                raise _SyntaxProblem(f"found '{literal}', expected: ',' or 'end of string'")
            kind, literal = self._peek()
            if kind not in (_Tok.IDENT, _Tok.NOT):
                raise _SyntaxProblem(f"found '{literal}', expected: identifier after ','")

    def _requirement(self) -> Requirement:
        negated = self._peek()[0] is _Tok.NOT
        if negated:
            self._take()
        kind, key = self._take()
        if kind is not _Tok.IDENT:
            raise _SyntaxProblem(f"found '{key}', expected: identifier")
        if problem := _key_problem(key):
            raise _SyntaxProblem(problem)
        if negated:
            return self._build(key, [], operator=Operator.DOES_NOT_EXIST)
        if self._peek()[0] in (_Tok.END, _Tok.COMMA):
            return self._build(key, [], operator=Operator.EXISTS)
        operator = self._operator()
        if operator in (Operator.IN, Operator.NOT_IN):
            return self._build(key, self._value_set(), operator=operator)
        return self._build(key, [self._exact_value()], operator=operator)

    @staticmethod
    def _build(key: str, values: list[str], *, operator: Operator) -> Requirement:
        values = sorted(set(values))
        if problems := _values_problems(key, values, operator=operator):
            raise _SyntaxProblem(_aggregate(problems))
        return Requirement(key, operator, tuple(values))

    def _operator(self) -> Operator:
        kind, literal = self._take()
        if kind is _Tok.IDENT and literal in ("in", "notin"):
            return Operator(literal)
        if kind in _BINARY:
            return _BINARY[kind]
        raise _SyntaxProblem(f"found '{literal}', expected: in, notin, =, ==, !=, gt, lt")

    def _value_set(self) -> list[str]:
        kind, literal = self._take()
        if kind is not _Tok.OPEN:
            raise _SyntaxProblem(f"found '{literal}' expected: '('")
        values: list[str] = []
        expect_item = True
        while True:
            kind, literal = self._take()
            if kind in (_Tok.CLOSE, _Tok.COMMA):
                if expect_item:
                    values.append("")
                if kind is _Tok.CLOSE:
                    return values
                expect_item = True
            elif kind is _Tok.IDENT and expect_item:
                values.append(literal)
                expect_item = False
            elif not expect_item:
                raise _SyntaxProblem(f"found '{literal}', expected: ',' or ')'")
            elif not values:
                raise _SyntaxProblem(f"found '{literal}', expected: ',', ')' or identifier")
            else:
                raise _SyntaxProblem(f"found '{literal}', expected: ',', or identifier")

    def _exact_value(self) -> str:
        kind, literal = self._peek()
        if kind in (_Tok.END, _Tok.COMMA):
            return ""
        self._take()
        if kind is not _Tok.IDENT:
            raise _SyntaxProblem(f"found '{literal}', expected: identifier")
        return literal


_OBJECT_OPERATORS = {
    "In": Operator.IN,
    "NotIn": Operator.NOT_IN,
    "Exists": Operator.EXISTS,
    "DoesNotExist": Operator.DOES_NOT_EXIST,
}


def from_label_selector_object(sel: Mapping[str, Any] | None) -> LabelSelector:
    """A ``metav1.LabelSelector`` dict as a selector (upstream ``LabelSelectorAsSelector``).

    ``None`` selects nothing and ``{}`` everything, as upstream. Bad keys, values or operators
    raise ``BadRequest``.
    """
    if sel is None:
        return LabelSelector.nothing()
    labels, expressions = sel.get("matchLabels") or {}, sel.get("matchExpressions") or []
    if not isinstance(labels, Mapping) or not isinstance(expressions, list):
        raise BadRequest("matchLabels must be an object and matchExpressions a list")
    requirements = [
        _checked(key, [value], operator=Operator.EQUALS) for key, value in labels.items()
    ]
    for expr in expressions:
        if not isinstance(expr, Mapping):
            raise BadRequest("each of matchExpressions must be an object")
        operator = _OBJECT_OPERATORS.get(str(expr.get("operator")))
        if operator is None:
            quoted = _go_quote(str(expr.get("operator", "")))
            raise BadRequest(f"{quoted} is not a valid label selector operator")
        requirements.append(_checked(expr.get("key"), expr.get("values") or [], operator=operator))
    return LabelSelector(tuple(requirements))


def _go_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _checked(key: Any, values: Any, *, operator: Operator) -> Requirement:
    if not isinstance(values, list | tuple):
        raise BadRequest("label selector values must be a list")
    if not isinstance(key, str) or not all(isinstance(v, str) for v in values):
        raise BadRequest("label selector keys and values must be strings")
    problems = [p for p in [_key_problem(key)] if p]
    problems += _values_problems(key, sorted(set(values)), operator=operator)
    if problems:
        raise BadRequest(_aggregate(problems))
    return Requirement(key, operator, tuple(values))


# --- field selectors --------------------------------------------------------------------------


class FieldRequirement(NamedTuple):
    """One ANDed term of a field selector; ``operator`` is ``"="`` or ``"!="``."""

    field: str
    operator: str
    value: str

    def matches(self, fields: Mapping[str, str]) -> bool:
        # Upstream reads a missing field as "": ``x=`` matches objects without x.
        equal = fields.get(self.field, "") == self.value
        return equal if self.operator == "=" else not equal


@dataclass(frozen=True, slots=True)
class FieldSelector:
    """An AND of ``field=value``/``field!=value`` terms (upstream ``fields.ParseSelector``)."""

    requirements: tuple[FieldRequirement, ...] = ()

    @classmethod
    def parse(cls, text: str) -> FieldSelector:
        """Parse ``fieldSelector`` text; raise ``BadRequest`` when malformed."""
        terms = []
        for part in _split_field_terms(text):
            if not part:
                continue
            split = _split_field_term(part)
            if split is None:
                raise BadRequest(f"invalid selector: '{text}'; can't understand '{part}'")
            lhs, operator, rhs = split
            try:
                value = _unescape_field_value(rhs)
            except _SyntaxProblem as exc:
                raise BadRequest(str(exc)) from None
            terms.append(FieldRequirement(lhs, "!=" if operator == "!=" else "=", value))
        return cls(tuple(terms))

    @property
    def is_empty(self) -> bool:
        return not self.requirements

    def matches(self, fields: Mapping[str, str]) -> bool:
        return all(term.matches(fields) for term in self.requirements)

    def to_string(self) -> str:
        return ",".join(
            f"{t.field}{t.operator}{_escape_field_value(t.value)}" for t in self.requirements
        )


def _split_field_terms(text: str) -> list[str]:
    """Split on commas that no backslash escapes; escapes stay in the terms."""
    terms, start, escaped = [], 0, False
    for i, char in enumerate(text):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ",":
            terms.append(text[start:i])
            start = i + 1
    terms.append(text[start:])
    return terms


def _split_field_term(term: str) -> tuple[str, str, str] | None:
    # The first operator from the left wins; at one position "!=" and "==" beat "=".
    for i in range(len(term)):
        for operator in ("!=", "==", "="):
            if term.startswith(operator, i):
                return term[:i], operator, term[i + len(operator) :]
    return None


def _unescape_field_value(raw: str) -> str:
    chars, escaped = [], False
    for char in raw:
        if escaped:
            if char not in "\\,=":
                raise _SyntaxProblem(f"invalid field selector: invalid escape sequence: \\{char}")
            chars.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in ",=":
            raise _SyntaxProblem(f"invalid field selector: unescaped character in value: {char}")
        else:
            chars.append(char)
    if escaped:
        raise _SyntaxProblem("invalid field selector: invalid escape sequence: \\")
    return "".join(chars)


def _escape_field_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=")


def check_supported(selector: FieldSelector, supported: Collection[str], *, resource: str) -> None:
    """Raise ``BadRequest('field label not supported: f')`` for the first unsupported field.

    ``resource`` only goes to the debug log: kube-apiserver's message does not name it.
    """
    for term in selector.requirements:
        if term.field not in supported:
            logger.debug("field selector on %s uses unsupported field %r", resource, term.field)
            raise BadRequest(f"field label not supported: {term.field}")


def single_value(selector: FieldSelector | LabelSelector, field: str) -> str | None:
    """The one value ``selector`` pins ``field`` (or label key) to, if any.

    Upstream ``RequiresExactMatch``: lets a list serve ``metadata.name=x`` with one lookup. The
    caller still applies ``matches`` to what it found, which also settles contradictory terms
    such as ``metadata.name=a,metadata.name=b``.
    """
    if isinstance(selector, FieldSelector):
        for term in selector.requirements:
            if term.field == field and term.operator == "=":
                return term.value
        return None
    for requirement in selector.requirements:
        if requirement.key == field:
            pins = requirement.operator in (Operator.EQUALS, Operator.IN)
            return requirement.values[0] if pins and len(requirement.values) == 1 else None
    return None
