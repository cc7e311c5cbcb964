"""Attribute tables (Export List columns, classification sheets) → REFI Variables and values.

NVivo attributes have two built-in values, ``Unassigned`` and ``Not Applicable`` (docs/nvivo-exports.md
§f); a blank cell also means Unassigned. Neither is a value in REFI, so they give no
VariableValue. The variable type is the narrowest one every value fits (REFI §3.6 types).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

from qdx.errors import Issue, Severity
from qdx.formats.nvivo.build import stable_guid
from qdx.formats.nvivo.xlsxutil import Cell
from qdx.model import (
    AudioSource,
    Case,
    PDFSource,
    PictureSource,
    Project,
    Source,
    TextSource,
    ValueKind,
    Variable,
    VariableType,
    VariableValue,
    VideoSource,
)

_R = TypeVar("_R", Case, TextSource, PictureSource, PDFSource, AudioSource, VideoSource)
UNSET = frozenset({"", "unassigned", "not applicable"})
_KIND = {
    VariableType.TEXT: ValueKind.TEXT,
    VariableType.BOOLEAN: ValueKind.BOOLEAN,
    VariableType.INTEGER: ValueKind.INTEGER,
    VariableType.FLOAT: ValueKind.FLOAT,
    VariableType.DATE: ValueKind.DATE,
    VariableType.DATETIME: ValueKind.DATETIME,
}


def is_unset(value: Cell) -> bool:
    """Blank, ``Unassigned`` or ``Not Applicable``."""
    return value is None or (isinstance(value, str) and value.strip().lower() in UNSET)


def _type_of(value: Cell) -> VariableType:
    if isinstance(value, bool):
        return VariableType.BOOLEAN
    if isinstance(value, int):
        return VariableType.INTEGER
    if isinstance(value, float):
        return VariableType.INTEGER if value.is_integer() else VariableType.FLOAT
    if isinstance(value, dt.datetime):
        return VariableType.DATE if value.time() == dt.time() else VariableType.DATETIME
    if isinstance(value, dt.date):
        return VariableType.DATE
    return VariableType.TEXT


_ORDER = (VariableType.INTEGER, VariableType.FLOAT)


def infer_type(values: Sequence[Cell]) -> VariableType:
    """The narrowest REFI type every set value fits (Integer widens to Float, else Text)."""
    kinds = {_type_of(v) for v in values if not is_unset(v)}
    if not kinds:
        return VariableType.TEXT
    if len(kinds) == 1:
        return kinds.pop()
    if kinds <= set(_ORDER):
        return VariableType.FLOAT
    if kinds == {VariableType.DATE, VariableType.DATETIME}:
        return VariableType.DATETIME
    return VariableType.TEXT


def lexical(value: Cell, kind: VariableType) -> str:
    """REFI's lexical form of ``value`` for a variable of type ``kind``."""
    if kind is VariableType.BOOLEAN:
        return "true" if value else "false"
    if kind is VariableType.INTEGER and isinstance(value, int | float):
        return str(int(value))
    if kind is VariableType.DATE and isinstance(value, dt.date):
        return value.date().isoformat() if isinstance(value, dt.datetime) else value.isoformat()
    if kind is VariableType.DATETIME and isinstance(value, dt.datetime):
        return value.replace(microsecond=0).isoformat()
    if kind is VariableType.DATETIME and isinstance(value, dt.date):
        return f"{value.isoformat()}T00:00:00"
    return str(value).strip() if isinstance(value, str) else str(value)


@dataclass(frozen=True, slots=True)
class AttributeTable:
    """Item names down, attribute names across, raw cell values; ``locs`` per row."""

    title: str
    items: tuple[str, ...]
    attributes: tuple[str, ...]
    values: tuple[tuple[Cell, ...], ...]
    locs: tuple[str, ...]

    def variables(self, prefix: str = "") -> tuple[Variable, ...]:
        """One Variable per attribute column, typed from its values."""
        return tuple(
            Variable(
                guid=stable_guid("variable", prefix, name),
                name=name,
                type=infer_type([row[j] for row in self.values]),
            )
            for j, name in enumerate(self.attributes)
        )

    def row_values(self, i: int, variables: Sequence[Variable]) -> tuple[VariableValue, ...]:
        """The set values of row ``i`` (Unassigned/Not Applicable give none)."""
        return tuple(
            VariableValue(variable=var.guid, kind=_KIND[var.type], value=lexical(value, var.type))
            for var, value in zip(variables, self.values[i], strict=True)
            if not is_unset(value)
        )

    def as_cases(self, prefix: str = "") -> tuple[tuple[Variable, ...], tuple[Case, ...]]:
        """Variables and one Case per row (named like the item)."""
        variables = self.variables(prefix)
        cases = tuple(
            Case(
                guid=stable_guid("case", prefix, name, str(i)),
                name=name,
                variable_values=self.row_values(i, variables),
                loc=self.locs[i],
            )
            for i, name in enumerate(self.items)
        )
        return variables, cases


def apply_attributes(project: Project, table: AttributeTable) -> tuple[Project, tuple[Issue, ...]]:
    """Attach a table's attributes to the project's cases and text sources whose names match.

    Args:
        project: the project to enrich (not modified).
        table: an Export List or classification sheet.

    Returns:
        A new project with the table's Variables added (existing ones of the same name reused)
        and values set on matching cases or sources, and an Issue per unmatched row.
    """
    existing = {v.name: v for v in project.variables}
    variables = tuple(existing.get(v.name, v) for v in table.variables())
    added = tuple(v for v in variables if v.name not in existing)
    rows = {name.lower(): i for i, name in enumerate(table.items)}
    matched: set[int] = set()

    def values_for(name: str | None) -> tuple[VariableValue, ...] | None:
        index = rows.get((name or "").lower())
        if index is None:
            return None
        matched.add(index)
        return table.row_values(index, variables)

    cases = tuple(_with_values(c, values_for(c.name)) for c in project.cases)
    sources = tuple(_source_with_values(s, values_for(s.name)) for s in project.sources)
    issues = tuple(
        Issue("QDX421", Severity.WARNING, f"no case or source named {name!r}", table.locs[i])
        for i, name in enumerate(table.items)
        if i not in matched
    )
    return replace(project, variables=project.variables + added, cases=cases, sources=sources), issues


def _source_with_values(source: Source, values: tuple[VariableValue, ...] | None) -> Source:
    if isinstance(source, TextSource):
        return _with_values(source, values)
    if isinstance(source, PDFSource):
        return _with_values(source, values)
    if isinstance(source, PictureSource):
        return _with_values(source, values)
    if isinstance(source, AudioSource):
        return _with_values(source, values)
    return _with_values(source, values)


def _with_values(record: _R, values: tuple[VariableValue, ...] | None) -> _R:
    if values is None:
        return record
    new = {n.variable for n in values}
    kept = tuple(v for v in record.variable_values if v.variable not in new)
    return replace(record, variable_values=kept + values)
