"""The table a worksheet is written from (:mod:`qdx.report.sheets`): its data column by column
plus presentation hints, and the ways to make one from rows or from a DataFrame."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd


@dataclass(slots=True)
class Chart:
    """A line chart beside the table: x from one column, one line per ``y`` column."""

    x: int
    y: list[int]
    title: str
    x_title: str
    y_title: str


@dataclass(slots=True)
class Table:
    """A sheet to write: ``header`` and ``columns`` (one list per column) plus hints (0-based).

    ``heat`` shades (first column, last column) over the data rows (not the ``totals`` rows);
    ``label_cols`` columns stay visible when scrolling right and repeat on printed pages;
    ``wrap`` columns wrap their text; ``fills`` gives a cell fill colour per row of a column;
    ``rules`` are (first column, last column, XlsxWriter conditional format) over data rows;
    ``notes`` are printed under the table (what n/a means, how a number was made).
    """

    title: str
    header: list[str]
    columns: list[list[Any]]
    formats: dict[int, str] = field(default_factory=dict)
    heat: tuple[int, int] | None = None
    outline: list[int] | None = None
    label_cols: int = 1
    totals: int = 0
    wrap: Sequence[int] = ()
    chart: Chart | None = None
    caption: str | None = None
    fills: dict[int, list[str | None]] = field(default_factory=dict)
    rules: list[tuple[int, int, dict[str, Any]]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    image: bytes | None = None
    max_widths: dict[int, float] = field(default_factory=dict)
    indent: dict[int, list[int]] = field(default_factory=dict)

    @property
    def nrows(self) -> int:
        return len(self.columns[0]) if self.columns else 0

    @property
    def rows(self) -> list[list[Any]]:
        """The data row by row (for tests and small tables; writing streams the columns)."""
        return [list(r) for r in zip(*self.columns, strict=True)] if self.columns else []


def table_from_rows(title: str, header: list[str], rows: Sequence[Sequence[Any]], **hints: Any) -> Table:
    """A :class:`Table` from row lists (short rows are padded with empty cells, cells beyond the
    header dropped)."""
    width = len(header)
    columns = [_plain_column(list(col)) for col in itertools.zip_longest(*rows)][:width]
    columns += [[None] * len(rows) for _ in range(width - len(columns))]
    return Table(title, header, columns, **hints)


_PLAIN_TYPES = frozenset({int, str, bool, type(None)})


def _plain_column(values: list[Any]) -> list[Any]:
    """:func:`_plain` of each value; a column of plain Python values (a 2,000 × 200 matrix's
    400,000 counts) is taken as it is."""
    kinds = set(map(type, values))
    if kinds <= _PLAIN_TYPES:
        return values
    if kinds <= _PLAIN_TYPES | {float}:
        return [None if v != v else v for v in values]  # NaN is the only value unequal to itself
    return [_plain(v) for v in values]


def table_from_frame(title: str, frame: pd.DataFrame, *, index: bool = False, **hints: Any) -> Table:
    """A :class:`Table` from a DataFrame, column by column (NaN and NA become empty cells)."""
    data = frame.reset_index() if index else frame
    return Table(title, [str(c) for c in data.columns], [column_values(data.iloc[:, i])
                                                          for i in range(data.shape[1])], **hints)


def column_values(series: pd.Series) -> list[Any]:
    """A column as Python values, missing ones as None (numpy scalars become Python numbers)."""
    if series.dtype.kind in "iub":
        return series.tolist()
    if series.dtype.kind == "f":
        return [None if v != v else v for v in series.tolist()]
    mask = series.isna().tolist()
    return [None if m else _plain(v) for v, m in zip(series.tolist(), mask, strict=True)]


def _plain(value: object) -> object:
    item = getattr(value, "item", None)
    if callable(item) and type(value).__module__ == "numpy":
        return item()
    if isinstance(value, list | tuple):
        return "; ".join(str(v) for v in value)
    if isinstance(value, float) and math.isnan(value):
        return None
    return value
