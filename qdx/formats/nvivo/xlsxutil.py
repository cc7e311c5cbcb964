"""Small helpers shared by the NVivo .xlsx readers and writers."""

from __future__ import annotations

import datetime as dt
import io
import operator
import re
import zipfile
from collections.abc import Iterable
from itertools import islice
from typing import TYPE_CHECKING, BinaryIO

from qdx.cells import set_text
from qdx.errors import UnsafeInputError
from qdx.formats import ReadOptions
from qdx.formats.nvivo.sheetxml import Cells

if TYPE_CHECKING:
    from openpyxl.workbook.workbook import Workbook
    from openpyxl.worksheet.worksheet import Worksheet

Cell = str | int | float | bool | dt.datetime | dt.date | dt.time | None
_FIXED_TIME = (2000, 1, 1, 0, 0, 0)
_STAMP = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)")


# The densest grid a reader builds: NVivo exports are far smaller (a 2,000 x 200 matrix is
# 400,000 cells); a forged row number must not make qdx build a million empty rows.
MAX_CELLS = 5_000_000
# Text a sheet's cells may hold in all, counted per cell: one shared string is stored once but
# referenced by any number of cells, and each cell's text is a copy once it is stripped or
# split (a 2.5 MB file of cells sharing one long string ended in a MemoryError).
MAX_SHEET_TEXT = 64 << 20


def sheet_rows(sheet: Worksheet) -> list[list[Cell]]:
    """The values of an openpyxl worksheet, row by row (see :func:`grid`)."""
    stored = getattr(sheet, "_cells", None)
    if not isinstance(stored, dict):  # read-only worksheets keep no cell dict
        return _dense([[_plain(v) for v in r] for r in sheet.iter_rows(values_only=True)])
    return grid(((r, c, cell.value) for (r, c), cell in stored.items()), sheet.title)


def first_rows(data: bytes, options: ReadOptions) -> list[list[Cell]]:
    """The first worksheet of the workbook ``data`` as rows (:func:`grid`), streamed.

    Raises:
        ReadError: not a readable workbook; UnsafeInputError: a limit is broken.
    """
    from qdx.formats.nvivo.office import first_sheet

    sheet = first_sheet(data, options)
    return cells_grid(sheet.stored, sheet.title)


def grid(cells: Iterable[tuple[int, int, object]], title: str) -> list[list[Cell]]:
    """The sheet's values, row by row (:func:`cells_grid`), from ``(row, column, value)``."""
    found = list(cells)
    rows, columns, values = zip(*found, strict=True) if found else ((), (), ())
    return cells_grid(Cells(list(rows), list(columns), list(values)), title)


def cells_grid(cells: Cells, title: str) -> list[list[Cell]]:
    """The sheet's values, row by row, without trailing empty rows and columns.

    Built from the cells the file holds (1-based; a later cell at the same place wins), not
    by walking the declared range: one cell with a forged row number (r="2147483648") made
    ``iter_rows`` create a million empty rows for 20 s (found by scripts/fuzz.py). Read a
    column at a time: a loop per cell cost 0.8 s on a 1.2M-cell sheet.

    Raises:
        UnsafeInputError: the used range spans more than :data:`MAX_CELLS` cells, or the
            cells hold more than :data:`MAX_SHEET_TEXT` characters.
    """
    rows, columns, values = _plain_cells(cells)
    keys = list(zip(rows, columns, strict=True))
    ordered = all(map(operator.lt, keys, islice(keys, 1, None)))  # so no place is repeated
    if not ordered:
        last = dict(zip(keys, values, strict=True))
        rows, columns, values = [r for r, _ in last], [c for _, c in last], list(last.values())
    if str in set(map(type, values)):
        _bound_text(values, title)
        used = [(r, c) for r, c, v in zip(rows, columns, values, strict=True) if not _blank(v)]
        height, width = max((r for r, _ in used), default=0), max((c for _, c in used), default=0)
    else:
        height, width = max(rows, default=0), max(columns, default=0)
    height, width = max(height, 0), max(width, 0)
    if height * width > MAX_CELLS:
        raise UnsafeInputError(
            f"sheet uses {height:,} rows x {width:,} columns, more than {MAX_CELLS:,} cells",
            location=f"sheet {title!r}",
        )
    if ordered and values and len(values) == height * width and _inside(rows, height) and _inside(columns, width):
        # Every place of the range once, row by row (n distinct places in order, all inside
        # a range of n): the rows are slices.
        return [values[i : i + width] for i in range(0, len(values), width)]
    grid_rows: list[list[Cell]] = [[None] * width for _ in range(height)]
    for r, c, value in zip(rows, columns, values, strict=True):
        if 1 <= r <= height and 1 <= c <= width:
            grid_rows[r - 1][c - 1] = value
    return grid_rows


