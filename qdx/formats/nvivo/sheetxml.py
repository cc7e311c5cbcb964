"""A worksheet part's cell values, as openpyxl's ``load_workbook(data_only=True)`` reads them.

Two readers give the same cells, ``(row, column, value)`` (1-based, cells without a value left
out, in file order), as three parallel lists (:class:`Cells`):

* a tokenizer for the plain shape every spreadsheet writer produces (unprefixed ``<row>``,
  ``<c r="A1" s=".." t="..">`` and ``<v>`` in the main namespace, nothing else inside
  ``<sheetData>``): regular expressions find the rows, then the cells of 2,000 rows at a
  time, read a column at a time (a 1.2M-cell sheet in ~1.2 s of CPU, ~3.5 s through lxml);
* lxml's iterparse over the ``<row>`` elements, for any other shape (comments, formulas,
  inline strings, prefixes, entities, other quoting or spacing).

The tokenizer accepts a sheet only when its tokens cover ``<sheetData>`` entirely; a single
character it does not know sends the whole part to lxml. The part is first parsed once by
lxml without building anything, so malformed XML fails exactly as it does through iterparse.
The differential tests (tests/test_xlsx_stream.py, tests/test_xlsx_columns.py) compare the
result with openpyxl's full load, on real NVivo exports and on generated sheets.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from typing import Any

from qdx.errors import ReadError

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_VALUE, _INLINE = f"{MAIN}v", f"{MAIN}is"


@dataclass(frozen=True, slots=True)
class Cells:
    """Row, column and value of each cell (1-based; no cell without a value), in file order.

    Kept as three lists, not a tuple per cell: the lists are filled and read a column at a
    time (1.2M tuples cost a third of a second to build and another to take apart)."""

    rows: list[int] = field(default_factory=list)
    columns: list[int] = field(default_factory=list)
    values: list[Any] = field(default_factory=list)

    def add(self, row: int, column: int, value: Any) -> None:
        self.rows.append(row)
        self.columns.append(column)
        self.values.append(value)


def sheet_cells(data: bytes, shared: list[Any], book: Any) -> Cells:
    """Every non-empty cell of the worksheet part ``data``.

    Raises:
        lxml.etree.XMLSyntaxError: the part is not well-formed XML.
        ValueError, IndexError, TypeError, OverflowError: a cell openpyxl cannot read either
            (a bad number, row number, reference or shared-string index).
    """
    _check_well_formed(data)
    cells = _SheetCells(shared, book)
    if not _tokenized(data, cells):
        cells = _SheetCells(shared, book)
        _iterparsed(data, cells)
    return cells.out


class _SheetCells:
    """The state of openpyxl's row and column counters, and the cells read so far."""

    def __init__(self, shared: list[Any], book: Any) -> None:
        self.shared = shared
        self.epoch, self.dates, self.durations = book.epoch, book._date_formats, book._timedelta_formats
        self.out = Cells()
        self.row_counter = 0
        self.columns: dict[str, int] = {}  # column letters met -> index (coordinate_to_tuple's)

    def row(self, row: Any) -> None:
        """The cells of an lxml ``<row>`` element (openpyxl's ``parse_row``)."""
        self.row_counter = _row_number(row.get("r"), self.row_counter)
        column = 0
        for el in row:  # openpyxl reads every child element as a cell, whatever its name
            if not isinstance(el.tag, str):
                continue  # a comment or processing instruction: ElementTree drops them
            kind = el.get("t", "n")
            r, column = self.position(el.get("r"), column)
            first = el[0] if len(el) == 1 else None  # the usual <c><v>..</v></c>
            raw = (first.text if first is not None and first.tag == _VALUE else el.findtext(_VALUE)) or None
            value = self.value(kind, raw, el.get("s"), el)
            if value is not None:
                self.out.add(r, column, value)

    def value(self, kind: str, raw: str | None, style: str | None, el: Any) -> Any:
        """A cell's value as ``parse_cell`` reads it with data_only (``raw`` "" is None, as
        ``findtext(..) or None`` makes it; ``el`` for inline strings)."""
        if kind == "n" and raw:
            value = _number(raw)
            if style and int(style) in self.dates:
                return self.date(value, int(style))
            return value
        if kind == "inlineStr":
            child = None if el is None else el.find(_INLINE)
            if child is None:
                return None
            from openpyxl.cell.text import Text

            text = Text.from_tree(child)
            return None if text is None else text.content
        if not raw:
            return None
        if kind == "s":
            return self.shared[int(raw)]
        if kind == "b":
            return bool(int(raw))
        if kind == "d":
            from openpyxl.utils.datetime import from_ISO8601

            return from_ISO8601(raw)  # type: ignore[no-untyped-call]
        return raw  # "str" (a formula's cached text), "e" (an error value)

    def position(self, coordinate: str | None, column: int) -> tuple[int, int]:
        """(row, column) of a cell: its reference, else the next column of this row."""
        if not coordinate:
            return self.row_counter, column + 1
        # The usual "AB12": letters looked up, digits cast; anything else through openpyxl's
        # own parsing ($ signs, bad references raise as they do there).
        letters = coordinate.rstrip("0123456789")
        digits = coordinate[len(letters) :]
        known = self.columns.get(letters)
        if known is not None and digits and digits[0] != "0":
            return int(digits), known
        from openpyxl.utils import coordinate_to_tuple

        found: tuple[int, int] = coordinate_to_tuple(coordinate)
        if letters.isascii() and letters.isalpha() and digits and digits[0] != "0":
            self.columns[letters] = found[1]
        return found

    def date(self, serial: float, style: int) -> Any:
        from openpyxl.utils.datetime import from_excel

        try:
            return from_excel(serial, self.epoch, timedelta=style in self.durations)
        except (OverflowError, ValueError):
            return "#VALUE!"  # what load_workbook gives (with a warning)


