"""One table → one formatted, printable worksheet, the same way in every workbook qdx writes.

A :class:`Table` holds its data column-wise (a list per column, as pandas hands it over) plus
presentation hints; :class:`Book` streams tables into an ``.xlsx`` through XlsxWriter's
constant-memory mode (each row goes to disk as it is written, so memory does not grow with
the sheet). Every sheet gets:

* an optional caption row (what the table shows and which filters made it), then the header
  row, bold on a fill, frozen with the label columns, repeated on every printed page;
* column widths from the content (CJK characters count double), long text wrapped with row
  heights to match (LibreOffice does not grow rows of an ``.xlsx`` by itself);
* number formats per column (percent as ``0.0%`` of a 0–1 value everywhere), an autofilter
  over the data rows only (never the total rows), total rows in bold on a fill;
* page setup: A4, landscape when wide, fit to one page wide unless that would print below
  :data:`MIN_SCALE` (then pages split across with the label columns repeated), a header with
  the project name and sheet name and a footer with the page number;
* a named font (so no viewer falls back to a serif), the creator ``qdx``.

The data rows themselves are rendered to SpreadsheetML by :mod:`qdx.report._xlsx_rows` and
streamed into XlsxWriter's row buffer. Text that could run as a formula is written as an
inline string cell with Excel's quote prefix, never as a formula (:mod:`qdx.cells`).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from typing import IO, Any

from qdx import __version__
from qdx.cells import xlsx_text
from qdx.report._metrics import _lines, fit_width, line_units, row_height, text_units, word_lines
from qdx.report._page import MIN_SCALE, PagePlan, plan, print_px
from qdx.report.table import Chart, Table, column_values, table_from_frame, table_from_rows

__all__ = ["MIN_SCALE", "Chart", "Table", "column_values", "table_from_frame", "table_from_rows"]

COUNT = "0"
PERCENT = "0.0%"
COEFF = "0.000"
KAPPA = "0.00"
DECIMAL = "0.0"
FONT = "Arial"
FONT_SIZE = 10
HEADER_FILL = "#DDEBF7"
TOTAL_FILL = "#F2F2F2"
RULE_FILLS = {"low": "#F8CBAD"}
MAX_WIDTH = 48.0
LABEL_WIDTH = 32.0  # label columns beside numbers wrap sooner, leaving the page to the numbers
TEXT_WIDTH = 80.0
NUMBER_WIDTH = 10.0
_SAMPLE_ROWS = 3000
_CHART_PX = (640, 360)
_IMAGE_SCALE = 0.6


def sheet_title(title: str, taken: set[str]) -> str:
    """A valid, unique sheet name (≤ 31 characters, none of ``[]:*?/\\``)."""
    clean = "".join("_" if ch in "[]:*?/\\" else ch for ch in title).strip("'")[:31] or "Sheet"
    name, n = clean, 2
    while name.lower() in {t.lower() for t in taken}:
        suffix = f" ({n})"
        name, n = clean[: 31 - len(suffix)] + suffix, n + 1
    taken.add(name)
    return name


def _text_width(value: str) -> float:
    """Column width that shows ``value``'s longest line unwrapped."""
    return fit_width(max((text_units(line) for line in value[:400].split("\n")), default=0.0))


def _header_width(name: str) -> float:
    """Header cells wrap between words: the longest word sets the width (bold is ~8 % wider)."""
    return max((fit_width(text_units(w) * 1.08) for w in name.split()), default=0.0) + 1


def column_widths(table: Table) -> list[float]:
    """Widths in column units: the longest header word or value (sampled), capped per column kind."""
    widths: list[float] = []
    for i, name in enumerate(table.header):
        width = _header_width(name)
        values = table.columns[i][:_SAMPLE_ROWS] if i < len(table.columns) else []
        for value in values:
            if isinstance(value, str):
                width = max(width, _text_width(value) + 1)
            elif value is not None:
                width = max(width, NUMBER_WIDTH)
        cap = table.max_widths.get(i, TEXT_WIDTH if i in table.wrap else
                                   LABEL_WIDTH if i < table.label_cols < len(table.header) else MAX_WIDTH)
        widths.append(min(cap, max(6.0, width)))
    return widths


def _png_width(data: bytes) -> int:
    """Width in pixels from a PNG's IHDR chunk (bytes 16-20), 0 when it is not a PNG."""
    return int.from_bytes(data[16:20], "big") if data[:8] == b"\x89PNG\r\n\x1a\n" else 0


