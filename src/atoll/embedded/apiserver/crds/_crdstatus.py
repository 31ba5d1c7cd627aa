"""The status kube-apiserver's CRD controllers converge to: names, conditions, stored versions.

kube's naming controller accepts a CRD's names unless another CRD of the same group already
holds them, the establishing controller then marks it ``Established``, and the API-approval
controller reports on protected groups. Atoll computes the settled result in one step.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from atoll.errors import FieldError

from ._approval import approval_state, protected_group
from ._values import as_list, mapping
from .structural import structural_violations

__all__ = ["status_for"]

_NON_STRUCTURAL = "NonStructuralSchema"


def status_for(
    crd: Mapping[str, Any], *, now: str, others: Iterable[Mapping[str, Any]]
) -> dict[str, Any]:
    spec = mapping(crd.get("spec")) or {}
    old = _status(crd)
    names, accepted = _accepted_names(spec, old, _names_taken(crd, spec, others))
    conditions = [accepted, _established(old, accepted)]
    group = spec.get("group")
    if isinstance(group, str) and protected_group(group):
        conditions.append(_approval_condition(crd))
    non_structural = _non_structural_condition(spec)
    if non_structural is not None:
        conditions.append(non_structural)
    merged = _merge_conditions(old.get("conditions"), conditions, now)
    if non_structural is None:  # kube's controller removes the condition once resolved
        merged = [c for c in merged if c.get("type") != _NON_STRUCTURAL]
    return {
        "conditions": merged,
        "acceptedNames": names,
        "storedVersions": _stored_versions(spec, old),
    }


def _status(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return mapping(obj.get("status")) or {}


def _versions(spec: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [v for v in as_list(spec.get("versions")) if isinstance(v, Mapping)]


def _names_taken(
    crd: Mapping[str, Any], spec: Mapping[str, Any], others: Iterable[Mapping[str, Any]]
) -> tuple[set[str], set[str]]:
    """Resource names (plural, singular, short) and kinds accepted for the group's other CRDs."""
    name = (mapping(crd.get("metadata")) or {}).get("name")
    resources: set[str] = set()
    kinds: set[str] = set()
    for other in others:
        other_spec = mapping(other.get("spec")) or {}
        if other_spec.get("group") != spec.get("group"):
            continue
        if (mapping(other.get("metadata")) or {}).get("name") == name:
            continue
        accepted = mapping(_status(other).get("acceptedNames")) or {}
        resources.update(v for v in (accepted.get("plural"), accepted.get("singular")) if v)
        resources.update(v for v in as_list(accepted.get("shortNames")) if isinstance(v, str))
        kinds.update(v for v in (accepted.get("kind"), accepted.get("listKind")) if v)
    return resources, kinds


def _accepted_names(
    spec: Mapping[str, Any], old: Mapping[str, Any], taken: tuple[set[str], set[str]]
) -> tuple[dict[str, Any], dict[str, Any]]:
    requested = mapping(spec.get("names")) or {}
    accepted = dict(mapping(old.get("acceptedNames")) or {})
    resources, kinds = taken
    conflict: tuple[str, str] | None = None  # like kube, the last conflict found is reported
    for field, used, reason in (
        ("plural", resources, "PluralConflict"),
        ("singular", resources, "SingularConflict"),
        ("shortNames", resources, "ShortNamesConflict"),
        ("kind", kinds, "KindConflict"),
        ("listKind", kinds, "ListKindConflict"),
    ):
        wanted, current = requested.get(field), accepted.get(field)
        if field == "shortNames":
            fresh = [n for n in as_list(wanted) if n not in as_list(current)]
            clashes = [f'"{n}" is already in use' for n in fresh if n in used]
            problem = ", ".join(clashes) if len(clashes) < 2 else "[" + ", ".join(clashes) + "]"
        else:
            problem = (
                f'"{wanted}" is already in use' if wanted != current and wanted in used else ""
            )
        if problem:
            conflict = (reason, problem)
        else:
            accepted[field] = wanted
    accepted["categories"] = requested.get("categories")
    order = ("plural", "singular", "shortNames", "kind", "listKind", "categories")
    names = {k: accepted.get(k) for k in order if accepted.get(k) or k in ("plural", "kind")}
    names = {k: ("" if v is None else v) for k, v in names.items()}
    if conflict is None:
        return names, _condition("NamesAccepted", "True", "NoConflicts", "no conflicts found")
    return names, _condition("NamesAccepted", "False", *conflict)


