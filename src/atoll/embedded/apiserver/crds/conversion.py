"""Conversion of CustomResourceDefinitions between apiextensions.k8s.io v1beta1 and v1.

Old clients (kubectl before 1.16, Helm 2 charts, operators of that era) still send and read
v1beta1 CRDs; Atoll stores v1. The two differ in shape only, and the conversion follows
kube's (through its internal version):

- v1beta1 may hold one ``validation`` schema, ``subresources`` and
  ``additionalPrinterColumns`` for all versions at the top of ``spec``, plus the deprecated
  ``spec.version``; v1 keeps them per version only. Going to v1beta1, settings that are the
  same for every version are lifted back to the top, which makes v1 → v1beta1 → v1 lossless;
- printer columns spell ``JSONPath`` in v1beta1 and ``jsonPath`` in v1;
- a webhook's ``webhookClientConfig``/``conversionReviewVersions`` move under
  ``conversion.webhook`` (as ``clientConfig``) in v1;
- v1beta1 defaults apply first, notably ``preserveUnknownFields: true``. It is carried into
  v1 as ``spec.preserveUnknownFields: true``, as kube does (no schema is invented). As in
  kube 1.20, ``validate_crd(..., request_version="v1beta1")`` accepts such a CRD (without a
  schema, or with a non-structural one) and its objects keep unknown fields; through v1 it
  is refused on create, and kept as it is on later v1 updates.

Fields neither version knows are kept, so nothing a client sent is silently lost.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from ._values import as_list, json_equal, mapping

__all__ = ["crd_v1_to_v1beta1", "crd_v1beta1_to_v1"]

_V1 = "apiextensions.k8s.io/v1"
_V1BETA1 = "apiextensions.k8s.io/v1beta1"
_LIFTED = (
    ("schema", "validation"),
    ("subresources", "subresources"),
    ("additionalPrinterColumns", "additionalPrinterColumns"),
)
_V1_SPEC_ORDER = ("group", "names", "scope", "versions", "conversion", "preserveUnknownFields")
_V1BETA1_SPEC_ORDER = (
    "group",
    "version",
    "names",
    "scope",
    "validation",
    "subresources",
    "versions",
    "additionalPrinterColumns",
    "selectableFields",
    "conversion",
    "preserveUnknownFields",
)
_VERSION_ORDER = (
    "name",
    "served",
    "storage",
    "deprecated",
    "deprecationWarning",
    "schema",
    "subresources",
    "additionalPrinterColumns",
    "selectableFields",
)
_COLUMN_ORDER = ("name", "type", "format", "description", "priority")


def crd_v1beta1_to_v1(obj: Mapping[str, Any]) -> dict[str, Any]:
    """A v1 copy of a v1beta1 CRD, after v1beta1's defaults."""
    crd = copy.deepcopy(dict(obj))
    spec = dict(mapping(crd.get("spec")) or {})
    _default_v1beta1(spec)
    top = {field: spec.pop(top_field, None) for field, top_field in _LIFTED}
    selectable = spec.pop("selectableFields", None)
    spec.pop("version", None)
    versions = []
    for version in as_list(spec.get("versions")):
        if not isinstance(version, Mapping):
            versions.append(version)  # left for validation to report
            continue
        version = dict(version)
        for field, value in top.items():
            if value is not None:
                version[field] = copy.deepcopy(value)
        if selectable is not None:
            version.setdefault("selectableFields", copy.deepcopy(selectable))
        if isinstance(version.get("additionalPrinterColumns"), list):
            version["additionalPrinterColumns"] = _columns(
                version["additionalPrinterColumns"], old="JSONPath", new="jsonPath"
            )
        versions.append(_ordered(version, _VERSION_ORDER))
    spec["versions"] = versions
    spec["conversion"] = _conversion_to_v1(spec.get("conversion"))
    if spec.get("preserveUnknownFields") is not True:
        spec.pop("preserveUnknownFields", None)  # false is v1's omitted zero value
    crd["apiVersion"] = _V1
    crd["spec"] = _ordered(spec, _V1_SPEC_ORDER)
    return _ordered_object(crd)


