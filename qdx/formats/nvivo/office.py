""".docx and .xlsx are zip archives: open them only after qdx.safety has vetted every member.

Each member is inflated through :class:`qdx.safety.SafeZip` (size cap enforced while
inflating, ratio and entry-count limits, no zip slip, no symlinks), every XML part is refused
if it declares a DTD or entities, and the vetted members are re-packed *stored* into a fresh
in-memory zip for python-docx/openpyxl, so those libraries never inflate untrusted data.
Also: a cheap look at the first bytes of a zip (local headers plus partly inflated members)
for format sniffing, which sees only the head of the file.
"""

from __future__ import annotations

import io
import re
import struct
import warnings
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO

from qdx.errors import ReadError, UnsafeInputError
from qdx.formats import ReadOptions
from qdx.safety import SafeZip, check_no_doctype, xml_parser

if TYPE_CHECKING:
    from openpyxl.workbook.workbook import Workbook

_LOCAL_HEADER = b"PK\x03\x04"


def vetted_members(data: bytes, options: ReadOptions, *, count_cells: bool = False) -> dict[str, bytes]:
    """Every member of an Office zip, inflated within the safety limits.

    Raises:
        UnsafeInputError: a member breaks a limit (bomb, zip slip, DTD/entities).
        ReadError: the bytes are not a zip archive.
    """
    # SafeZip counts what all members inflate against the archive's budget.
    archive = SafeZip(io.BytesIO(data), limits=options.limits, label=options.label)
    members: dict[str, bytes] = {}
    cells = 0
    try:
        for name in archive.names():
            if name.endswith("/"):
                continue
            content = archive.read(name)
            if count_cells and _is_sheet(name):
                cells += _count_cells(content, options.label, cells)  # before parsing it
            if name.endswith((".xml", ".rels")):
                check_no_doctype(content, location=f"{options.label}!{name}", whole=True)
                if not (count_cells and _is_sheet(name)):
                    # A sheet is parsed as it streams (first_sheet), which finds malformed XML
                    # itself: a tree of a 10^6-cell sheet here would cost ~300 MB.
                    _well_formed(content, f"{options.label}!{name}")
            members[name] = content
    finally:
        archive.close()
    return members


def _is_sheet(name: str) -> bool:
    return name.startswith("xl/worksheets/") and name.endswith(".xml")


def _well_formed(content: bytes, where: str) -> None:
    """Refuse a malformed XML part here: python-docx and openpyxl would raise lxml's or
    ElementTree's syntax errors (not ValueError) at load or later, lazily (found by fuzzing).

    Raises:
        ReadError: the part is not well-formed XML (location ``file!part:line``).
    """
    from lxml import etree

    try:
        etree.fromstring(content, parser=xml_parser())
    except etree.XMLSyntaxError as exc:
        raise ReadError(f"malformed XML: {exc.msg}", location=f"{where}:{exc.lineno or 0}") from exc