def _workbook_class() -> Any:
    """XlsxWriter's Workbook as qdx closes it (:mod:`qdx.report._xlsx_book`), imported on first use."""
    from qdx.report._xlsx_book import Workbook

    return Workbook


class Book:
    """An ``.xlsx`` being written to ``stream`` (call :meth:`add` per table, then :meth:`close`).

    Args:
        stream: a writable binary stream.
        project: the project's name, printed in every page header.
        title: the workbook's title property.
    """

    def __init__(self, stream: IO[bytes], *, project: str = "", title: str = "qdx workbook") -> None:
        self._book = _workbook_class()(stream, {"constant_memory": True, "remove_timezone": True})
        self._book.set_properties({"title": title, "author": "qdx", "company": "",
                                   "comments": f"Written by qdx {__version__}"})
        self._book.formats[0].set_font_name(FONT)
        self._book.formats[0].set_font_size(FONT_SIZE)
        self._formats: dict[tuple[tuple[str, Any], ...], Any] = {}
        self._taken: set[str] = set()
        self.project = project
        self.sheets: list[str] = []

    def fmt(self, **props: Any) -> Any:
        """A cached XlsxWriter format with the named font and ``props``."""
        key = tuple(sorted(props.items()))
        found = self._formats.get(key)
        if found is None:
            found = self._book.add_format({"font_name": FONT, "font_size": FONT_SIZE, **props})
            self._formats[key] = found
        return found

    def add(self, table: Table) -> str:
        """Write ``table`` as the next sheet; returns its (unique, valid) name."""
        name = sheet_title(table.title, self._taken)
        _SheetWriter(self, self._book.add_worksheet(name), table, name).write()
        self.sheets.append(name)
        return name

    def reserve(self, title: str) -> tuple[Any, str]:
        """Add the next sheet now and write it later with :meth:`fill` (every sheet streams
        its rows to its own buffer, so one sheet may be written after those behind it)."""
        name = sheet_title(title, self._taken)
        self.sheets.append(name)
        return self._book.add_worksheet(name), name

    def fill(self, sheet: tuple[Any, str], table: Table) -> None:
        """Write ``table`` into a sheet added by :meth:`reserve`."""
        _SheetWriter(self, sheet[0], table, sheet[1]).write()

    def chart(self, kind: str) -> Any:
        return self._book.add_chart({"type": kind})

    def close(self) -> None:
        self._book.close()

    def discard(self) -> None:
        """Give up a half-written workbook: close and delete the sheets' row buffers."""
        for ws in self._book.worksheets():
            handle = getattr(ws, "row_data_fh", None)
            if handle is not None and not handle.closed:
                handle.close()
                with contextlib.suppress(OSError):
                    os.unlink(ws.row_data_filename)

    def __enter__(self) -> Book:
        return self

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        if error is None:
            self.close()
        else:
            self.discard()


def write_tables(stream: IO[bytes], tables: Sequence[Table], *, project: str = "",
                 title: str = "qdx workbook") -> list[str]:
    """Write ``tables`` as one workbook to ``stream``; returns the sheet names."""
    with Book(stream, project=project, title=title) as book:
        for table in tables:
            book.add(table)
    return book.sheets


def _header_text(project: str, sheet: str) -> tuple[str, str]:
    def esc(text: str) -> str:
        return text.replace("&", "&&")[:80]

    return (f'&L&"{FONT}"&9{esc(project)}&R&"{FONT}"&9{esc(sheet)}',
            f'&L&"{FONT}"&8qdx {__version__}&R&"{FONT}"&8Page &P of &N')


