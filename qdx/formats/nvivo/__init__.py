"""NVivo exports other than REFI (docs/nvivo-exports.md §b, §c, §e, §f): one Format record each.

* ``nvivo-text``: coded-text "Reference view" exports, .txt (V1-V5) or .docx, one file per
  code or a folder of them (:mod:`.codedtext`, :mod:`.textexport`, :mod:`.textwriter`).
* ``nvivo-codebook-docx``: Export Codebook → Word (:mod:`.codebook`).
* ``nvivo-memo-docx``: a memo exported to Word (:mod:`.memo`).
* ``nvivo-list-xlsx``: Export List (:mod:`.lists`).
* ``nvivo-matrix-xlsx``: Matrix Coding / Crosstab results (:mod:`.matrix`).
* ``nvivo-classification-xlsx``: classification sheets, read and written (:mod:`.lists`).
* ``nvivo-docx`` / ``nvivo-xlsx``: content dispatchers. A sniff sees only the first 4 KiB, which
  for .xlsx never reaches the cells; these low-priority records accept an Office zip of their
  kind and their reader picks the NVivo layout from the whole content (FormatError if none).

Sniffs never accept a REFI archive (no ``word/`` or ``xl/`` member) or plain XML.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable
from typing import BinaryIO, TypeVar

from qdx.collector import collector_paused
from qdx.errors import FormatError, QdxError, ReadError
from qdx.formats import Format, ReadOptions, WriteOptions
from qdx.formats.nvivo.codebook import read_codebook_docx
from qdx.formats.nvivo.codedtext import decode, looks_like_coded_text
from qdx.formats.nvivo.lists import (
    classification_table,
    list_header,
    list_project,
    read_classification_project,
    read_list_project,
    table_project,
    write_classification,
)
from qdx.formats.nvivo.matrix import layout_of, read_matrix, read_matrix_project, write_matrix
from qdx.formats.nvivo.memo import read_memo_docx
from qdx.formats.nvivo.office import member_head, read_all, zip_kind
from qdx.formats.nvivo.textexport import read_coded_text, read_coded_tree, rebuild
from qdx.formats.nvivo.textwriter import code_export, export_files
from qdx.formats.nvivo.xlsxutil import first_rows
from qdx.model import Project

_TAGS = re.compile(rb"<[^>]+>")


def _document_text(head: bytes) -> str:
    """The visible text of the part of word/document.xml inside the head."""
    xml = member_head(head, "word/document.xml")
    return _TAGS.sub(b"\n", xml).decode("utf-8", errors="replace")


def sniff_text(head: bytes, name: str) -> bool:
    """A .txt whose first lines follow the §c.1 grammar, or a .docx whose text does."""
    if head.startswith(b"PK\x03\x04"):
        if zip_kind(head) != "docx":
            return False
        lines = [ln for ln in _document_text(head).split("\n") if ln.strip()]
        return looks_like_coded_text("\n".join(lines))
    if head.lstrip(b"\xef\xbb\xbf").startswith(b"<?xml"):
        return False
    text, _, _ = decode(head)
    return looks_like_coded_text(text)


def sniff_codebook(head: bytes, name: str) -> bool:
    """A .docx whose body uses NVivo's codebook styles (§b.1)."""
    xml = member_head(head, "word/document.xml") if zip_kind(head) == "docx" else b""
    return b'"CodebookTitle"' in xml or b'"NodesTable"' in xml


def sniff_memo(head: bytes, name: str) -> bool:
    """A .docx whose first paragraph is ``Name: …`` (NVivo memo export)."""
    if zip_kind(head) != "docx":
        return False
    return re.match(r"\s*Name: ", _document_text(head)) is not None


def _office(kind: str) -> Callable[[bytes, str], bool]:
    def sniff(head: bytes, name: str) -> bool:
        return zip_kind(head) == kind

    return sniff


def _never(head: bytes, name: str) -> bool:
    return False


def read_any_xlsx(stream: BinaryIO, options: ReadOptions) -> Project:
    """Dispatcher: read an .xlsx as whichever NVivo layout its first sheet has.

    Raises:
        FormatError: the sheet is no NVivo matrix, crosstab, Export List or classification sheet.
    """
    data = read_all(stream)
    rows = first_rows(data, options)
    if layout_of(rows) is not None:
        import io

        return read_matrix_project(io.BytesIO(data), options)
    header = list_header(rows)
    if header is not None:
        return list_project(rows, header, options.label)
    if rows and rows[0] and rows[0][0] not in (None, "") and len(rows) > 1:
        table = classification_table(rows, options.label)
        return table_project(table, fmt="nvivo-classification-xlsx", label=options.label)
    raise FormatError(
        "not an NVivo export layout (matrix, crosstab, Export List or classification sheet)",
        location=f"{options.label}!A1",
    )


def read_any_docx(stream: BinaryIO, options: ReadOptions) -> Project:
    """Dispatcher: read a .docx as an NVivo codebook, memo or coded-text export.

    Raises:
        FormatError: the document is none of these.
    """
    import io

    data = read_all(stream)
    for reader in (read_codebook_docx, read_memo_docx, read_coded_text):
        try:
            return reader(io.BytesIO(data), options)
        except FormatError:
            continue
    raise FormatError("not an NVivo codebook, memo or coded-text export", location=options.label)