def repack(members: dict[str, bytes]) -> io.BytesIO:
    """A stored (uncompressed) zip holding ``members``, for python-docx/openpyxl."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as out:
        for name, content in members.items():
            out.writestr(name, content)
    buffer.seek(0)
    return buffer


def read_all(stream: BinaryIO) -> bytes:
    """The whole stream (readers get a stream; Office libraries need random access)."""
    return stream.read()


def open_docx(data: bytes, options: ReadOptions) -> Any:
    """A python-docx Document over vetted members.

    Raises:
        ReadError: not a Word document.
    """
    import docx

    members = vetted_members(data, options)
    if "word/document.xml" not in members:
        raise ReadError("not a Word document (no word/document.xml)", location=options.label)
    try:
        document = docx.Document(repack(members))
    # AttributeError: a part whose root is not the element python-docx expects, e.g. a
    # relationships part without <Relationships>; TypeError: a relationship without a
    # target (found by fuzzing).
    except (KeyError, ValueError, AttributeError, TypeError, zipfile.BadZipFile) as exc:
        raise ReadError(f"Word document cannot be read ({exc})", location=options.label) from exc
    # python-docx fails later, lazily, without a <w:body>, or when the root is not
    # <w:document> at all (a plain element without .body); both found by fuzzing.
    if getattr(document.element, "body", None) is None:
        raise ReadError("Word document has no body (word/document.xml)", location=options.label)
    return document


def open_xlsx(data: bytes, options: ReadOptions) -> Workbook:
    """An openpyxl Workbook (values, not formulas) over vetted members.

    Raises:
        ReadError: not an Excel workbook.
    """
    import openpyxl

    members = vetted_members(data, options, count_cells=True)
    if "xl/workbook.xml" not in members:
        raise ReadError("not an Excel workbook (no xl/workbook.xml)", location=options.label)
    try:
        with warnings.catch_warnings():
            # openpyxl warns about styles/extensions it does not know; they do not matter here.
            warnings.simplefilter("ignore", UserWarning)
            return openpyxl.load_workbook(repack(members), data_only=True)
    # openpyxl also raises OSError (no workbook part), IndexError (bad sheet references or
    # sizes) and ElementTree's ParseError, a SyntaxError, where its parser (expat) is stricter
    # than lxml, e.g. a BOM inside an element name (all found by fuzzing).
    except (KeyError, ValueError, TypeError, IndexError, OSError, SyntaxError, zipfile.BadZipFile) as exc:
        raise ReadError(f"Excel workbook cannot be read ({exc})", location=options.label) from exc


@dataclass(frozen=True, slots=True)
class FirstSheet:
    """What the NVivo readers take from a workbook: its first sheet's stored values as
    ``(row, column, value)`` (1-based, cells without a value left out) and the subject."""

    title: str
    cells: list[tuple[int, int, Any]]
    subject: str


def first_sheet(data: bytes, options: ReadOptions) -> FirstSheet:
    """The first worksheet's values, streamed: openpyxl's own sheet parser (the values its
    ``load_workbook`` gives, dates and all) without an object per cell, so a 1.2M-cell sheet
    reads in linear time and memory (> 30 s and 1.1 GB through a full workbook), and no
    other sheet is parsed at all.

    Raises:
        UnsafeInputError: the workbook breaks a limit (:data:`MAX_STORED_CELLS`, a bomb).
        ReadError: not an Excel workbook, or no worksheet in it.
    """
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.styles.stylesheet import apply_stylesheet
    members = vetted_members(data, options, count_cells=True)
    if "xl/workbook.xml" not in members:
        raise ReadError("not an Excel workbook (no xl/workbook.xml)", location=options.label)
    try:
        with warnings.catch_warnings():
            # openpyxl warns about styles/extensions it does not know, and about date serials
            # out of range (read as the error value #VALUE!, as load_workbook does).
            warnings.simplefilter("ignore", UserWarning)
            # load_workbook's steps (openpyxl 3.1 ExcelReader.read) up to the worksheets: a
            # read-only load would parse every sheet once more for its size when it has no
            # <dimension>, and build nothing the readers use.
            reader: Any = ExcelReader(repack(members), read_only=True, data_only=True)
            try:
                reader.read_manifest()
                reader.read_strings()
                reader.read_workbook()
                reader.read_properties()
                reader.read_custom()
                reader.read_theme()
                apply_stylesheet(reader.archive, reader.wb)
                found = next(
                    (
                        (sheet.name, rel.target)
                        for sheet, rel in reader.parser.find_sheets()
                        if rel.target in reader.valid_files and "chartsheet" not in rel.Type
                    ),
                    None,
                )
                if found is None:  # a workbook whose sheets were all damaged away (fuzzing)
                    raise ReadError("workbook has no worksheet", location=options.label)
                book = reader.wb
                with reader.archive.open(found[1]) as source:
                    # Only the rows the file holds (read-only iter_rows would fill the gap up
                    # to a forged row number with empty rows).
                    cells = _sheet_cells(source, reader.shared_strings, book)
                title, subject = found[0], book.properties.subject or ""
            finally:
                reader.archive.close()
    except (KeyError, ValueError, TypeError, IndexError, OSError, SyntaxError, zipfile.BadZipFile) as exc:
        raise ReadError(f"Excel workbook cannot be read ({exc})", location=options.label) from exc
    return FirstSheet(title, cells, subject)


def _sheet_cells(source: BinaryIO, shared: list[Any], book: Any) -> list[tuple[int, int, Any]]:
    """``(row, column, value)`` of every non-empty cell of a worksheet part, in file order.

    The values openpyxl's ``WorkSheetParser.parse_cell`` gives with ``data_only=True`` (same
    row/column counting, number casting, shared strings, booleans, ISO and serial dates,
    inline strings), read from the ``<row>`` elements alone with lxml: openpyxl's parser
    builds a dict per cell and dispatches every element of the sheet, ~7 s of the 12.6 s a
    1.2M-cell sheet took. The differential test (tests/test_xlsx_stream.py)
    compares it with openpyxl's full load on a workbook of every cell type and on real NVivo
    exports.
    """
    from lxml import etree

    cells = _SheetCells(shared, book)
    # The part was vetted (no DTD, so no entities); huge_tree lets one cell hold more than
    # libxml2's default 10 MB text node, as openpyxl's ElementTree parser does.
    rows = etree.iterparse(
        source, events=("end",), tag=f"{_MAIN}row", resolve_entities=False, no_network=True, huge_tree=True
    )
    for _, row in rows:
        cells.row(row)
        row.clear()
        parent = row.getparent()
        while parent is not None and row.getprevious() is not None:
            del parent[0]
    return cells.out


_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_VALUE, _INLINE = f"{_MAIN}v", f"{_MAIN}is"


class _SheetCells:
    """The state of openpyxl's row and column counters, and the cells read so far."""

    def __init__(self, shared: list[Any], book: Any) -> None:
        self.shared = shared
        self.epoch, self.dates, self.durations = book.epoch, book._date_formats, book._timedelta_formats
        self.out: list[tuple[int, int, Any]] = []
        self.row_counter = 0
        self.columns: dict[str, int] = {}  # column letters met -> index (coordinate_to_tuple's)

    def row(self, row: Any) -> None:
        self.row_counter = _row_number(row.get("r"), self.row_counter)
        column = 0
        append, dates = self.out.append, self.dates
        for el in row:  # openpyxl reads every child element as a cell, whatever its name
            if not isinstance(el.tag, str):
                continue  # a comment or processing instruction: ElementTree drops them
            kind = el.get("t", "n")
            r, column = self.position(el.get("r"), column)
            first = el[0] if len(el) == 1 else None  # the usual <c><v>..</v></c>
            raw = (first.text if first is not None and first.tag == _VALUE else el.findtext(_VALUE)) or None
            if kind == "n" and raw is not None:
                value: Any = float(raw) if ("." in raw or "E" in raw or "e" in raw) else int(raw)
                style = el.get("s")
                if style and int(style) in dates:
                    value = self.date(value, int(style))
            else:
                value = self.typed(el, kind, raw)
            if value is not None:
                append((r, column, value))

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

    def typed(self, el: Any, kind: str, raw: str | None) -> Any:
        """A cell other than a plain number, as parse_cell reads it with data_only."""
        if kind == "inlineStr":
            from openpyxl.cell.text import Text

            child = el.find(_INLINE)
            text = None if child is None else Text.from_tree(child)
            return None if text is None else text.content
        if raw is None:
            return None
        if kind == "s":
            return self.shared[int(raw)]
        if kind == "b":
            return bool(int(raw))
        if kind == "d":
            from openpyxl.utils.datetime import from_ISO8601

            return from_ISO8601(raw)  # type: ignore[no-untyped-call]
        return raw  # "str" (a formula's cached text), "e" (an error value)


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


