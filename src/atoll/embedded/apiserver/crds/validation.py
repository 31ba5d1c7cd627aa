"""Validation of a custom resource against its CRD's OpenAPI v3 schema, as kube-apiserver does it.

kube validates custom resources with kube-openapi's validator (a fork of go-openapi) and turns
its results into field errors; clients show those messages verbatim, so this module follows
that validator's semantics and wording rather than JSON Schema's:

- types are JSON types, with ``1.0`` accepted as an integer and ``true`` never a number;
  ``null`` is only valid where ``nullable: true``; ``x-kubernetes-int-or-string`` means
  ``integer`` or ``string``; ``x-kubernetes-preserve-unknown-fields`` without a type allows
  anything;
- every check of a node runs (a type error does not hide an enum error), but string checks
  stop at the first failure and ``minProperties``/``maxProperties`` failures hide the
  properties' own errors, as in kube-openapi;
- ``format`` is only checked for the formats kube checks (see ``_formats``);
- ``allOf``/``anyOf``/``oneOf``/``not`` add kube's composite messages, reported on the
  validated object's own path (the root's is empty), plus the errors of the best candidate.

After the schema, kube runs two more checks that are not part of OpenAPI: embedded resources
(``x-kubernetes-embedded-resource``) need ``apiVersion`` and ``kind``, and lists with
``x-kubernetes-list-type`` ``set`` or ``map`` must not repeat items or keys. Those live in
``_listmaps`` and ``_embedded`` and are included here.

The caller validates ``metadata`` itself and should pass the object without it (kube's root
``metadata`` schema may only restrict ``name`` and ``generateName``).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from atoll.errors import FieldError

from ._embedded import embedded_resource_errors
from ._formats import checked_format, format_ok
from ._listmaps import list_type_errors
from ._values import as_list, go_float, go_json, is_number, json_equal, json_key, json_type, mapping

__all__ = ["validate_object"]

_EPSILON = 1e-9  # go-openapi's tolerance for multipleOf on floats
_MAX_JSON_INTEGER = 2.0**53


def validate_object(obj: Any, schema: Mapping[str, Any], *, path: str = "") -> list[FieldError]:
    """All the ways ``obj`` violates ``schema``; ``path`` prefixes every field path."""
    errors = _Validator(path).value(obj, schema, "")
    errors += embedded_resource_errors(obj, schema, path)
    errors += list_type_errors(obj, schema, path)
    return errors


class _Validator:
    """One validation run: ``prefix`` is the caller's path, ``name`` kube-openapi's path."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def field(self, name: str) -> str:
        if not name:
            return self.prefix
        if not self.prefix:
            return name
        return self.prefix + name if name.startswith("[") else f"{self.prefix}.{name}"

    def value(self, value: Any, s: Any, name: str) -> list[FieldError]:
        if not isinstance(s, Mapping):
            return []
        errors = self.type_errors(value, s, name)
        if value is None:
            return errors + self.enum_errors(value, s, name)
        errors += self.junctor_errors(value, s, name)
        if isinstance(value, str):
            errors += self.string_errors(value, s, name)
            errors += self.format_errors(value, s, name)
        if is_number(value):
            errors += self.number_errors(value, s, name)
        if isinstance(value, list):
            errors += self.array_errors(value, s, name)
        errors += self.enum_errors(value, s, name)
        if isinstance(value, Mapping):
            errors += self.object_errors(value, s, name)
        return errors

    def type_errors(self, value: Any, s: Mapping[str, Any], name: str) -> list[FieldError]:
        types = _types(s)
        fmt = checked_format(s.get("format"))
        if not types and not fmt:
            return []
        if value is None:
            if types and s.get("nullable") is not True:
                return [self._type_invalid(name, ",".join(types), "null")]
            return []
        actual = json_type(value)
        matches = (
            actual in types
            or (actual == "number" and "integer" in types and _json_integer(value))
            or (actual == "integer" and "number" in types)
        )
        textual = isinstance(value, str | list)
        if fmt and not textual and not matches:
            # go-openapi compares the value's own format ("int64", "double" or "") first.
            return [self._type_invalid(name, fmt, _native_format(value))]
        if fmt and textual and not {"integer", "number"} & set(types):
            return []  # kube-openapi skips the type check for formatted strings and lists
        return [] if matches else [self._type_invalid(name, ",".join(types), actual)]

    def _type_invalid(self, name: str, expected: str, got: str) -> FieldError:
        detail = _in_body(name, f"must be of type {expected}: {_quote(got)}")
        return FieldError.type_invalid(self.field(name), got, detail)

    def junctor_errors(self, value: Any, s: Mapping[str, Any], name: str) -> list[FieldError]:
        errors = self.any_of_errors(value, s, name) + self.one_of_errors(value, s, name)
        all_of = [self.value(value, sub, name) for sub in _schemas(s, "allOf")]
        if any(all_of):
            errors += [e for result in all_of for e in result]
            suffix = ". None validated" if all(all_of) else ""
            message = f"{_quote(name)} must validate all the schemas (allOf){suffix}"
            errors.append(self._composite(message))
        not_schema = mapping(s.get("not"))
        if not_schema is not None and not self.value(value, not_schema, name):
            errors.append(self._composite(f"{_quote(name)} must not validate the schema (not)"))
        return errors

    def any_of_errors(self, value: Any, s: Mapping[str, Any], name: str) -> list[FieldError]:
        results = [self.value(value, sub, name) for sub in _schemas(s, "anyOf")]
        if not results or not all(results):
            return []
        message = f"{_quote(name)} must validate at least one schema (anyOf)"
        return [self._composite(message), *min(results, key=len)]

    def one_of_errors(self, value: Any, s: Mapping[str, Any], name: str) -> list[FieldError]:
        results = [self.value(value, sub, name) for sub in _schemas(s, "oneOf")]
        valid = sum(1 for result in results if not result)
        if not results or valid == 1:
            return []
        found = "Found none valid" if valid == 0 else f"Found {valid} valid alternatives"
        message = f"{_quote(name)} must validate one and only one schema (oneOf). {found}"
        best = min(results, key=len) if valid == 0 else []
        return [self._composite(message), *best]

    def _composite(self, message: str) -> FieldError:
        # kube reports composite failures on the path it validates from, with an empty value.
        return FieldError.invalid(self.prefix, "", message)

    def string_errors(self, value: str, s: Mapping[str, Any], name: str) -> list[FieldError]:
        field = self.field(name)
        max_length = _count(s, "maxLength")
        if max_length is not None and len(value) > max_length:
            return [FieldError.too_long(field, value, max_length)]
        min_length = _count(s, "minLength")
        if min_length is not None and len(value) < min_length:
            detail = _in_body(name, f"should be at least {min_length} chars long")
            return [FieldError.invalid(field, value, detail)]
        pattern = s.get("pattern")
        if isinstance(pattern, str) and pattern:
            compiled = _compile(pattern)
            if compiled is not None and compiled.search(value) is None:
                return [
                    FieldError.invalid(field, value, _in_body(name, f"should match '{pattern}'"))
                ]
        return []

    def format_errors(self, value: str, s: Mapping[str, Any], name: str) -> list[FieldError]:
        fmt = checked_format(s.get("format"))
        if fmt is None or format_ok(fmt, value):
            return []
        detail = _in_body(name, f"must be of type {fmt}: {_quote(value)}")
        return [FieldError.type_invalid(self.field(name), value, detail)]

    def number_errors(self, value: float, s: Mapping[str, Any], name: str) -> list[FieldError]:
        errors = []
        factor = s.get("multipleOf")
        if is_number(factor) and factor > 0 and not _is_multiple(value, factor):
            detail = _in_body(name, f"should be a multiple of {go_float(factor)}")
            errors.append(FieldError.invalid(self.field(name), value, detail))
        bounds = (
            ("minimum", "exclusiveMinimum", "greater than"),
            ("maximum", "exclusiveMaximum", "less than"),
        )
        for keyword, exclusive_keyword, relation in bounds:
            bound = s.get(keyword)
            if not is_number(bound):
                continue
            exclusive = s.get(exclusive_keyword) is True
            if _violates(value, bound, below=keyword == "minimum", exclusive=exclusive):
                text = (
                    f"should be {relation}{'' if exclusive else ' or equal to'} {go_float(bound)}"
                )
                errors.append(FieldError.invalid(self.field(name), value, _in_body(name, text)))
        return errors

    def array_errors(self, value: list[Any], s: Mapping[str, Any], name: str) -> list[FieldError]:
        errors = []
        items = mapping(s.get("items"))
        if items is not None:
            for i, item in enumerate(value):
                errors += self.value(item, items, f"{name}[{i}]")
        field = self.field(name)
        min_items = _count(s, "minItems")
        if min_items is not None and len(value) < min_items:
            detail = _in_body(name, f"should have at least {min_items} items")
            errors.append(FieldError.invalid(field, len(value), detail))
        max_items = _count(s, "maxItems")
        if max_items is not None and len(value) > max_items:
            errors.append(_too_many(field, len(value), max_items))
        if s.get("uniqueItems") is True and len({json_key(v) for v in value}) < len(value):
            detail = _in_body(name, "shouldn't contain duplicates")
            errors.append(FieldError.invalid(field, "", detail))
        return errors

    def enum_errors(self, value: Any, s: Mapping[str, Any], name: str) -> list[FieldError]:
        enum = s.get("enum")
        if not isinstance(enum, list) or not enum:
            return []
        if any(json_equal(value, allowed) for allowed in enum):
            return []
        supported = [v if isinstance(v, str) else go_json(v) for v in enum]
        return [FieldError.not_supported(self.field(name), value, supported)]

    def object_errors(
        self, value: Mapping[str, Any], s: Mapping[str, Any], name: str
    ) -> list[FieldError]:
        field = self.field(name)
        count = len(value)
        min_props = _count(s, "minProperties")
        if min_props is not None and count < min_props:
            detail = _in_body(name, f"should have at least {min_props} properties")
            return [FieldError.invalid(field, count, detail)]
        max_props = _count(s, "maxProperties")
        if max_props is not None and count > max_props:
            return [_too_many(field, count, max_props)]
        properties = mapping(s.get("properties")) or {}
        errors = self.additional_errors(value, s, name, properties)
        for key, sub in properties.items():
            if key in value:
                errors += self.value(value[key], sub, _child(name, key))
        for key in as_list(s.get("required")):
            if isinstance(key, str) and key not in value:
                errors.append(FieldError.required(self.field(_child(name, key))))
        return errors

    def additional_errors(
        self,
        value: Mapping[str, Any],
        s: Mapping[str, Any],
        name: str,
        properties: Mapping[str, Any],
    ) -> list[FieldError]:
        additional = s.get("additionalProperties")
        extra = [key for key in value if key not in properties]
        if additional is False:
            return [
                FieldError.invalid(
                    self.field(name), key, _in_body(_child(name, key), "is a forbidden property")
                )
                for key in extra
            ]
        if isinstance(additional, Mapping):
            return [
                e for key in extra for e in self.value(value[key], additional, _child(name, key))
            ]
        return []


