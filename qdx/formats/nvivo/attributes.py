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
    # Cells of the usual types are sorted by their type alone, in C (set(map(type, ...))): a
    # call per cell of a 1.2M-cell sheet cost a second. An int (not a bool: its own type) is
    # an Integer, None unset; every other cell goes through is_unset and _type_of.
    present = set(map(type, values))
    kinds = {VariableType.INTEGER} if int in present else set()
    if present - {int, type(None)}:
        kinds |= {_type_of(v) for v in values if type(v) is not int and not is_unset(v)}
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
            Variable(guid=stable_guid("variable", prefix, name), name=name, type=infer_type(column))
            for name, column in zip(self.attributes, self._columns(), strict=True)
        )

    def _columns(self) -> list[tuple[Cell, ...]]:
        # One tuple per attribute, built in C: a table is read column by column.
        return list(zip(*self.values, strict=True)) if self.values else [() for _ in self.attributes]

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
        # Lexical forms column by column (one type per column), then the rows' values: a
        # 120,000 x 10 sheet took 4 s through row_values's two calls per cell.
        lexicals = [_lexical_column(column, v.type) for column, v in zip(self._columns(), variables, strict=True)]
        slots = [(v.guid, _KIND[v.type]) for v in variables]
        rows = zip(*lexicals, strict=True) if lexicals else (() for _ in self.items)
        cases = tuple(
            Case(
                guid=stable_guid("case", prefix, name, str(i)),
                name=name,
                variable_values=tuple(
                    [
                        VariableValue(variable=guid, kind=kind, value=value)
                        for (guid, kind), value in zip(slots, row, strict=True)
                        if value is not None
                    ]
                ),
                loc=self.locs[i],
            )
            for i, (name, row) in enumerate(zip(self.items, rows, strict=True))
        )
        return variables, cases


def _lexical_column(column: Sequence[Cell], kind: VariableType) -> list[str | None]:
    """``lexical(v, kind)`` of each set value of a column, None where it is unset.

    The usual cells take a branch of their own (an int, None, a plain string); each gives
    what :func:`is_unset` and :func:`lexical` give, and everything else goes through them.
    """
    if kind is not VariableType.BOOLEAN and set(map(type, column)) <= {int}:
        return list(map(str, column))  # a column of numbers, in C
    if kind is VariableType.TEXT:
        return [_text_lexical(v) if type(v) is str else _lexical_or_none(v, kind) for v in column]
    return [
        str(v) if type(v) is int and kind is not VariableType.BOOLEAN else
        None if v is None else _lexical_or_none(v, kind)
        for v in column
    ]  # fmt: skip


def _text_lexical(value: str) -> str | None:
    stripped = value.strip()
    return None if stripped.lower() in UNSET else stripped


def _lexical_or_none(value: Cell, kind: VariableType) -> str | None:
    return None if is_unset(value) else lexical(value, kind)


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
