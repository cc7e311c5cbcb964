"""The values records are built from: :class:`Guid`, the enumerations of REFI attributes, and
:class:`Blob` for embedded files (conventions in :mod:`qdx.model`)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Guid(str):
    """A REFI GUID: equal to another GUID whatever its case or braces; keeps its spelling."""

    __slots__ = ()

    @property
    def key(self) -> str:
        """The canonical form: lower case, no braces."""
        return self.strip("{}").lower()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            return self.strip("{}").lower() == other.strip("{}").lower()
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    def __hash__(self) -> int:
        return hash(self.strip("{}").lower())


def guid_key(value: str) -> str:
    """Canonical form of any GUID spelling (lower case, braces removed)."""
    return value.strip("{}").lower()


def _loc() -> str | None:
    return field(default=None, compare=False, repr=False)


class VariableType(enum.Enum):
    """``typeOfVariable`` (REFI §3.6)."""

    TEXT = "Text"
    BOOLEAN = "Boolean"
    INTEGER = "Integer"
    FLOAT = "Float"
    DATE = "Date"
    DATETIME = "DateTime"


class Direction(enum.Enum):
    """``direction`` of a Link or Edge."""

    ASSOCIATIVE = "Associative"
    ONE_WAY = "OneWay"
    BIDIRECTIONAL = "Bidirectional"


class Shape(enum.Enum):
    """``shape`` of a graph Vertex."""

    PERSON = "Person"
    OVAL = "Oval"
    RECTANGLE = "Rectangle"
    ROUNDED_RECTANGLE = "RoundedRectangle"
    STAR = "Star"
    LEFT_TRIANGLE = "LeftTriangle"
    RIGHT_TRIANGLE = "RightTriangle"
    UP_TRIANGLE = "UpTriangle"
    DOWN_TRIANGLE = "DownTriangle"
    NOTE = "Note"


class LineStyle(enum.Enum):
    """``lineStyle`` of a graph Edge."""

    DOTTED = "dotted"
    DASHED = "dashed"
    SOLID = "solid"


@dataclass(frozen=True, slots=True)
class Blob:
    """An embedded file from the ``sources/`` folder: its extension (no dot) and bytes."""

    ext: str
    data: bytes = field(repr=False)
