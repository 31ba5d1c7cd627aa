"""Read field tables of the official ``kubernetes`` package's models, cheaply.

The built-in kinds' schemas come from ``kubernetes.client.models``: every model class carries
``openapi_types`` (attribute → type text such as ``List[V1Container]``) and ``attribute_map``
(attribute → JSON name). Importing the package is expensive (``import kubernetes`` pulls in its
config loader, urllib3, oauthlib and, from release 35 on, a pydantic model per class: about
0.65 s for the Deployment tree alone), while the tables are plain literals in each model's
source file. So this module locates the package without executing it, and parses just the
files it is asked for (about 0.1 ms a model). Only if the sources are not on disk (a zipped or
compiled-only install) does it import the single model module it needs.

This is the only module of Atoll's server side that touches the ``kubernetes`` package, which
is untyped; everything here returns plain, typed data.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

__all__ = ["ModelTable", "load_model", "model_names"]

_PACKAGE = "kubernetes"
_MODELS = "kubernetes.client.models"

_EXPORT_LINE = re.compile(r"from kubernetes\.client\.models\.(\w+) import (\w+)")
_EXPORT_ENTRY = re.compile(r'"(\w+)": "\.(\w+)"')
_TABLE = r"^    {name}(?:: [^=\n]*)? = (\{{.*?^    \}})"
_PYDANTIC_FIELD = re.compile(r"^    (\w+): (.+?)(?: = (Field\(.*\)|None))?$", re.M)
_LEGACY_REQUIRED = re.compile(r"Invalid value for `(\w+)`, must not be `None`")


@dataclass(frozen=True, slots=True)
class ModelTable:
    """One model class: JSON field name → type text, plus what the schema can say about it."""

    name: str
    types: dict[str, str]
    required: frozenset[str]
    descriptions: dict[str, str]


@cache
def _models_dir() -> Path | None:
    spec = importlib.util.find_spec(_PACKAGE)  # locates, does not execute, a top-level package
    if spec is None or not spec.submodule_search_locations:
        return None
    directory = Path(next(iter(spec.submodule_search_locations))) / "client" / "models"
    return directory if (directory / "__init__.py").is_file() else None


@cache
def model_names() -> dict[str, str]:
    """Model class name → module name, for every model the installed package has."""
    directory = _models_dir()
    if directory is None:
        return _imported_model_names()
    text = (directory / "__init__.py").read_text(encoding="utf-8")
    names = {cls: module for module, cls in _EXPORT_LINE.findall(text)}
    names.update({cls: module for cls, module in _EXPORT_ENTRY.findall(text)})
    return names


def _imported_model_names() -> dict[str, str]:  # pragma: no cover - needs a zipped install
    try:
        models = importlib.import_module(_MODELS)
    except ImportError:
        return {}
    exports: dict[str, str] = getattr(models, "_exports", {})
    if exports:
        return {cls: module.lstrip(".") for cls, module in exports.items()}
    return {
        cls: getattr(models, cls).__module__.rsplit(".", 1)[-1]
        for cls in getattr(models, "__all__", ())
    }


@cache
def load_model(name: str) -> ModelTable | None:
    """The field table of model class ``name`` (e.g. ``V1DeploymentSpec``), or None."""
    module = model_names().get(name)
    if module is None:
        return None
    directory = _models_dir()
    source = directory / f"{module}.py" if directory else None
    if source is not None and source.is_file():
        table = _parse_source(name, source.read_text(encoding="utf-8"))
        if table is not None:
            return table
    return _import_table(name, module)  # pragma: no cover - only without readable sources


def _literal_table(text: str, attribute: str) -> dict[str, str] | None:
    match = re.search(_TABLE.format(name=attribute), text, re.S | re.M)
    if match is None:
        return None
    value = ast.literal_eval(match.group(1))
    return value if isinstance(value, dict) else None


def _parse_source(name: str, text: str) -> ModelTable | None:
    types = _literal_table(text, "openapi_types")
    json_names = _literal_table(text, "attribute_map")
    if types is None or json_names is None:
        return None
    required: set[str] = set(_LEGACY_REQUIRED.findall(text))
    descriptions: dict[str, str] = {}
    for attr, annotation, default in _PYDANTIC_FIELD.findall(text):
        if attr not in types:
            continue
        if not annotation.startswith("Optional[") and default != "None":
            required.add(attr)
        described = re.search(r'description=("(?:[^"\\]|\\.)*")', default or "")
        if described:
            descriptions[json_names.get(attr, attr)] = ast.literal_eval(described.group(1))
    return ModelTable(
        name=name,
        types={json_names.get(attr, attr): kind for attr, kind in types.items()},
        required=frozenset(json_names.get(attr, attr) for attr in required if attr in types),
        descriptions=descriptions,
    )


def _import_table(name: str, module: str) -> ModelTable | None:  # pragma: no cover
    try:
        cls: Any = getattr(importlib.import_module(f"{_MODELS}.{module}"), name)
    except (ImportError, AttributeError):
        return None
    types: dict[str, str] = dict(cls.openapi_types)
    json_names: dict[str, str] = dict(cls.attribute_map)
    return ModelTable(
        name=name,
        types={json_names.get(attr, attr): kind for attr, kind in types.items()},
        required=frozenset(),
        descriptions={},
    )
