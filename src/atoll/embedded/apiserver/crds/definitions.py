"""CustomResourceDefinitions (apiextensions.k8s.io/v1): defaulting, validation and status.

The API server's CRD strategy calls these three in order: ``default_crd`` on every write
(kube's v1 defaulting), ``validate_crd`` on create and update (kube's
``ValidateCustomResourceDefinition[Update]``, field paths and wording included), and
``crd_status`` for the status the server writes once it has accepted the names, which is
what kube's naming, establishing, API-approval and non-structural-schema controllers would
converge to. Validation depends on the API version of the request, as in kube 1.20:
v1beta1 keeps that API's leniency (see ``validate_crd``).

Field paths follow kube's internal CRD form: a schema shared by every version is reported at
``spec.validation.openAPIV3Schema`` (see ``_versionparts``), and conversion webhook settings
at ``spec.conversion.webhookClientConfig``/``conversionReviewVersions``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from atoll.errors import FieldError

from ._approval import APPROVAL_ANNOTATION, annotations_of, approval_state, protected_group
from ._crdstatus import status_for
from ._names import dns1035_label_errors, dns1123_subdomain_errors
from ._values import as_list, child, index, mapping
from ._versionparts import (
    column_errors,
    internal_parts,
    schema_errors,
    subresource_errors,
)
from ._webhooks import conversion_errors
from .structural import structural_violations

__all__ = ["crd_status", "default_crd", "validate_crd"]


def default_crd(crd: dict[str, Any]) -> None:
    """kube's v1 defaults, plus the zero values Go writes back for absent required booleans."""
    spec = crd.get("spec")
    if not isinstance(spec, dict):
        return
    names = spec.get("names")
    if isinstance(names, dict):
        kind = names.get("kind")
        if not names.get("singular") and isinstance(kind, str):
            names["singular"] = kind.lower()
        if not names.get("listKind") and isinstance(kind, str) and kind:
            names["listKind"] = kind + "List"
    if spec.get("conversion") is None:
        spec["conversion"] = {"strategy": "None"}
    for version in as_list(spec.get("versions")):
        if isinstance(version, dict):
            version.setdefault("served", False)
            version.setdefault("storage", False)
    webhook = mapping((mapping(spec.get("conversion")) or {}).get("webhook"))
    service = mapping((mapping((webhook or {}).get("clientConfig")) or {}).get("service"))
    if isinstance(service, dict) and service.get("port") is None:
        service["port"] = 443


@dataclass(frozen=True, slots=True)
class _Options:
    """kube's ``validationOptions``: what the request's API version (and the old CRD) allow."""

    require_schema: bool
    allow_defaults: bool
    valid_types: bool
    require_structural: bool
    v1beta1: bool


def validate_crd(
    crd: Mapping[str, Any],
    old: Mapping[str, Any] | None = None,
    *,
    request_version: str = "v1",
) -> list[FieldError]:
    """Every reason kube-apiserver would refuse ``crd`` (replacing ``old`` on update).

    ``crd`` is in v1 form; ``request_version`` is the apiextensions version the client wrote
    through. As in kube 1.20, ``v1beta1`` keeps that API's leniency: a version may lack a
    schema and the schema need not be structural while unknown fields are preserved
    (``preserveUnknownFields``, true by v1beta1's default), ``default`` is not allowed, and
    neither the API-approval annotation nor ``preserveUnknownFields: false`` is required.
    An update never tightens what the stored CRD already got away with.
    """
    spec = mapping(crd.get("spec")) or {}
    old_spec = mapping(old.get("spec")) if old is not None else None
    opts = _options(spec, old_spec, request_version)
    errors = _metadata_errors(crd, spec)
    errors += _spec_errors(spec, opts)
    if old is not None and old_spec is not None:
        errors += _update_errors(spec, old_spec, old)
        errors += _stored_versions_errors(spec, old)
    if not opts.v1beta1:
        errors += _approval_errors(crd, spec, old)
        errors += _preserve_unknown_fields_errors(spec, old_spec)
    return errors


def _options(
    spec: Mapping[str, Any], old_spec: Mapping[str, Any] | None, request_version: str
) -> _Options:
    v1beta1 = request_version == "v1beta1"
    old_schemas = [_schema(v) for v in _versions(old_spec)] if old_spec is not None else []
    old_lacks_schema = any(schema is None for schema in old_schemas)
    old_has_defaults = any(_has_default(schema) for schema in old_schemas)
    old_invalid_types = any(_has_invalid_type(schema) for schema in old_schemas)
    old_non_structural = any(
        schema is not None and structural_violations(schema, "") for schema in old_schemas
    )
    allow_defaults = old_has_defaults or not v1beta1
    schemas = [_schema(v) for v in _versions(spec)]
    require_structural = (
        (not v1beta1 and not old_non_structural)
        # enabling pruning requires structural schemas, and so do defaults and extensions
        or spec.get("preserveUnknownFields") is not True
        or (allow_defaults and any(_has_default(schema) for schema in schemas))
        or any(_has_extensions(schema) for schema in schemas)
    )
    return _Options(
        require_schema=not v1beta1 and not old_lacks_schema,
        allow_defaults=allow_defaults,
        valid_types=not v1beta1 and not old_invalid_types,
        require_structural=require_structural,
        v1beta1=v1beta1,
    )