def _types(s: Mapping[str, Any]) -> list[str]:
    if s.get("x-kubernetes-int-or-string") is True:
        return ["integer", "string"]
    kind = s.get("type")
    return [kind] if isinstance(kind, str) and kind else []


def _json_integer(value: float) -> bool:
    return math.isfinite(value) and value.is_integer() and abs(value) <= _MAX_JSON_INTEGER


def _native_format(value: Any) -> str:
    if isinstance(value, bool):
        return ""
    if isinstance(value, int):
        return "int64"
    return "double" if isinstance(value, float) else ""


def _is_multiple(value: float, factor: float) -> bool:
    if isinstance(value, int) and float(factor).is_integer():
        return value % int(factor) == 0
    quotient = (1 / factor) * value if factor < 1 else value / factor
    return math.isfinite(quotient) and abs(quotient - round(quotient)) < _EPSILON


def _violates(value: float, bound: float, *, below: bool, exclusive: bool) -> bool:
    if below:
        return value <= bound if exclusive else value < bound
    return value >= bound if exclusive else value > bound


def _too_many(field: str, actual: int, limit: int) -> FieldError:
    noun = "item" if limit == 1 else "items"
    return FieldError("TooMany", field, actual, f"must have at most {limit} {noun}")


def _child(name: str, key: str) -> str:
    return f"{name}.{key}" if name else key


def _in_body(name: str, text: str) -> str:
    # kube-openapi's "%s in body …"; at the root the name is empty.
    return f"{name} in body {text}" if name else f"in body {text}"


def _quote(text: str) -> str:
    """Go's ``%q``."""
    return json.dumps(text, ensure_ascii=False)


def _count(s: Mapping[str, Any], name: str) -> int | None:
    value = s.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _schemas(s: Mapping[str, Any], name: str) -> list[Mapping[str, Any]]:
    value = s.get(name)
    return [sub for sub in value if isinstance(sub, Mapping)] if isinstance(value, list) else []


@lru_cache(maxsize=512)
def _compile(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except (re.error, RecursionError, OverflowError):
        return None  # rejected when the CRD was created; never fail a request over it