def _inside(numbers: list[int], top: int) -> bool:
    return 1 <= min(numbers) and max(numbers) <= top


def _plain_cells(cells: Cells) -> tuple[list[int], list[int], list[Cell]]:
    """The cells with a value, each a plain Python value (:func:`_plain`)."""
    if set(map(type, cells.values)) <= _PLAIN:
        return cells.rows, cells.columns, cells.values
    kept = [
        (r, c, v if type(v) in _PLAIN else _plain(v))
        for r, c, v in zip(cells.rows, cells.columns, cells.values, strict=True)
        if v is not None
    ]
    rows, columns, values = zip(*kept, strict=True) if kept else ((), (), ())
    return list(rows), list(columns), list(values)


def _bound_text(values: Iterable[Cell], title: str) -> None:
    """Refuse a sheet whose cells hold more than :data:`MAX_SHEET_TEXT` characters in all.

    Raises:
        UnsafeInputError: the cells' text, each cell counted, exceeds the limit.
    """
    total = 0
    for value in values:
        if isinstance(value, str):
            total += len(value)
            if total > MAX_SHEET_TEXT:
                raise UnsafeInputError(
                    f"sheet cells hold more than {MAX_SHEET_TEXT:,} characters of text in all (shared"
                    " strings counted once per cell that uses them); refused",
                    location=f"sheet {title!r}",
                )


def _dense(rows: list[list[Cell]]) -> list[list[Cell]]:
    while rows and all(_blank(v) for v in rows[-1]):
        rows.pop()
    width = max((max((i + 1 for i, v in enumerate(r) if not _blank(v)), default=0) for r in rows), default=0)
    return [(r + [None] * width)[:width] for r in rows]


# Cell values that need no conversion, by exact type (a fast check per cell).
_PLAIN = frozenset({str, int, float, bool, dt.datetime, dt.date, dt.time})


def _plain(value: object) -> Cell:
    """openpyxl values as plain Python values (rich text and formulas as their text)."""
    if value is None or isinstance(value, str | int | float | bool | dt.datetime | dt.date | dt.time):
        return value
    return str(value)


def _blank(value: Cell) -> bool:
    # isspace() copies nothing, unlike strip(): a long shared string may fill many cells.
    return value is None or (isinstance(value, str) and (not value or value.isspace()))


def text(value: Cell) -> str:
    """A cell as stripped text ('' for empty)."""
    return "" if value is None else str(value).strip()


def put(sheet: Worksheet, row: int, column: int, value: Cell) -> None:
    """Set a cell; text is always a string cell, never a formula (openpyxl would store text
    starting with ``=`` as one, which Excel would run: formula injection, :mod:`qdx.cells`)."""
    if isinstance(value, str):
        set_text(sheet.cell(row=row, column=column), value)
    else:
        sheet.cell(row=row, column=column, value=value)


def save_deterministic(workbook: Workbook, stream: BinaryIO) -> None:
    """Save ``workbook`` with fixed timestamps and entry order, so equal input gives equal bytes."""
    workbook.properties.created = dt.datetime(2000, 1, 1)
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = _STAMP.sub(rb"\g<1>2000-01-01T00:00:00Z\g<2>", data)
            entry = zipfile.ZipInfo(info.filename, date_time=_FIXED_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            out.writestr(entry, data)
