"""One table → one formatted worksheet (openpyxl), the same way on every sheet.

Every sheet: the header in row 1, frozen with the label columns; an autofilter over the
table; column widths from the content; number formats per column; optional 3-colour heat
map over a block of numbers; optional outline levels per row (the code hierarchy). Text that
could run as a formula is written as a quote-prefixed string cell (:mod:`qdx.report.safe`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from qdx.cells import set_text
from qdx.report.safe import is_risky, xlsx_text

if TYPE_CHECKING:
    import pandas as pd
    from openpyxl import Workbook
    from openpyxl.cell.cell import Cell, MergedCell
    from openpyxl.styles import Alignment
    from openpyxl.worksheet.worksheet import Worksheet

COUNT = "0"
PERCENT = "0.0%"
COEFF = "0.000"
DECIMAL = "0.0"
HEADER_FILL = "DDEBF7"
TOTAL_FILL = "F2F2F2"
MAX_WIDTH = 60
NUMBER_WIDTH = 9.0
TEXT_WIDTH = 90


@dataclass(slots=True)
class Table:
    """A sheet to write: ``header`` and ``rows`` plus presentation hints (0-based columns).

    ``heat`` is (first column, last column) of a block to shade, over all data rows except the
    ``totals`` rows; ``label_cols`` columns stay visible when scrolling right; ``chart`` is
    (category column, value column) of a line chart drawn beside the table.
    """

    title: str
    header: list[str]
    rows: list[list[object]]
    formats: dict[int, str] = field(default_factory=dict)
    heat: tuple[int, int] | None = None
    outline: list[int] | None = None
    label_cols: int = 1
    totals: int = 0
    wrap: Sequence[int] = ()
    chart: tuple[int, int] | None = None


def table_from_frame(title: str, frame: pd.DataFrame, *, index: bool = False, **hints: object) -> Table:
    """A :class:`Table` from a DataFrame (NaN and NA become empty cells)."""
    data = frame.reset_index() if index else frame
    rows = [[None if _missing(v) else _plain(v) for v in row] for row in data.itertuples(index=False, name=None)]
    header = [str(c) for c in data.columns]
    return Table(title, header, rows, **hints)  # type: ignore[arg-type]


def _missing(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    try:
        import pandas as pd

        return False if isinstance(value, list | tuple | dict) else bool(pd.isna(value))  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return False


def _plain(value: object) -> object:
    """numpy scalars to Python (openpyxl writes Python numbers and strings)."""
    item = getattr(value, "item", None)
    if callable(item) and type(value).__module__ == "numpy":
        return item()
    if isinstance(value, list | tuple):
        return "; ".join(str(v) for v in value)
    return value


def sheet_title(title: str, taken: set[str]) -> str:
    """A valid, unique sheet name (≤ 31 characters, none of ``[]:*?/\\``)."""
    clean = "".join("_" if ch in "[]:*?/\\" else ch for ch in title).strip("'")[:31] or "Sheet"
    name, n = clean, 2
    while name.lower() in {t.lower() for t in taken}:
        suffix = f" ({n})"
        name, n = clean[: 31 - len(suffix)] + suffix, n + 1
    taken.add(name)
    return name


def _cell(ws: Worksheet, value: object) -> object:
    from openpyxl.cell.cell import Cell

    if not isinstance(value, str):
        return value
    text = xlsx_text(value)
    if not is_risky(text):
        return text
    cell = Cell(ws, row=1, column=1, value=None)  # append() sets the real position
    set_text(cell, text)  # never a formula: a string cell with the quote prefix
    return cell


def _widths(table: Table) -> list[float]:
    widths = [float(len(h)) + 2 for h in table.header]
    for row in table.rows[:2000]:
        for i, value in enumerate(row):
            if isinstance(value, str):
                longest = max((len(line) for line in value.split("\n")), default=0)
                wide = sum(1 for ch in value[:200] if ord(ch) > 0x2E80)  # CJK glyphs are double width
                widths[i] = max(widths[i], longest + wide * 0.8 + 2)
            elif value is not None and widths[i] < NUMBER_WIDTH:  # numbers: a fixed, readable width
                widths[i] = NUMBER_WIDTH
    return [min(TEXT_WIDTH if i in table.wrap else MAX_WIDTH, max(6.0, w)) for i, w in enumerate(widths)]


def write_table(book: Workbook, table: Table, taken: set[str]) -> Worksheet:
    """Add ``table`` to ``book`` as a formatted worksheet.

    Returns:
        The worksheet.
    """
    ws: Worksheet = book.create_sheet(sheet_title(table.title, taken))
    ws.append([_cell(ws, h) for h in table.header])
    for row in table.rows:
        ws.append([_cell(ws, v) for v in row])
    _style(ws, table)
    return ws


def _style(ws: Worksheet, table: Table) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    ncols, nrows = len(table.header), len(table.rows)
    bold, fill = Font(bold=True), PatternFill("solid", fgColor=HEADER_FILL)
    for cell in ws[1]:
        cell.font, cell.fill = bold, fill
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for i, width in enumerate(_widths(table), start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = ws.cell(row=2, column=min(table.label_cols, ncols) + 1).coordinate
    if ncols and nrows:
        ws.auto_filter.ref = f"A1:{get_column_letter(ncols)}{nrows + 1}"
    _formats(ws, table)
    _page(ws)
    _totals(ws, table)
    _heat(ws, table)
    _chart(ws, table)
    if table.outline:
        if ws.sheet_properties.outlinePr is not None:
            ws.sheet_properties.outlinePr.summaryBelow = False
        for r, level in enumerate(table.outline, start=2):
            if level:
                ws.row_dimensions[r].outline_level = min(level, 7)


def _page(ws: Worksheet) -> None:
    """Print/PDF: landscape, one page wide, the header row repeated on every page."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    from openpyxl.worksheet.properties import PageSetupProperties

    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.print_title_rows = "1:1"