def _preserve_unknown_fields_errors(
    spec: Mapping[str, Any], old_spec: Mapping[str, Any] | None
) -> list[FieldError]:
    if spec.get("preserveUnknownFields") is not True:
        return []
    if old_spec is not None and old_spec.get("preserveUnknownFields") is True:
        return []
    detail = (
        "cannot set to true, set x-kubernetes-preserve-unknown-fields to true in "
        "spec.versions[*].schema instead"
    )
    return [FieldError.invalid("spec.preserveUnknownFields", True, detail)]


def _metadata_errors(crd: Mapping[str, Any], spec: Mapping[str, Any]) -> list[FieldError]:
    name = (mapping(crd.get("metadata")) or {}).get("name")
    if not name:
        return [FieldError.required("metadata.name", "name or generateName is required")]
    if not isinstance(name, str):
        return [FieldError.invalid("metadata.name", name, "must be a string")]
    problems = dns1123_subdomain_errors(name)
    names = mapping(spec.get("names")) or {}
    if name != f"{names.get('plural', '')}.{spec.get('group', '')}":
        problems.append('must be spec.names.plural+"."+spec.group')
    return [FieldError.invalid("metadata.name", name, problem) for problem in problems]


def _spec_errors(spec: Mapping[str, Any], opts: _Options) -> list[FieldError]:
    errors = _group_errors(spec.get("group"))
    scope = spec.get("scope")
    if not scope:
        errors.append(FieldError.required("spec.scope"))
    elif scope not in ("Cluster", "Namespaced"):
        errors.append(FieldError.not_supported("spec.scope", scope, ("Cluster", "Namespaced")))
    versions = spec.get("versions")
    if versions is not None and not isinstance(versions, list):
        return [*errors, FieldError.invalid("spec.versions", versions, "must be a list")]
    errors += _schema_presence_errors(spec, opts)
    if opts.allow_defaults:
        errors += _defaults_need_pruning(spec)
    errors += _versions_errors(spec)
    errors += _names_errors(spec.get("names"))
    errors += _parts_errors(spec, opts)
    errors += conversion_errors(spec)
    return errors


def _group_errors(group: Any) -> list[FieldError]:
    if not group:
        return [FieldError.required("spec.group")]
    if not isinstance(group, str):
        return [FieldError.invalid("spec.group", group, "must be a string")]
    problems = dns1123_subdomain_errors(group)
    if problems:
        return [FieldError.invalid("spec.group", group, ",".join(problems))]
    if "." not in group:
        return [FieldError.invalid("spec.group", group, "should be a domain with at least one dot")]
    return []


