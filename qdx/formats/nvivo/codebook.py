"""NVivo "Export Codebook" Word documents (NVivo 12-15 for Windows), docs/nvivo-exports.md §b.1.

Layout: a ``CodebookTitle`` paragraph (the project name); per exported folder a ``FolderName``
paragraph, a ``FolderDescription`` paragraph and one ``NodesTable`` table whose header row is
Name | Description | Files | References (the counts only when the user ticked "Include number
of files and references"). One row per code in pre-order; the hierarchy is only the Name
cell's indent, ``w:ind w:left`` = 450 twips x depth. Counts are direct, not aggregated (§b.1,
verified for the JamMack sample).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any, BinaryIO

from qdx.errors import FormatError, Issue, Severity, UnsafeInputError
from qdx.formats import ReadOptions
from qdx.formats.nvivo.build import stable_guid
from qdx.formats.nvivo.names import TOP_FOLDERS
from qdx.formats.nvivo.office import open_docx, read_all
from qdx.model import MAX_CODE_DEPTH, Code, CodeCount, Project, Provenance

TWIPS_PER_LEVEL = 450
# Below this many twips a common step is noise (odd indents), so rank the values instead.
MIN_STEP = 100
EMU_PER_TWIP = 635
_HEADERS = {"name": "name", "description": "description", "files": "files", "references": "references"}


@dataclass(frozen=True, slots=True)
class CodebookRow:
    """One table row: the code's path (folder-relative), depth, texts and counts."""

    folder: str
    path: tuple[str, ...]
    description: str
    files: int | None
    references: int | None
    indent: int
    loc: str

    @property
    def depth(self) -> int:
        """0 for a top-level code."""
        return len(self.path) - 1


@dataclass(frozen=True, slots=True)
class Codebook:
    """What the document holds: title, rows in document order, and reading issues."""

    title: str
    rows: tuple[CodebookRow, ...]
    issues: tuple[Issue, ...] = ()


def _style_id(paragraph: Any) -> str:
    style = paragraph.style
    return str(style.style_id) if style is not None else ""


def _blocks(document: Any) -> Iterator[tuple[str, Any]]:
    """Body paragraphs and tables in order, tagged with the paragraph style id or ``table``."""
    from docx.table import Table

    for block in document.iter_inner_content():
        if isinstance(block, Table):
            yield "table", block
        else:
            yield _style_id(block), block


def _indent_twips(cell: Any) -> int:
    paragraph = cell.paragraphs[0] if cell.paragraphs else None
    if paragraph is None or paragraph.paragraph_format.left_indent is None:
        return 0
    return round(int(paragraph.paragraph_format.left_indent) / EMU_PER_TWIP)


def _count(text: str) -> int | None:
    text = text.strip().replace(",", "").replace("\u00a0", "")
    return int(text) if text.isdigit() else None


def _columns(header: Sequence[str]) -> dict[str, int]:
    found = {}
    for index, caption in enumerate(header):
        key = _HEADERS.get(caption.strip().lower())
        if key is not None:
            found[key] = index
    return found


