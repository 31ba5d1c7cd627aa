"""Validation of resource lists (``cpu: 500m``, ``memory: 1Gi``) and container requirements.

Shared by containers, ResourceQuota, LimitRange and persistent volumes. Quantities are parsed
with :func:`atoll.kube.quantities.parse_quantity`; an unparseable one is normally refused
earlier, while decoding (see :mod:`.schemas`), but is reported here too so validation alone
never lets one through.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from atoll.embedded.apiserver.builtins.checks import as_map
from atoll.embedded.apiserver.builtins.names import qualified_name_errors
from atoll.errors import FieldError
from atoll.kube.quantities import QuantityError, parse_quantity

__all__ = ["quantity_of", "resource_list_errors", "resource_requirements_errors"]

_CONTAINER_RESOURCES = frozenset({"cpu", "memory", "ephemeral-storage"})


def quantity_of(value: Any) -> Decimal | None:
    """The value of a quantity field, or None when it is not a quantity."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    try:
        return parse_quantity(value)
    except QuantityError:
        return None


def _shown(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def resource_list_errors(resources: Any, path: str) -> list[FieldError]:
    """Every name qualified and every quantity parseable and non-negative (``path[name]``)."""
    errors: list[FieldError] = []
    for name, value in as_map(resources).items():
        where = f"{path}[{name}]"
        errors += [FieldError.invalid(where, name, m) for m in qualified_name_errors(name)]
        amount = quantity_of(value)
        if amount is None:
            errors.append(FieldError.invalid(where, _shown(value), "must be a valid quantity"))
        elif amount < 0:
            errors.append(
                FieldError.invalid(where, _shown(value), "must be greater than or equal to 0")
            )
    return errors


def _container_resource_name_errors(name: str, where: str) -> list[FieldError]:
    if "/" not in name:
        if name in _CONTAINER_RESOURCES or name.startswith("hugepages-"):
            return []
        return [FieldError.invalid(where, name, "must be a standard resource for containers")]
    if name.startswith("kubernetes.io/") or name.startswith("requests."):
        return [FieldError.invalid(where, name, "doesn't follow extended resource name standard")]
    return []


def _overcommit_allowed(name: str) -> bool:
    return "/" not in name and not name.startswith("hugepages-")


def resource_requirements_errors(requirements: Any, path: str) -> list[FieldError]:
    """ValidateResourceRequirements: names, quantities, and requests within limits."""
    requirements = as_map(requirements)
    limits, requests = as_map(requirements.get("limits")), as_map(requirements.get("requests"))
    errors: list[FieldError] = []
    for key, table in (("limits", limits), ("requests", requests)):
        for name in table:
            errors += _container_resource_name_errors(name, f"{path}.{key}[{name}]")
        errors += resource_list_errors(table, f"{path}.{key}")
    for name, value in requests.items():
        request, limit = quantity_of(value), quantity_of(limits.get(name))
        if request is None or limit is None:
            continue
        if request != limit and not _overcommit_allowed(name):
            errors.append(
                FieldError.invalid(
                    f"{path}.requests", _shown(value), f"must be equal to {name} limit"
                )
            )
        elif request > limit:
            errors.append(
                FieldError.invalid(
                    f"{path}.requests", _shown(value), f"must be less than or equal to {name} limit"
                )
            )
    return errors