def _established(old: Mapping[str, Any], accepted: Mapping[str, Any]) -> dict[str, Any]:
    # Once served, a CRD stays established even if a later rename conflicts.
    for condition in as_list(old.get("conditions")):
        if (
            isinstance(condition, Mapping)
            and condition.get("type") == "Established"
            and condition.get("status") == "True"
        ):
            return dict(condition)
    if accepted["status"] == "True":
        return _condition(
            "Established", "True", "InitialNamesAccepted", "the initial names have been accepted"
        )
    return _condition("Established", "False", "NotAccepted", "not all names are accepted")


def _non_structural_condition(spec: Mapping[str, Any]) -> dict[str, Any] | None:
    """kube's NonStructuralSchema condition, for CRDs written through v1beta1 (or older)."""
    problems: list[FieldError] = []
    if spec.get("preserveUnknownFields") is True:
        problems.append(FieldError.invalid("spec.preserveUnknownFields", True, "must be false"))
    for i, version in enumerate(as_list(spec.get("versions"))):
        schema = (mapping((mapping(version) or {}).get("schema")) or {}).get("openAPIV3Schema")
        if schema is not None:
            path = f"spec.versions[{i}].schema.openAPIV3Schema"
            problems += structural_violations(schema, path)
    if not problems:
        return None
    return _condition(_NON_STRUCTURAL, "True", "Violations", _aggregate(problems))


def _aggregate(problems: list[FieldError]) -> str:
    """Go's ``ToAggregate().Error()``: one message alone, several in brackets, no repeats."""
    messages = list(dict.fromkeys(str(p) for p in problems))
    return messages[0] if len(messages) == 1 else "[" + ", ".join(messages) + "]"


def _approval_condition(crd: Mapping[str, Any]) -> dict[str, Any]:
    state, reason = approval_state(crd)
    status = "True" if state == "Approved" else "False"
    reasons = {
        "Approved": "ApprovedAnnotation",
        "Bypassed": "UnapprovedAnnotation",
        "Missing": "MissingAnnotation",
        "Invalid": "InvalidAnnotation",
    }
    return _condition("KubernetesAPIApprovalPolicyConformant", status, reasons[state], reason)


def _condition(kind: str, status: str, reason: str, message: str) -> dict[str, Any]:
    return {"type": kind, "status": status, "reason": reason, "message": message}


def _merge_conditions(old: Any, new: list[dict[str, Any]], now: str) -> list[dict[str, Any]]:
    """Replace conditions by type in place; keep transition times of unchanged statuses."""
    merged = [dict(c) for c in as_list(old) if isinstance(c, Mapping)]
    for condition in new:
        previous = next((c for c in merged if c.get("type") == condition["type"]), None)
        changed = previous is None or previous.get("status") != condition["status"]
        stamp = now if changed or previous is None else previous.get("lastTransitionTime", now)
        entry = {
            "type": condition["type"],
            "status": condition["status"],
            "lastTransitionTime": stamp,
            "reason": condition["reason"],
            "message": condition["message"],
        }
        if previous is None:
            merged.append(entry)
        else:
            merged[merged.index(previous)] = entry
    return merged


def _stored_versions(spec: Mapping[str, Any], old: Mapping[str, Any]) -> list[str]:
    stored = [v for v in as_list(old.get("storedVersions")) if isinstance(v, str)]
    for version in _versions(spec):
        name = version.get("name")
        if version.get("storage") is True and isinstance(name, str) and name not in stored:
            stored.append(name)
    return stored
