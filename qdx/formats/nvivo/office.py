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
from qdx.formats.nvivo.sheetxml import Cells, sheet_cells
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
    """What the NVivo readers take from a workbook: its first sheet's stored values (cells
    without a value left out) and the subject."""

    title: str
    stored: Cells
    subject: str

    @property
    def cells(self) -> list[tuple[int, int, Any]]:
        """``(row, column, value)`` of each stored cell, 1-based, in file order."""
        return list(zip(self.stored.rows, self.stored.columns, self.stored.values, strict=True))


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
                    cells = sheet_cells(source.read(), reader.shared_strings, book)
                title, subject = found[0], book.properties.subject or ""
            finally:
                reader.archive.close()
    except (KeyError, ValueError, TypeError, IndexError, OSError, SyntaxError, zipfile.BadZipFile) as exc:
        raise ReadError(f"Excel workbook cannot be read ({exc})", location=options.label) from exc
    return FirstSheet(title, cells, subject)


# The most cells a workbook's sheets may store, counted in the XML before any is parsed;
# read by first_sheet, ~6 us of CPU and ~200 bytes each. NVivo's largest exports (a 2,000 x
# 200 matrix) hold 400,000.
MAX_STORED_CELLS = 2_000_000
# Matches only the "<" of a cell tag: findall then lists one cached one-byte string per cell
# (finditer built a match object per cell), a chunk of the part at a time so the list stays
# small. A chunk ends just before a "<", so no tag is cut: the lookahead reads no "<".
_CELL_TAG = re.compile(rb"<(?=(?:[A-Za-z_][\w.-]*:)?c[\s/>])")
_CHUNK = 1 << 20
_TAG_ENDS = (b" ", b"\t", b"\n", b"\r", b"\x0b", b"\x0c", b"/", b">")  # [\s/>] in a bytes pattern


def _count_cells(content: bytes, label: str, before: int) -> int:
    """The cells a sheet part stores, refused once the workbook's sheets hold more than
    :data:`MAX_STORED_CELLS` (counted in the XML before anything is parsed: a 1.2M-cell
    file took > 30 s and 1.1 GB in openpyxl).

    Raises:
        UnsafeInputError: the sheets store more cells than the limit.
    """
    if b":c" not in content:  # no prefixed cell tag: the regex's count, by bytes.count in C
        stored = content.count(b"<c ")
        if content.count(b"<c") > stored:  # other tag ends, or <col>, <cfRule>...
            stored += sum(content.count(b"<c" + end) for end in _TAG_ENDS[1:])
    else:
        stored = pos = 0
        while pos < len(content):
            end = content.find(b"<", pos + _CHUNK)
            end = len(content) if end < 0 else end
            stored += len(_CELL_TAG.findall(content, pos, end))
            pos = end
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