def _number(raw: str) -> int | float:
    """openpyxl's ``_cast_number``."""
    return float(raw) if ("." in raw or "E" in raw or "e" in raw) else int(raw)


def _row_number(declared: str | None, previous: int) -> int:
    """A ``<row>``'s number as openpyxl's ``parse_row`` reads it (the next one if absent)."""
    if declared is None:
        return previous + 1
    try:
        return int(declared)
    except ValueError:
        as_float = float(declared)
        if not as_float.is_integer():
            raise ReadError(f"{declared} is not a valid row number") from None  # wrapped by first_sheet
        return int(as_float)


# --------------------------------------------------------------------------- lxml


# The part was vetted (no DTD, so no entities); huge_tree lets one cell hold more than
# libxml2's default 10 MB text node, as openpyxl's ElementTree parser does.
_OPTIONS: Any = {"resolve_entities": False, "no_network": True, "huge_tree": True}


class _Nothing:
    """An lxml parser target that builds nothing: only well-formedness is checked."""

    def close(self) -> None:
        return None


def _check_well_formed(data: bytes) -> None:
    from lxml import etree

    nothing: Any = _Nothing()
    etree.fromstring(data, parser=etree.XMLParser(target=nothing, **_OPTIONS))


def _iterparse(data: bytes, tag: str) -> Any:
    from lxml import etree

    return etree.iterparse(io.BytesIO(data), events=("end",), tag=tag, **_OPTIONS)


def _iterparsed(data: bytes, cells: _SheetCells) -> None:
    """Every ``<row>`` of the main namespace, wherever it is, each freed once read."""
    for _, row in _iterparse(data, f"{MAIN}row"):
        cells.row(row)
        row.clear()
        parent = row.getparent()
        while parent is not None and row.getprevious() is not None:
            del parent[0]


# --------------------------------------------------------------------------- tokenizer

# An attribute other than the ones read (written as every writer does: one space before, double
# quotes, no entity or line break in the value); never a namespace declaration.
_OTHER = r' (?!xmlns)(?!{skip}=)[A-Za-z_][\w.:-]*="[^"<&\r\n\t]*"'
_ROWS = re.compile(
    rf'[ \t\r\n]+|(<row)(?: r="([0-9]+)")?(?:{_OTHER.format(skip="r")})*'
    r"(?: ?/>|>([^<]*(?:<(?!/row>)[^<]*)*)</row>)|([\s\S])"
)
_CELL_OTHER = f'(?:{_OTHER.format(skip="[rst]")})*'
_CELLS = re.compile(
    r"[ \t\r\n]+"
    rf'|(<c)(?: r="([A-Z]+)([1-9][0-9]*)")?(?: s="([0-9]+)")?(?: t="([A-Za-z]+)")?{_CELL_OTHER}'
    r"(?: ?/>|>(?:<v>([^<&\r]*)</v>)?</c>)"
    r"|([\s\S])"
)
# The usual cell (no other attribute, a value); a row is all such cells and empty ones
# (NVivo writes <c r="A2" s="3" />) when every "<" in it is one of theirs (four and one
# each): text between them is ignored, as openpyxl ignores it. An empty cell's reference is
# one openpyxl reads without error (at most three letters).
_PLAIN_CELL = re.compile(r'<c r="([A-Z]+)([1-9][0-9]*)"(?: s="([0-9]+)")?(?: t="([ns])")?><v>([^<&\r]+)</v></c>')
_EMPTY_CELL = re.compile(rf'<c(?: r="[A-Z]{{1,3}}[1-9][0-9]*")?(?: s="[0-9]+")?(?: t="[A-Za-z]+")?{_CELL_OTHER} ?/>')
_ROW_ELEMENT = re.compile(r"<(?:[^\s<>/!?:]+:)?row[\s/>]")
_ENCODING = re.compile(r'<\?xml[^>]*?encoding=["\']([^"\']*)["\']')