# The most cells a workbook's sheets may store, counted in the XML before any is parsed;
# read by first_sheet, ~6 us of CPU and ~200 bytes each. NVivo's largest exports (a 2,000 x
# 200 matrix) hold 400,000.
MAX_STORED_CELLS = 2_000_000
_CELL_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c[\s/>]")


def _count_cells(content: bytes, label: str, before: int) -> int:
    """The cells a sheet part stores, refused once the workbook's sheets hold more than
    :data:`MAX_STORED_CELLS` (counted in the XML before anything is parsed: a 1.2M-cell
    file took > 30 s and 1.1 GB in openpyxl).

    Raises:
        UnsafeInputError: the sheets store more cells than the limit.
    """
    stored = sum(1 for _ in _CELL_TAG.finditer(content))
    if before + stored > MAX_STORED_CELLS:
        raise UnsafeInputError(
            f"workbook stores {before + stored:,} cells or more, over the {MAX_STORED_CELLS:,} qdx reads; refused",
            location=label,
        )
    return stored


# --------------------------------------------------------------------------- sniffing


def head_members(head: bytes) -> Iterator[tuple[str, bytes]]:
    """(name, partly inflated content) of the zip members whose local header is in ``head``."""
    pos = 0
    while head.startswith(_LOCAL_HEADER, pos) and pos + 30 <= len(head):
        flags, method = struct.unpack_from("<HH", head, pos + 6)
        packed = struct.unpack_from("<I", head, pos + 18)[0]
        name_len, extra_len = struct.unpack_from("<HH", head, pos + 26)
        start = pos + 30 + name_len + extra_len
        name = head[pos + 30 : pos + 30 + name_len].decode("utf-8", errors="replace")
        chunk = head[start : start + packed] if packed and not flags & 0x8 else head[start:]
        yield name, _inflate_part(chunk, method)
        if flags & 0x8 or not packed:
            return  # sizes in a trailing descriptor: the next header cannot be found cheaply
        pos = start + packed


def _inflate_part(chunk: bytes, method: int) -> bytes:
    if method == 0:
        return chunk
    if method != 8:
        return b""
    try:
        return zlib.decompressobj(-15).decompress(chunk, 1 << 16)
    except zlib.error:
        return b""


def zip_kind(head: bytes) -> str | None:
    """``docx`` or ``xlsx`` when the head is an Office zip, else None."""
    if not head.startswith(_LOCAL_HEADER):
        return None
    for name, _ in head_members(head):
        if name.startswith("word/"):
            return "docx"
        if name.startswith("xl/"):
            return "xlsx"
    return None


def member_head(head: bytes, member: str) -> bytes:
    """The part of ``member`` that can be inflated from the head (b"" if not there)."""
    return next((content for name, content in head_members(head) if name == member), b"")
