"""The data rows of a sheet as SpreadsheetML, rendered column by column (for :mod:`qdx.report.sheets`).

XlsxWriter's per-cell ``write_*`` calls cost ~10 µs each; a 100,000-row report sheet has
1.5 million cells. :class:`RowRenderer` produces the same ``<row>``/``<c>`` XML XlsxWriter's
constant-memory mode writes (inline strings, style indices of XlsxWriter formats, ECMA-376
Part 1 §18.3.1.73 row and §18.3.1.4 cell), one specialised loop per column over blocks of
rows, and the sheet writer streams it into XlsxWriter's row buffer.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from qdx.cells import EXCEL_MAX_CHARS, ILLEGAL_XML, RISKY_START, is_risky, xlsx_text
from qdx.report._metrics import _BLOCK, _lines, counted_lines, line_units, row_height

if TYPE_CHECKING:
    from qdx.report.sheets import _SheetWriter


_MEASURED_ROWS = 20_000  # beyond this a sheet is read on screen, not printed: cheaper row heights
# The characters str.isspace() accepts (Unicode White_Space plus the C0 separators U+001C-1F;
# a test checks the set against every code point).
_SPACE = frozenset("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
                   "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
# A first character that needs a closer look: whitespace (kept with xml:space) or the start of
# a formula (written with the quote prefix, qdx.cells.is_risky).
_LEAD = _SPACE | frozenset(RISKY_START)
_SEP = "\x00"


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class RowRenderer:
    """One data row → the ``<row>`` XML of an ``.xlsx`` sheet (ECMA-376 Part 1 §18.3.1.73)."""

    def __init__(self, sheet: _SheetWriter, first: int) -> None:
        from xlsxwriter.utility import xl_col_to_name

        t, book = sheet.t, sheet.book
        ncols = len(t.header)
        self.sheet, self.t, self.first = sheet, t, first
        self.letters = [xl_col_to_name(c) for c in range(ncols)]
        self.style = [sheet.col_fmt[c]._get_xf_index() for c in range(ncols)]
        self.quote = [book.fmt(**{**sheet.col_props(c), "quote_prefix": True})._get_xf_index() for c in range(ncols)]
        self.total = [sheet.total_fmt(c)._get_xf_index() for c in range(ncols)]
        self.stamp = [book.fmt(**{**sheet.col_props(c), "num_format": "yyyy-mm-dd hh:mm"})._get_xf_index()
                      for c in range(ncols)]
        self.fills: dict[int, list[int | None]] = {}
        for c, colours in t.fills.items():
            formats = [sheet.fill(c, colour) if colour else None for colour in colours]
            self.fills[c] = [f._get_xf_index() if f is not None else None for f in formats]
        for c, levels in t.indent.items():  # a tree shown in one column: indent by depth
            by_level = {n: book.fmt(**{**sheet.col_props(c), "indent": n, "align": "left"})._get_xf_index()
                        for n in set(levels) if n}
            self.fills[c] = [by_level.get(n) for n in levels]
        self.total_from = t.nrows - t.totals

    def blocks(self) -> Iterator[str]:
        """The data rows' XML, a block of :data:`_BLOCK` rows at a time (so memory holds one
        block), each block rendered column by column (one specialised loop per column)."""
        t = self.t
        attrs = self._row_attrs()
        for lo in range(0, t.nrows, _BLOCK):
            hi = min(lo + _BLOCK, t.nrows)
            # The row numbers as text once, for every cell of the row (formatting an int per cell costs more)
            numbers = list(map(str, range(self.first + lo + 1, self.first + hi + 1)))
            cells = [self._column(c, values[lo:hi], numbers) for c, values in enumerate(t.columns)]
            for i in range(max(lo, self.total_from), hi):  # total rows: bold on a fill, cell by cell
                for c in range(len(t.columns)):
                    cells[c][i - lo] = self._cell(c, self.first + i + 1, self.total[c], t.columns[c][i], force=True)
            for c, styles in self.fills.items():
                for i in range(lo, min(hi, self.total_from)):
                    style = styles[i]
                    if style is not None:
                        cells[c][i - lo] = self._cell(c, self.first + i + 1, style, t.columns[c][i], force=True)
            yield "".join([f'<row r="{n}"{a}>{"".join(row_cells)}</row>'
                           for n, a, row_cells in zip(numbers, attrs[lo:hi], zip(*cells, strict=True), strict=True)])

    def _row_attrs(self) -> list[str]:
        """Per row: a height when wrapped text needs more than one line, an outline level."""
        t, sheet = self.t, self.sheet
        lines = [1] * t.nrows
        for c in sheet.wrap:
            per_line = line_units(sheet.widths[c])
            short = per_line / 2  # at most two units per character: surely one line
            # A sheet too long to print estimates by character counts (a quarter more than
            # common text needs); a printable one by character widths.
            estimate = _lines if t.nrows <= _MEASURED_ROWS else counted_lines
            seen: dict[str, int] = {}  # labels and code paths repeat down a column: estimate each once
            for i, v in enumerate(t.columns[c]):
                if isinstance(v, str) and (len(v) > short or "\n" in v):
                    n = seen.get(v)
                    if n is None:
                        n = seen[v] = estimate(v, per_line)
                    if n > lines[i]:
                        lines[i] = n
        heights = {n: "" if n == 1 else f' ht="{row_height(n):g}" customHeight="1"' for n in set(lines)}
        attrs = list(map(heights.__getitem__, lines))
        if t.outline:
            attrs = [a + (f' outlineLevel="{min(level, 7)}"' if level else "") for a, level in zip(attrs, t.outline,
                                                                                                 strict=True)]
        return attrs

    def _column(self, c: int, values: list[Any], numbers: list[str]) -> list[str]:
        """One column's cells of a block (``numbers``: the block's row numbers as text)."""
        kinds = set(map(type, values))
        kinds.discard(type(None))
        if not kinds:
            return [""] * len(values)
        letter, s = self.letters[c], self.style[c]
        if kinds <= {int}:
            return ["" if v is None else f'<c r="{letter}{r}" s="{s}"><v>{v}</v></c>'
                    for r, v in zip(numbers, values, strict=True)]
        if kinds <= {str}:
            return self._text_column(c, values, numbers)
        return [self._cell(c, r, s, v) for r, v in zip(numbers, values, strict=True)]

    def _text_column(self, c: int, values: list[Any], numbers: list[str]) -> list[str]:
        """A text column's cells: the hot loop of a large sheet.

        Most columns hold no XML-illegal character and no cell over Excel's limit; then
        :func:`xlsx_text` leaves every cell as it is, the escaping is done once over the whole
        column, and a cell needs a closer look only when its first character is whitespace or
        could start a formula, or its last is whitespace (:meth:`_text_cell` then writes it).
        """
        present = list(filter(None, values))
        if not present:
            return [""] * len(values)
        joined = "\n".join(present)
        if ILLEGAL_XML.search(joined) is not None or max(map(len, present)) > EXCEL_MAX_CHARS:
            return self._checked_text_column(c, values, numbers, joined)
        aligned = values if len(present) == len(values) else [v or "" for v in values]
        texts = aligned
        if "&" in joined or "<" in joined or ">" in joined:
            # NUL cannot occur in the column (it is XML-illegal, checked above): a safe separator
            texts = _xml(_SEP.join(aligned)).split(_SEP)
        letter, style, edge = self.letters[c], self.style[c], self._text_cell
        plain = f'" s="{style}" t="inlineStr"><is><t>'
        return [
            "" if not v
            else f'<c r="{letter}{r}{plain}{t}</t></is></c>' if v[0] not in _LEAD and v[-1] not in _SPACE
            else edge(letter, r, style, c, v, t)
            for r, v, t in zip(numbers, values, texts, strict=True)
        ]

    def _checked_text_column(self, c: int, values: list[Any], numbers: list[str], joined: str) -> list[str]:
        """A text column with XML-illegal characters or over-long cells: each cell through
        :func:`xlsx_text` (which replaces the one and cuts the other)."""
        letter = self.letters[c]
        plain = f'" s="{self.style[c]}" t="inlineStr"><is><t>'
        quoted = f'" s="{self.quote[c]}" t="inlineStr"><is><t>'
        escape = "&" in joined or "<" in joined or ">" in joined
        out: list[str] = []
        append = out.append
        for r, v in zip(numbers, values, strict=True):
            if not v:
                append("")
                continue
            text = xlsx_text(v)
            if text[0].isspace() or text[-1].isspace():
                append(self._text(letter, r, self.style[c], c, v))
                continue
            head = quoted if is_risky(text) else plain
            if escape:
                text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            append(f'<c r="{letter}{r}{head}{text}</t></is></c>')
        return out

    def _text(self, letter: str, r: int | str, s: int, c: int, value: str) -> str:
        text = xlsx_text(value)
        return self._text_cell(letter, r, s, c, text, _xml(text))

    def _text_cell(self, letter: str, r: int | str, s: int, c: int, text: str, escaped: str) -> str:
        """The cell of ``text`` (through :func:`xlsx_text` already; ``escaped``: its XML): the
        quote prefix's style when it could start a formula, ``xml:space`` when it starts or ends
        with whitespace."""
        if is_risky(text):
            s = self.quote[c]
        space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
        return f'<c r="{letter}{r}" s="{s}" t="inlineStr"><is><t{space}>{escaped}</t></is></c>'

    def _cell(self, c: int, r: int | str, s: int, value: Any, force: bool = False) -> str:
        letter = self.letters[c]
        if value is None:
            return f'<c r="{letter}{r}" s="{s}"/>' if force else ""
        kind = type(value)
        if kind is str:
            return self._text(letter, r, s, c, value) if value else (f'<c r="{letter}{r}" s="{s}"/>' if force else "")
        if kind is int:
            return f'<c r="{letter}{r}" s="{s}"><v>{value}</v></c>'
        if kind is float:
            return f'<c r="{letter}{r}" s="{s}"><v>{value!r}</v></c>' if math.isfinite(value) else ""
        return self._other(c, r, s, value)

    def _other(self, c: int, r: int | str, s: int, value: Any) -> str:
        ref = f"{self.letters[c]}{r}"
        if isinstance(value, bool):
            return f'<c r="{ref}" s="{s}" t="b"><v>{int(value)}</v></c>'
        if isinstance(value, int | float):
            number = float(value)
            return f'<c r="{ref}" s="{s}"><v>{number!r}</v></c>' if math.isfinite(number) else ""
        if isinstance(value, datetime | date):
            serial = self.sheet.ws._convert_date_time(value)
            return f'<c r="{ref}" s="{self.stamp[c]}"><v>{serial!r}</v></c>'
        text = xlsx_text(str(value))
        return f'<c r="{ref}" s="{s}" t="inlineStr"><is><t xml:space="preserve">{_xml(text)}</t></is></c>'