class _SheetWriter:
    """Writes one table into one worksheet, top to bottom (constant-memory order)."""

    def __init__(self, book: Book, ws: Any, table: Table, name: str) -> None:
        self.book, self.ws, self.t, self.name = book, ws, table, name
        self.head = 1 if table.caption else 0  # the header's row index
        widths = column_widths(table)
        self.plan: PagePlan = plan(table.header, table.columns, widths, set(table.wrap),
                                   self._figure_px(widths), labels=table.label_cols)
        self.widths = self.plan.widths
        self.wrap = set(table.wrap) | self._auto_wrap()

    def _figure_px(self, widths: list[float]) -> float:
        """How far right a chart or picture below the table reaches (it prints too)."""
        reach = 0.0
        if self.t.chart is not None and self.t.nrows:
            reach = _CHART_PX[0]
        if self.t.image is not None:
            reach = max(reach, _png_width(self.t.image) * _IMAGE_SCALE)
        return print_px(widths[:1]) + reach if reach else 0.0

    def _auto_wrap(self) -> set[int]:
        """Text columns whose content is wider than their capped width wrap too."""
        found = set()
        for i, width in enumerate(self.widths):
            sample = self.t.columns[i][:_SAMPLE_ROWS] if i < len(self.t.columns) else []
            if any(isinstance(v, str) and _text_width(v) + 1 > width for v in sample):
                found.add(i)
        return found

    def _col_props(self, i: int) -> dict[str, Any]:
        props: dict[str, Any] = {"valign": "top"}
        if i in self.t.formats and self.t.formats[i] != "General":
            props["num_format"] = self.t.formats[i]
        if i in self.wrap:
            props["text_wrap"] = True
        return props

    def write(self) -> None:
        t, ws = self.t, self.ws
        self.col_fmt = [self.book.fmt(**self._col_props(i)) for i in range(len(t.header))]
        for i, width in enumerate(self.widths):
            ws.set_column(i, i, width, self.col_fmt[i])
        if t.caption:
            self._wide_text(0, xlsx_text(t.caption), self.book.fmt(bold=True, font_size=11, text_wrap=True,
                                                                      valign="top"), size=1.1)
        self._header()
        self._body()
        self._after()

    def _header(self) -> None:
        fmt = self.book.fmt(bold=True, bg_color=HEADER_FILL, text_wrap=True, valign="top", bottom=1)
        # bold header text is ~8 % wider than the body's
        lines = max((word_lines(h, line_units(w) / 1.08) for h, w in zip(self.t.header, self.widths, strict=True)),
                    default=1)
        self.ws.set_row(self.head, row_height(lines))
        for c, name in enumerate(self.t.header):
            self.ws.write_string(self.head, c, xlsx_text(name), fmt)

    def _body(self) -> None:
        """The data rows, rendered straight into the sheet's row buffer.

        XlsxWriter's per-cell calls cost ~10 µs each (3 s per 300,000 cells); the rows here are
        the same ``<row>``/``<c>`` XML its constant-memory mode writes (inline strings, the
        column's style index), built in one pass over the columns. The header above went
        through XlsxWriter and is flushed first, so the buffer stays in row order.
        """
        t, ws = self.t, self.ws
        n = t.nrows
        if not n:
            return
        first = self.head + 1
        ws._write_single_row(first)  # flush the header row: the buffer now continues at row `first`
        from qdx.report._xlsx_rows import RowRenderer

        for xml in RowRenderer(self, first).blocks():
            ws.fh.write(xml)
        ws._check_dimensions(first + n - 1, len(t.header) - 1)
        ws.previous_row = first + n  # later writes (notes) continue below the table
        if t.outline:
            ws.outline_row_level = min(7, max(t.outline, default=0))

    def fill(self, c: int, colour: str) -> Any:
        rgb = colour if colour.startswith("#") else f"#{colour}"
        try:
            red, green, blue = (int(rgb[k:k + 2], 16) for k in (1, 3, 5))
        except ValueError:
            return None
        dark = 0.299 * red + 0.587 * green + 0.114 * blue < 140
        return self.book.fmt(**self._col_props(c), bg_color=rgb[:7], font_color="#FFFFFF" if dark else "#000000")

    def total_fmt(self, c: int) -> Any:
        return self.book.fmt(**self._col_props(c), bold=True, bg_color=TOTAL_FILL, top=1)

    def col_props(self, i: int) -> dict[str, Any]:
        return self._col_props(i)

    def _after(self) -> None:
        t, ws = self.t, self.ws
        ncols, last_data = len(t.header), self.head + t.nrows - t.totals
        ws.freeze_panes(self.head + 1, min(t.label_cols, ncols))
        if ncols and last_data > self.head:
            ws.autofilter(self.head, 0, last_data, ncols - 1)
        if t.heat is not None and last_data > self.head:
            ws.conditional_format(self.head + 1, t.heat[0], last_data, t.heat[1], {
                "type": "3_color_scale", "min_color": "#FFFFFF", "mid_type": "percentile", "mid_value": 50,
                "mid_color": "#FFE699", "max_color": "#F8696B"})
        for first, last, rule in t.rules:
            if last_data > self.head:
                named = rule.get("format")
                if isinstance(named, str):  # a named fill, made into a format of this workbook
                    rule = {**rule, "format": self.book.fmt(bg_color=RULE_FILLS[named])}
                ws.conditional_format(self.head + 1, first, last_data, last, rule)
        if t.outline:
            ws.outline_settings(True, False, True, False)
        self._notes()
        self._extras()
        self._page()

    def _notes(self) -> None:
        """Notes under the table, each wrapped in one cell merged across the first page's columns
        (a note spilling over empty cells would be cut at the page's edge)."""
        fmt = self.book.fmt(italic=True, text_wrap=True, valign="top")
        for r, note in enumerate(self.t.notes, start=self.head + self.t.nrows + 2):
            self._wide_text(r, xlsx_text(note), fmt)

    def _text_span(self) -> tuple[int, int, float]:
        """Columns (first, last + 1) and width a caption or note spans: the first printed page's,
        plus the free page to the right of a narrow table. On a sheet whose label columns repeat
        on every page across, the text starts after them: inside them it would show again, cut
        at their edge, on every page."""
        first, span = 0, self.plan.first_page_columns()
        if self.plan.repeat is not None and self.plan.repeat[1] + 1 < span:
            first = self.plan.repeat[1] + 1
        width = sum(self.widths[first:span]) + (span - first - 1) * 0.7  # merged cells' padding joins the text
        spare = min(self.plan.spare_units(), max(0.0, 60.0 - width))
        if spare >= 4:
            self.ws.set_column(span, span, spare)
            span, width = span + 1, width + spare
        return first, span, width

    def _wide_text(self, r: int, text: str, fmt: Any, size: float = 1.0) -> None:
        """``text`` wrapped in one cell merged across the first page's columns (text running on
        over empty cells would be cut at the page's edge)."""
        first, span, width = self._text_span()
        self.ws.set_row(r, row_height(_lines(text, line_units(width) / size)) + 2 * (size > 1))
        if span - first > 1:
            self.ws.merge_range(r, first, r, span - 1, text, fmt)
        else:
            self.ws.write_string(r, first, text, fmt)

    def _extras(self) -> None:
        t = self.t
        # Below the table and its notes: a chart beside a long table would print pages away.
        anchor = (self.head + t.nrows + len(t.notes) + 3, 1)
        if (t.chart is not None and t.nrows) or t.image is not None:
            self.ws.set_h_pagebreaks([anchor[0] - 1])  # a figure starts a page: never cut across two
        if t.chart is not None and t.nrows:
            anchor = self._chart(t.chart, anchor)
        if t.image is not None:
            import io

            self.ws.insert_image(anchor[0], anchor[1], "curve.png",
                                 {"image_data": io.BytesIO(t.image), "x_scale": _IMAGE_SCALE,
                                  "y_scale": _IMAGE_SCALE})

    def _chart(self, spec: Chart, anchor: tuple[int, int]) -> tuple[int, int]:
        chart = self.book.chart("line")
        first, last = self.head + 1, self.head + self.t.nrows
        for y in spec.y:
            chart.add_series({"name": [self.name, self.head, y], "categories": [self.name, first, spec.x, last, spec.x],
                              "values": [self.name, first, y, last, y], "marker": {"type": "circle", "size": 4}})
        # 10 pt and up: a sheet may print at 70 %, and its chart's text with it
        chart.set_title({"name": spec.title, "name_font": {"size": 12}})
        chart.set_x_axis({"name": spec.x_title, "name_font": {"size": 10},
                          "num_font": {"rotation": -45, "size": 10}})
        chart.set_y_axis({"name": spec.y_title, "name_font": {"size": 10}, "num_font": {"size": 10},
                          "major_gridlines": {"visible": True}})
        chart.set_legend({"position": "bottom", "font": {"size": 10}})
        chart.set_size({"width": _CHART_PX[0], "height": _CHART_PX[1]})
        self.ws.insert_chart(anchor[0], anchor[1], chart, {"object_position": 3})  # fixed size, whatever the rows
        return anchor[0] + 20, anchor[1]

    def _page(self) -> None:
        ws = self.ws
        ws.set_paper(9)  # A4
        ws.set_margins(left=0.4, right=0.4, top=0.7, bottom=0.7)
        header, footer = _header_text(self.book.project, self.name)
        ws.set_header(header, {"margin": 0.3})
        ws.set_footer(footer, {"margin": 0.3})
        ws.repeat_rows(self.head)
        if self.plan.landscape:
            ws.set_landscape()
        else:
            ws.set_portrait()
        if self.plan.fits:
            ws.fit_to_pages(1, 0)  # one page wide, as many tall as needed
        else:  # too wide to fit readably: print at the minimum scale, label columns on every page
            ws.set_print_scale(MIN_SCALE)
            if self.plan.repeat is not None:
                ws.repeat_columns(*self.plan.repeat)