def write_coded_text(project: Project, stream: BinaryIO, options: WriteOptions) -> None:
    """Writer: a one-code project's Reference-view export (V3; V4 for the nvivo dialect).

    A project with several coded codes is a folder of files: use :func:`export_files`
    (``qdx convert IN OUTDIR --to nvivo-text``).

    Raises:
        FormatError: the project has more than one coded code.
    """
    from qdx.model import iter_codes

    variant = "V4" if options.dialect == "nvivo" else "V3"
    files = [(code, code_export(project, code, variant)) for code, _ in iter_codes(project.codes)]
    coded = [(code, data) for code, data in files if data.decode("utf-16" if variant == "V4" else "utf-8-sig")]
    if len(coded) != 1:
        raise FormatError(
            f"{len(coded)} codes have references; a coded-text export holds one code per file"
            " (write to a folder instead)"
        )
    stream.write(coded[0][1])


FORMATS: tuple[Format, ...] = (
    Format(
        id="nvivo-text",
        description="NVivo coded-text export (Reference view, .txt/.docx, file or folder)",
        extensions=("txt",),
        sniff=sniff_text,
        reader=read_coded_text,
        writer=write_coded_text,
        tree_reader=read_coded_tree,
        priority=5,
        max_input_bytes=256 << 20,
    ),
    Format(
        id="nvivo-codebook-docx",
        description="NVivo Export Codebook (Word)",
        extensions=(),
        sniff=sniff_codebook,
        reader=read_codebook_docx,
        priority=6,
    ),
    Format(
        id="nvivo-memo-docx",
        description="NVivo memo exported to Word",
        extensions=(),
        sniff=sniff_memo,
        reader=read_memo_docx,
        priority=4,
    ),
    Format(
        id="nvivo-list-xlsx",
        description="NVivo Export List (Excel)",
        extensions=(),
        sniff=_never,
        reader=read_list_project,
    ),
    Format(
        id="nvivo-matrix-xlsx",
        description="NVivo Matrix Coding / Crosstab export (Excel)",
        extensions=(),
        sniff=_never,
        reader=read_matrix_project,
    ),
    Format(
        id="nvivo-classification-xlsx",
        description="NVivo classification sheet (Excel; written in NVivo's import layout)",
        extensions=("xlsx",),
        sniff=_never,
        reader=read_classification_project,
        writer=write_classification,
    ),
    Format(
        id="nvivo-xlsx",
        description="NVivo Excel export (matrix, list or classification sheet, chosen by content)",
        extensions=("xlsx",),
        sniff=_office("xlsx"),
        reader=read_any_xlsx,
        priority=-10,
    ),
    Format(
        id="nvivo-docx",
        description="NVivo Word export (codebook, memo or coded text, chosen by content)",
        extensions=("docx",),
        sniff=_office("docx"),
        reader=read_any_docx,
        priority=-10,
    ),
)


S = TypeVar("S")


def _contained(reader: Callable[[S, ReadOptions], Project]) -> Callable[[S, ReadOptions], Project]:
    """``reader`` with the Office libraries' own errors turned into ReadError.

    python-docx parses attribute values only when they are used, so a damaged document
    raises ValueError (``w:left="may"``) or docx's InvalidXmlError deep inside a reader, long
    after :func:`open_docx` accepted it; a matrix cell of 10^23 overflows pandas' int64
    (OverflowError). Both found by scripts/fuzz.py. Any other exception raised from inside
    python-docx, openpyxl or ElementTree is the library choking on damaged input too; an
    exception raised in qdx's own code is a qdx bug and is not hidden.
    """

    @functools.wraps(reader)
    def contained(source: S, options: ReadOptions) -> Project:
        try:
            with collector_paused():  # a 1.2M-cell sheet spent 1.8 of its 3.1 s building cases in the collector
                return reader(source, options)
        except QdxError:
            raise
        except Exception as exc:
            if isinstance(exc, ValueError | OverflowError | SyntaxError) or _from_library(exc):
                raise ReadError(f"document cannot be read ({exc})", location=options.label) from exc
            raise

    return contained


_LIBRARIES = ("docx", "openpyxl", "et_xmlfile", "xml")


def _from_library(exc: BaseException) -> bool:
    """True when ``exc`` was raised (innermost frame) inside an Office/XML library."""
    if type(exc).__module__.partition(".")[0] in _LIBRARIES:
        return True
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    module = tb.tb_frame.f_globals.get("__name__", "") if tb is not None else ""
    return isinstance(module, str) and module.partition(".")[0] in _LIBRARIES


FORMATS = tuple(
    dataclasses.replace(
        fmt,
        reader=_contained(fmt.reader) if fmt.reader else None,
        tree_reader=_contained(fmt.tree_reader) if fmt.tree_reader else None,
    )
    for fmt in FORMATS
)

__all__ = [
    "FORMATS",
    "code_export",
    "export_files",
    "read_matrix",
    "rebuild",
    "write_classification",
    "write_matrix",
]