def _formats(ws: Worksheet, table: Table) -> None:
    from openpyxl.styles import Alignment

    last = len(table.rows) + 1
    for col, fmt in table.formats.items():
        if fmt == COUNT:
            continue  # integers already show as integers under "General"; styling 400k cells is slow
        for (cell,) in ws.iter_rows(min_row=2, max_row=last, min_col=col + 1, max_col=col + 1):
            cell.number_format = fmt
    if not table.wrap:
        return
    wrap_id = _alignment_id(ws, Alignment(wrap_text=True, vertical="top"))
    for col in table.wrap:
        for (cell,) in ws.iter_rows(min_row=2, max_row=last, min_col=col + 1, max_col=col + 1):
            _set_alignment(cell, wrap_id)
    _heights(ws, table)


def _alignment_id(ws: Worksheet, alignment: Alignment) -> int:
    """The workbook's index of ``alignment``: setting it by id skips openpyxl's per-cell hashing
    (the ``cell.alignment = ...`` setter costs ~15 µs a cell, too slow for 100k-row sheets)."""
    book = ws.parent
    assert book is not None
    return int(book._alignments.add(alignment))  # type: ignore[attr-defined]


def _set_alignment(cell: object, alignment_id: int) -> None:
    from openpyxl.styles.cell_style import StyleArray

    style = getattr(cell, "_style", None)
    if style is None:  # an unstyled cell has no style array yet
        style = StyleArray()
        setattr(cell, "_style", style)  # noqa: B010 - a private attribute, set on purpose
    style.alignmentId = alignment_id


def _lines(text: str, per_line: int) -> int:
    """Wrapped lines of ``text`` in a column ``per_line`` characters wide (CJK counts double)."""
    total = 0
    for part in text.split("\n"):
        size = len(part) + sum(1 for ch in part if ord(ch) > 0x2E80)
        total += max(1, -(-size // per_line))
    return total


def _heights(ws: Worksheet, table: Table) -> None:
    """Row heights for wrapped text (LibreOffice does not grow rows of an .xlsx by itself)."""
    from openpyxl.styles import Alignment
    from openpyxl.utils import get_column_letter

    top_id = _alignment_id(ws, Alignment(vertical="top"))
    widths = {c: ws.column_dimensions[get_column_letter(c + 1)].width or 10 for c in table.wrap}
    wrapped = set(table.wrap)
    for r, row in enumerate(table.rows, start=2):
        lines = 1
        for c in table.wrap:
            value = row[c] if c < len(row) else None
            if isinstance(value, str) and value:
                lines = max(lines, _lines(value, max(1, int(widths[c] * 1.2))))
        if lines > 1:
            ws.row_dimensions[r].height = min(409, 15 * lines)
            for i, cell in enumerate(_row(ws, r, len(table.header))):
                if i not in wrapped:
                    _set_alignment(cell, top_id)


def _row(ws: Worksheet, r: int, ncols: int) -> tuple[Cell | MergedCell, ...]:
    """Row ``r``'s cells (explicit bounds: ``ws[r]`` rescans the whole sheet on every call)."""
    return next(ws.iter_rows(min_row=r, max_row=r, max_col=max(ncols, 1)))


def _totals(ws: Worksheet, table: Table) -> None:
    from openpyxl.styles import Font, PatternFill

    bold, fill = Font(bold=True), PatternFill("solid", fgColor=TOTAL_FILL)
    last = len(table.rows) + 1
    for r in range(last - table.totals + 1, last + 1):
        for cell in _row(ws, r, len(table.header)):
            cell.font, cell.fill = bold, fill


def _chart(ws: Worksheet, table: Table) -> None:
    from openpyxl.chart import LineChart, Reference
    from openpyxl.utils import get_column_letter

    if table.chart is None or not table.rows:
        return
    x, y = table.chart
    chart = LineChart()
    chart.title = f"{table.header[y]} by {table.header[x]}"
    chart.y_axis.title = table.header[y]
    chart.height, chart.width = 8, 16
    last = len(table.rows) + 1
    chart.add_data(Reference(ws, min_col=y + 1, min_row=1, max_row=last), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=x + 1, min_row=2, max_row=last))
    ws.add_chart(chart, f"{get_column_letter(len(table.header) + 2)}2")


def _heat(ws: Worksheet, table: Table) -> None:
    from openpyxl.formatting.rule import ColorScaleRule
    from openpyxl.utils import get_column_letter

    last_row = len(table.rows) + 1 - table.totals
    if table.heat is None or last_row < 2:
        return
    first, last = table.heat
    ref = f"{get_column_letter(first + 1)}2:{get_column_letter(last + 1)}{last_row}"
    ws.conditional_formatting.add(ref, ColorScaleRule(  # type: ignore[no-untyped-call]
        start_type="min", start_color="FFFFFF", mid_type="percentile", mid_value=50, mid_color="FFE699",
        end_type="max", end_color="F8696B"))