def crd_v1_to_v1beta1(obj: Mapping[str, Any]) -> dict[str, Any]:
    """A v1beta1 copy of a v1 CRD, with settings shared by all versions lifted to the top."""
    crd = copy.deepcopy(dict(obj))
    spec = dict(mapping(crd.get("spec")) or {})
    versions = [dict(v) for v in as_list(spec.get("versions")) if isinstance(v, Mapping)]
    for version in versions:
        if isinstance(version.get("additionalPrinterColumns"), list):
            version["additionalPrinterColumns"] = _columns(
                version["additionalPrinterColumns"], old="jsonPath", new="JSONPath"
            )
    if versions:
        spec["version"] = versions[0].get("name")
        for field, top_field in _LIFTED:
            values = [v.get(field) for v in versions]
            if all(_same(value, values[0]) for value in values):
                for version in versions:
                    version.pop(field, None)
                if not _empty(values[0]):
                    spec[top_field] = values[0]
    spec["versions"] = [_ordered(v, _VERSION_ORDER) for v in versions]
    spec["conversion"] = _conversion_to_v1beta1(spec.get("conversion"))
    # v1beta1's field is a pointer, so the v1 zero value is written out explicitly.
    spec["preserveUnknownFields"] = spec.get("preserveUnknownFields") is True
    crd["apiVersion"] = _V1BETA1
    crd["spec"] = _ordered(spec, _V1BETA1_SPEC_ORDER)
    return _ordered_object(crd)


def _default_v1beta1(spec: dict[str, Any]) -> None:
    """kube's v1beta1 defaults, which apply before any conversion."""
    if not spec.get("scope"):
        spec["scope"] = "Namespaced"
    names = spec.get("names")
    if isinstance(names, dict):
        kind = names.get("kind")
        if not names.get("singular") and isinstance(kind, str):
            names["singular"] = kind.lower()
        if not names.get("listKind") and isinstance(kind, str) and kind:
            names["listKind"] = kind + "List"
    if not spec.get("versions") and spec.get("version"):
        spec["versions"] = [{"name": spec["version"], "served": True, "storage": True}]
    if not spec.get("version") and as_list(spec.get("versions")):
        first = spec["versions"][0]
        spec["version"] = first.get("name") if isinstance(first, Mapping) else None
    conversion = spec.get("conversion")
    if conversion is None:
        spec["conversion"] = conversion = {"strategy": "None"}
    if (
        isinstance(conversion, dict)
        and conversion.get("strategy") == "Webhook"
        and not conversion.get("conversionReviewVersions")
    ):
        conversion["conversionReviewVersions"] = ["v1beta1"]
    if spec.get("preserveUnknownFields") is None:
        spec["preserveUnknownFields"] = True


def _conversion_to_v1(conversion: Any) -> Any:
    if not isinstance(conversion, Mapping):
        return conversion
    moved = ("webhookClientConfig", "conversionReviewVersions")
    out = {k: v for k, v in conversion.items() if k not in moved}
    client = conversion.get("webhookClientConfig")
    review = conversion.get("conversionReviewVersions")
    if client is not None or review is not None:
        webhook: dict[str, Any] = {}
        if client is not None:
            webhook["clientConfig"] = client
        if review is not None:
            webhook["conversionReviewVersions"] = review
        out["webhook"] = webhook
    return out


def _conversion_to_v1beta1(conversion: Any) -> Any:
    if not isinstance(conversion, Mapping):
        return conversion
    out = {k: v for k, v in conversion.items() if k != "webhook"}
    webhook = conversion.get("webhook")
    if isinstance(webhook, Mapping):
        if webhook.get("clientConfig") is not None:
            out["webhookClientConfig"] = webhook["clientConfig"]
        if webhook.get("conversionReviewVersions") is not None:
            out["conversionReviewVersions"] = webhook["conversionReviewVersions"]
    return out


def _columns(columns: list[Any], *, old: str, new: str) -> list[Any]:
    converted = []
    for column in columns:
        if isinstance(column, Mapping):
            column = {(new if k == old else k): v for k, v in column.items()}
            column = _ordered(column, (*_COLUMN_ORDER, new))
        converted.append(column)
    return converted


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, list | Mapping) and not value)


def _same(a: Any, b: Any) -> bool:
    # kube's semantic equality: nil and empty are the same.
    return (_empty(a) and _empty(b)) or json_equal(a, b)


def _ordered(obj: Mapping[str, Any], order: tuple[str, ...]) -> dict[str, Any]:
    """Go's field order for known keys, then anything else as it came."""
    out = {k: obj[k] for k in order if k in obj}
    out.update((k, v) for k, v in obj.items() if k not in out)
    return out


def _ordered_object(crd: dict[str, Any]) -> dict[str, Any]:
    return _ordered(crd, ("kind", "apiVersion", "metadata", "spec", "status"))