def _depths(indents: Sequence[int]) -> list[int]:
    """Depth per row from all rows' indents (§b.1): left/450 when every indent is a multiple
    of 450 twips; else the greatest common step (skipped levels still show); else the rank."""
    steps = [i for i in indents if i > 0]
    if all(i % TWIPS_PER_LEVEL == 0 for i in steps):
        return [i // TWIPS_PER_LEVEL for i in indents]
    unit = math.gcd(*steps)
    if unit >= MIN_STEP:
        return [i // unit for i in indents]
    ranks = {value: rank for rank, value in enumerate(sorted(set(indents)))}
    return [ranks[i] for i in indents]


_Raw = list[tuple[int, list[str], int]]


def _table_rows(table: Any, label: str) -> tuple[dict[str, int], _Raw]:
    rows = list(table.rows)
    if not rows:
        return {}, []
    cols = _columns([c.text for c in rows[0].cells])
    if "name" not in cols or "description" not in cols:
        # NVivo's header row is always Name | Description [| Files | References] (§b.1).
        raise FormatError("table is not an NVivo codebook table (Name | Description …)", location=label)
    raw = []
    width = max(cols.values()) + 1
    for number, row in enumerate(rows[1:], start=2):
        cells = row.cells
        # A row shorter than the header (damaged or hand-edited table) reads as empty cells
        # instead of an IndexError (found by fuzzing).
        texts = [c.text for c in cells] + [""] * (width - len(cells))
        indent = _indent_twips(cells[cols["name"]]) if cols["name"] < len(cells) else 0
        raw.append((number, texts, indent))
    return cols, raw


def _nest(
    raw: _Raw,
    depths: list[int],
    cols: dict[str, int],
    folder: str,
    label: str,
    issues: list[Issue],
) -> list[CodebookRow]:
    out: list[CodebookRow] = []
    stack: list[str] = []
    for (number, texts, indent), depth in zip(raw, depths, strict=True):
        loc = f"{label}!{folder or 'table'}:row {number}"
        if depth > len(stack):
            issues.append(
                Issue("QDX410", Severity.WARNING, f"indent jumps {depth - len(stack)} levels; nested one level", loc)
            )
            depth = len(stack)
        if depth >= MAX_CODE_DEPTH:
            raise UnsafeInputError(f"code nested more than {MAX_CODE_DEPTH} levels deep; refused", location=loc)
        del stack[depth:]
        stack.append(texts[cols["name"]].strip())

        def cell(key: str, texts: list[str] = texts) -> str:
            return texts[cols[key]] if key in cols else ""

        files, refs = _count(cell("files")), _count(cell("references"))
        out.append(CodebookRow(folder, tuple(stack), cell("description").strip(), files, refs, indent, loc))
    return out


def parse_codebook(data: bytes, options: ReadOptions) -> Codebook:
    """Read the rows of an Export Codebook .docx.

    Args:
        data: the .docx bytes.
        options: label and safety limits.

    Returns:
        The title and every row in document (pre-)order.

    Raises:
        FormatError: the document has no codebook table.
        UnsafeInputError: the .docx breaks a safety limit.
    """
    document = open_docx(data, options)
    title, folder = "", ""
    tables: list[tuple[str, dict[str, int], _Raw]] = []
    for kind, block in _blocks(document):
        if kind == "CodebookTitle":
            title = block.text.strip()
        elif kind == "FolderName":
            folder = block.text.strip()
        elif kind == "table":
            cols, raw = _table_rows(block, options.label)
            tables.append((folder, cols, raw))
    if not tables:
        raise FormatError("no codebook table (NodesTable) in the document", location=options.label)
    depths = iter(_depths([r[2] for _, _, raw in tables for r in raw]))
    rows: list[CodebookRow] = []
    issues: list[Issue] = []
    for folder, cols, raw in tables:
        table_depths = [next(depths) for _ in raw]
        rows.extend(_nest(raw, table_depths, cols, folder, options.label, issues))
    return Codebook(title, tuple(rows), tuple(issues))


def _is_top(folder: str) -> bool:
    return not folder or folder.lower() in TOP_FOLDERS


def codebook_project(book: Codebook, *, fmt: str = "nvivo-codebook-docx") -> Project:
    """The codebook as a Project (``is_codebook``), with the reported counts in provenance.

    Codes of a top-level folder (``Codes``/``Nodes``) are roots; a sub-folder becomes a
    non-codable code holding its codes, the way NVivo's REFI export writes folders (§0.3).
    """
    roots: list[Code] = []
    counts: list[CodeCount] = []
    for folder in dict.fromkeys(r.folder for r in book.rows):
        rows = [r for r in book.rows if r.folder == folder]
        codes = _tree(rows, counts)
        if _is_top(folder):
            roots.extend(codes)
        else:
            guid = stable_guid("folder", folder)
            roots.append(Code(guid=guid, name=folder.split("\\")[-1], is_codable=False, children=tuple(codes)))
    return Project(
        name=book.title,
        origin="NVivo (Export Codebook)",
        codes=tuple(roots),
        is_codebook=True,
        provenance=Provenance(fmt=fmt, issues=book.issues, code_counts=tuple(counts)),
    )


def _tree(rows: list[CodebookRow], counts: list[CodeCount]) -> list[Code]:
    """Nest rows (pre-order, depth known) into Code records; parents found by a depth stack,
    so duplicate names under one parent stay distinct codes (§b.1)."""
    made: list[Code] = []
    kids: dict[int, list[int]] = {}
    stack: list[int] = []
    for index, row in enumerate(rows):
        guid = stable_guid("code", row.folder, *row.path, str(index))
        made.append(Code(guid=guid, name=row.path[-1], description=row.description or None, loc=row.loc))
        counts.append(CodeCount(code=guid, files=row.files, references=row.references))
        del stack[row.depth :]
        kids.setdefault(stack[-1] if stack else -1, []).append(index)
        stack.append(index)

    def build(index: int) -> Code:
        return replace(made[index], children=tuple(build(k) for k in kids.get(index, [])))

    return [build(k) for k in kids.get(-1, [])]


def read_codebook_docx(stream: BinaryIO, options: ReadOptions) -> Project:
    """Format reader: an Export Codebook .docx as a codebook Project.

    Raises:
        FormatError: not a codebook document.
        UnsafeInputError: the .docx breaks a safety limit.
    """
    return codebook_project(parse_codebook(read_all(stream), options))
