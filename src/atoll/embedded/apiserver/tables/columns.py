"""The shapes of a Table printer: a column definition and a printer (columns + cell function).

A printer is plain data: its column definitions, in the order and with the priorities
kube-apiserver 1.20 serves, and one function turning a decoded object into that row's cells.
The real server always prints the wide (priority 1) columns too and lets kubectl hide them
unless ``-o wide`` is asked for, so every cell function returns every column.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from atoll.embedded.apiserver.tables.descriptions import doc

Obj = Mapping[str, Any]
CellFunction = Callable[[Obj, datetime], list[Any]]


@dataclass(frozen=True, slots=True)
class Column:
    """One ``columnDefinitions`` entry (meta.k8s.io/v1 TableColumnDefinition)."""

    name: str
    type: str = "string"
    description: str = ""
    priority: int = 0
    format: str = ""

    def as_dict(self) -> dict[str, Any]:
        # Go serialises every field (none is omitempty), so "format" is sent even when empty.
        return {
            "name": self.name,
            "type": self.type,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        }


@dataclass(frozen=True, slots=True)
class Printer:
    """The columns of one kind and the function that fills a row for an object of that kind."""

    columns: tuple[Column, ...]
    cells: CellFunction


def field(name: str, key: str, *, type: str = "string", priority: int = 0) -> Column:
    """A column described by the API documentation of the field ``key`` ("Type.field")."""
    return Column(name, type, doc(key), priority)


NAME = Column("Name", "string", doc("ObjectMeta.name"), 0, "name")
AGE = field("Age", "ObjectMeta.creationTimestamp")
CONTAINERS = Column("Containers", "string", "Names of each container in the template.", 1)
IMAGES = Column("Images", "string", "Images referenced by each container in the template.", 1)
# Built-in kinds without a printer of their own use the generic server's default convertor.
CREATED_AT = field("Created At", "ObjectMeta.creationTimestamp", type="date")