def _versions(spec: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [v if isinstance(v, Mapping) else {} for v in as_list(spec.get("versions"))]


def _schema_presence_errors(spec: Mapping[str, Any], opts: _Options) -> list[FieldError]:
    """v1 requires a schema per version; without one, pruning would drop every field."""
    if opts.require_schema:
        return [
            FieldError.required(
                f"spec.versions[{i}].schema.openAPIV3Schema", "schemas are required"
            )
            for i, version in enumerate(_versions(spec))
            if _schema(version) is None
        ]
    if spec.get("preserveUnknownFields") is True:
        return []
    return [
        FieldError.required(
            f"spec.versions[{i}].schema.openAPIV3Schema", "because otherwise all fields are pruned"
        )
        for i, version in enumerate(_versions(spec))
        if version.get("served") is True and _schema(version) is None
    ]


def _schema(version: Mapping[str, Any]) -> Any:
    return (mapping(version.get("schema")) or {}).get("openAPIV3Schema")


def _defaults_need_pruning(spec: Mapping[str, Any]) -> list[FieldError]:
    if spec.get("preserveUnknownFields") is not True:
        return []
    if not any(_has_default(_schema(v)) for v in _versions(spec)):
        return []
    detail = "must be false in order to use defaults in the schema"
    return [FieldError.invalid("spec.preserveUnknownFields", True, detail)]


def _has_default(schema: Any) -> bool:
    """Whether any schema node (not merely a property called "default") sets a default."""
    return _schema_has(schema, lambda node: node.get("default") is not None)


def _has_extensions(schema: Any) -> bool:
    """kube's ``schemaHasKubernetesExtensions``: these need a structural schema."""
    return _schema_has(
        schema,
        lambda node: (
            node.get("x-kubernetes-embedded-resource") is True
            or node.get("x-kubernetes-preserve-unknown-fields") is not None
            or node.get("x-kubernetes-int-or-string") is True
            or bool(node.get("x-kubernetes-list-map-keys"))
            or node.get("x-kubernetes-list-type") is not None
            or bool(node.get("x-kubernetes-validations"))
        ),
    )


def _has_invalid_type(schema: Any) -> bool:
    return _schema_has(
        schema,
        lambda node: (
            isinstance(node.get("type"), str)
            and node["type"] != ""
            and node["type"] not in ("array", "boolean", "integer", "number", "object", "string")
        ),
    )


def _schema_has(schema: Any, predicate: Callable[[Mapping[str, Any]], bool]) -> bool:
    """Whether ``predicate`` holds for any node of ``schema`` (kube's ``SchemaHas``)."""
    if not isinstance(schema, Mapping):
        return False
    if predicate(schema):
        return True
    children = [schema.get(k) for k in ("additionalProperties", "not", "additionalItems")]
    items = schema.get("items")
    children += items if isinstance(items, list) else [items]
    for keyword in ("properties", "patternProperties", "definitions", "dependencies"):
        children += (mapping(schema.get(keyword)) or {}).values()
    for keyword in ("allOf", "anyOf", "oneOf"):
        children += as_list(schema.get(keyword))
    return any(_schema_has(sub, predicate) for sub in children)


def _versions_errors(spec: Mapping[str, Any]) -> list[FieldError]:
    versions = _versions(spec)
    raw = as_list(spec.get("versions"))
    errors = []
    for i, version in enumerate(versions):
        path = index("spec.versions", i)
        if not isinstance(raw[i], Mapping):
            errors.append(FieldError.invalid(path, raw[i], "must be a JSON object"))
            continue
        name = version.get("name")
        problems = dns1035_label_errors(name) if isinstance(name, str) else ["must be a string"]
        if problems:
            errors.append(FieldError.invalid(child(path, "name"), name, ",".join(problems)))
        for flag in ("served", "storage"):
            if not isinstance(version.get(flag, False), bool):
                errors.append(
                    FieldError.invalid(child(path, flag), version[flag], "must be a boolean")
                )
        errors += _deprecation_errors(version, path)
    names = [v.get("name") for v in versions]
    if len({repr(n) for n in names}) != len(names):
        errors.append(FieldError.invalid("spec.versions", raw, "must contain unique version names"))
    if sum(1 for v in versions if v.get("storage") is True) != 1:
        detail = "must have exactly one version marked as storage version"
        errors.append(FieldError.invalid("spec.versions", raw, detail))
    return errors


def _deprecation_errors(version: Mapping[str, Any], path: str) -> list[FieldError]:
    warning = version.get("deprecationWarning")
    if warning is None:
        return []
    field = child(path, "deprecationWarning")
    if version.get("deprecated") is not True:
        return [FieldError.invalid(field, warning, "can only be set for deprecated versions")]
    if not isinstance(warning, str):
        return [FieldError.invalid(field, warning, "must be a string")]
    problems = []
    if len(warning) > 256:
        problems.append("must be <= 256 characters long")
    if not warning:
        problems.append("must not be an empty string")
    for i, char in enumerate(warning):
        if not char.isprintable():
            problems.append(
                "must only contain printable UTF-8 characters; non-printable character found at "
                f"index {i}"
            )
            break
    return [FieldError.invalid(field, warning, problem) for problem in problems]


def _names_errors(names: Any) -> list[FieldError]:
    if not isinstance(names, Mapping):
        names = {}
    errors = [
        FieldError.required(f"spec.names.{field}")
        for field in ("plural", "singular", "kind", "listKind")
        if not names.get(field)
    ]
    return errors + names_errors(names, "spec.names")


def names_errors(names: Mapping[str, Any], path: str) -> list[FieldError]:
    """kube's ``ValidateCustomResourceDefinitionNames`` (also used for accepted names)."""
    errors = []
    for field, mixed_case in (
        ("plural", False),
        ("singular", False),
        ("kind", True),
        ("listKind", True),
    ):
        value = names.get(field)
        if not value:
            continue
        if not isinstance(value, str):
            errors.append(FieldError.invalid(child(path, field), value, "must be a string"))
            continue
        problems = dns1035_label_errors(value.lower() if mixed_case else value)
        if problems:
            prefix = "may have mixed case, but should otherwise match: " if mixed_case else ""
            errors.append(
                FieldError.invalid(child(path, field), value, prefix + ",".join(problems))
            )
    for field in ("shortNames", "categories"):
        for i, value in enumerate(as_list(names.get(field))):
            problems = (
                dns1035_label_errors(value) if isinstance(value, str) else ["must be a string"]
            )
            if problems:
                errors.append(
                    FieldError.invalid(index(child(path, field), i), value, ",".join(problems))
                )
    kind = names.get("kind")
    if kind and kind == names.get("listKind"):
        detail = "kind and listKind may not be the same"
        errors.append(FieldError.invalid(child(path, "listKind"), kind, detail))
    return errors


def _parts_errors(spec: Mapping[str, Any], opts: _Options) -> list[FieldError]:
    versions = _versions(spec)
    status_by_path = {
        f"spec.versions[{i}].schema": bool(
            (mapping(v.get("subresources")) or {}).get("status") is not None
        )
        for i, v in enumerate(versions)
    }
    any_status = any(status_by_path.values())
    errors = []
    for part in internal_parts(spec, "schema", "validation"):
        status = status_by_path.get(part.path, any_status)
        errors += schema_errors(
            part,
            status_enabled=status,
            structural=opts.require_structural,
            allow_defaults=opts.allow_defaults,
            valid_types=opts.valid_types,
        )
    for part in internal_parts(spec, "subresources", "subresources"):
        errors += subresource_errors(part)
    for part in internal_parts(spec, "additionalPrinterColumns", "additionalPrinterColumns"):
        errors += column_errors(part)
    return errors


def _update_errors(
    spec: Mapping[str, Any], old_spec: Mapping[str, Any], old: Mapping[str, Any]
) -> list[FieldError]:
    names = mapping(spec.get("names")) or {}
    old_names = mapping(old_spec.get("names")) or {}
    checks = [
        ("spec.group", spec.get("group"), old_spec.get("group")),
        ("spec.names.plural", names.get("plural"), old_names.get("plural")),
    ]
    if _condition_true(old, "Established"):
        # Stored objects are keyed by scope and kind, so an established CRD keeps them.
        checks.insert(0, ("spec.scope", spec.get("scope"), old_spec.get("scope")))
        checks.insert(1, ("spec.names.kind", names.get("kind"), old_names.get("kind")))
    return [
        FieldError.invalid(path, new, "field is immutable")
        for path, new, previous in checks
        if new != previous
    ]


def _stored_versions_errors(spec: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    """A version that was ever stored must stay listed until a storage migration drops it."""
    stored = [v for v in as_list(_status(old).get("storedVersions")) if isinstance(v, str)]
    names = {v.get("name") for v in _versions(spec)}
    errors = []
    for i, version in enumerate(stored):
        if version not in names:
            detail = (
                f"missing from spec.versions; {version} was previously a storage version, and "
                f"must remain in spec.versions until a storage migration ensures no data remains "
                f"persisted in {version} and removes {version} from status.storedVersions"
            )
            errors.append(FieldError.invalid(f"status.storedVersions[{i}]", version, detail))
    return errors


def _approval_errors(
    crd: Mapping[str, Any], spec: Mapping[str, Any], old: Mapping[str, Any] | None
) -> list[FieldError]:
    group = spec.get("group")
    if not isinstance(group, str) or not protected_group(group):
        return []
    state, reason = approval_state(crd)
    if old is not None and approval_state(old)[0] == state:
        return []  # an unchanged approval never blocks an update
    path = f"metadata.annotations[{APPROVAL_ANNOTATION}]"
    if state == "Missing":
        return [FieldError.required(path, reason)]
    if state == "Invalid":
        return [FieldError.invalid(path, annotations_of(crd).get(APPROVAL_ANNOTATION), reason)]
    return []


def _status(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return mapping(obj.get("status")) or {}


def _condition_true(obj: Mapping[str, Any], kind: str) -> bool:
    return any(
        isinstance(c, Mapping) and c.get("type") == kind and c.get("status") == "True"
        for c in as_list(_status(obj).get("conditions"))
    )


def crd_status(
    crd: Mapping[str, Any], *, now: str, others: Iterable[Mapping[str, Any]] = ()
) -> dict[str, Any]:
    """The status kube's CRD controllers settle on once they have seen ``crd``.

    ``others`` are the other stored CRDs: a name already accepted for another CRD of the same
    group is not accepted again (``NamesAccepted`` False, e.g. ``PluralConflict``), and the
    previously accepted names stay in force. ``now`` stamps conditions whose status changes.
    """
    return status_for(crd, now=now, others=others)