def _tokenized(data: bytes, cells: _SheetCells) -> bool:
    """Read the cells through the tokenizer; False (``cells`` then unusable) when the sheet
    has any other shape, for lxml to read."""
    body = _sheet_data(data)
    if body is None:
        return False
    found = _ROWS.findall(body)
    markers, numbers, contents, others = zip(*found, strict=True) if found else ((),) * 4
    if any(others):
        return False
    counters: list[int] = []  # made when a batch needs them
    for start in range(0, len(contents), _BATCH):
        batch = contents[start : start + _BATCH]
        if _plain_cells("".join(batch), cells):
            continue
        counters = counters or _row_counters(markers, numbers)
        for counter, content in zip(counters[start : start + _BATCH], batch, strict=True):
            cells.row_counter = counter
            # A row inside a row (lxml would read the inner one as a cell) or any other
            # element is a character _CELLS does not know.
            if content and not _row_cells(content, cells):
                return False
    return True


# Rows read together: the plain cells of a batch are found by one call (a call per row was a
# third of the time) and the batch's lists stay small.
_BATCH = 2000


def _row_counters(markers: tuple[str, ...], numbers: tuple[str, ...]) -> list[int]:
    """openpyxl's row counter at each token: a row's ``r``, else one more than the last."""
    counters, counter = [], 0
    for marker, number in zip(markers, numbers, strict=True):
        if marker:
            counter = int(number) if number else counter + 1
        counters.append(counter)
    return counters


def _row_cells(content: str, cells: _SheetCells) -> bool:
    """The cells of one ``<row>``'s content (what :meth:`_SheetCells.row` gives), or False."""
    if _plain_cells(content, cells):
        return True
    found = _CELLS.findall(content)
    marker, letters, digits, styles, kinds, raws, other = zip(*found, strict=True) if found else ((),) * 7
    if any(other):
        return False
    counter, column, columns, out = cells.row_counter, 0, cells.columns, cells.out
    for cell, letter, digit, style, kind, raw in zip(marker, letters, digits, styles, kinds, raws, strict=False):
        if not cell:
            continue  # white space between cells
        if letter:
            known = columns.get(letter)
            r, column = int(digit), cells.position(letter + digit, column)[1] if known is None else known
        else:
            r, column = counter, column + 1
        value = cells.value(kind or "n", raw, style, None)
        if value is not None:
            out.add(r, column, value)
    return True


def _plain_cells(content: str, cells: _SheetCells) -> bool:
    """Read the rows' ``content`` a column at a time when it holds only plain and empty
    cells; False, reading nothing, otherwise.

    Every plain cell names its row, so the rows' counters do not matter; an empty cell gives
    no value (and a valid reference, so it raises nothing in openpyxl either).
    """
    plain = _PLAIN_CELL.findall(content)
    empty = len(_EMPTY_CELL.findall(content)) if "/>" in content else 0  # a plain cell has no "/>"
    if content.count("<") != 4 * len(plain) + empty:
        return False
    if not plain:
        return True
    letters, digits, styles, kinds, raws = zip(*plain, strict=True)
    columns = cells.columns
    for letter in set(letters).difference(columns):
        cells.position(letter + digits[letters.index(letter)], 0)  # its index, or openpyxl's error
    if set(kinds) <= {"", "n"} and not any(int(style) in cells.dates for style in set(styles) if style):
        joined = "".join(raws)
        values: list[Any] = list(map(_number if "." in joined or "e" in joined or "E" in joined else int, raws))
    else:  # shared strings, dates
        value = cells.value
        values = [value(kind or "n", raw, style, None) for kind, raw, style in zip(kinds, raws, styles, strict=True)]
        if None in values:  # a shared string openpyxl read as None
            return False
    cells.out.rows.extend(map(int, digits))
    cells.out.columns.extend(map(columns.__getitem__, letters))
    cells.out.values.extend(values)
    return True


def _sheet_data(data: bytes) -> str | None:
    """The text inside ``<sheetData>``, when lxml would find every ``<row>`` there: one
    unprefixed sheetData in the main namespace, no element named row before or after it."""
    head = data[:200]
    encoding = _ENCODING.search(head.decode("latin-1"))
    if data.startswith((b"\xfe\xff", b"\xff\xfe")) or (encoding and encoding[1].lower() not in ("utf-8", "utf8")):
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:  # UTF-16 without a byte-order mark, which lxml detects
        return None
    start, end = text.find("<sheetData>"), text.find("</sheetData>")
    if start < 0 or end < start or text.count("<sheetData", start + 1) or text.count("</sheetData>", end + 1):
        return None
    before, after = text[:start], text[end:]
    if "<!" in before or _ROW_ELEMENT.search(before) or _ROW_ELEMENT.search(after):
        return None
    if _namespace_at_end(before) != MAIN:
        return None
    return text[start + len("<sheetData>") : end]


def _namespace_at_end(before: str) -> str | None:
    """The namespace of the ``<sheetData>`` that follows ``before`` (lxml's pull parser)."""
    from lxml import etree

    parser = etree.XMLPullParser(events=("start",), **_OPTIONS)
    try:
        parser.feed((before + "<sheetData>").encode())
        events = list(parser.read_events())
    except etree.XMLSyntaxError:
        return None
    if not events:
        return None
    element: Any = events[-1][1]
    tag = element.tag
    return tag[: -len("sheetData")] if isinstance(tag, str) and tag.endswith("}sheetData") else None
