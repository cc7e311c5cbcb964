"""Readers for coded-text exports: one file, a folder of them, and the rebuild with source texts.

A Reference-view export holds one code (docs/nvivo-exports.md §c: "one file per code, named after the
code"). A folder holds several; sub-folders nest codes (qdx's writer puts a child code's file
in a folder named after its parent). Files that are not exports (a LICENSE, a README) are
skipped with an INFO issue.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import BinaryIO

from qdx.errors import FormatError, Issue, Severity, UnsafeInputError
from qdx.formats import ReadOptions
from qdx.formats.nvivo.build import CodeFile, ProjectBuilder, SourceTexts, code_path_for
from qdx.formats.nvivo.codedtext import CodedText, decode, looks_like_coded_text, parse_lines, parse_text
from qdx.formats.nvivo.office import open_docx
from qdx.model import Project

FMT = "nvivo-text"
HEAD_BYTES = 8192
NO_HEADER = "no NVivo source header (… - § N references coded […% Coverage]) in the first lines"


def parse_docx(data: bytes, options: ReadOptions) -> CodedText:
    """Parse a Word Reference-view export: the same strings, one paragraph each (§c.1).

    Raises:
        UnsafeInputError: the .docx breaks a safety limit.
    """
    document = open_docx(data, options)
    lines: list[str] = []
    for paragraph in document.paragraphs:
        lines.extend(paragraph.text.replace("\r", "").split("\n"))
    return parse_lines(lines, label=options.label, trim=True, encoding="docx")


def parse_export(data: bytes, options: ReadOptions) -> CodedText:
    """Parse one export file, .txt (any encoding) or .docx, chosen by content."""
    if data.startswith(b"PK\x03\x04"):
        return parse_docx(data, options)
    return parse_text(data, label=options.label)


def _may_be_export(data: bytes, name: str) -> bool:
    """Cheap pre-check: a .docx (parsed to find out), or text whose first lines fit §c.1."""
    if data.startswith(b"PK\x03\x04"):
        return name.lower().endswith(".docx")
    text, _, _ = decode(data[:8192])
    return looks_like_coded_text(text)


def read_coded_text(stream: BinaryIO, options: ReadOptions) -> Project:
    """Format reader: one Reference-view export (.txt or .docx) as a Project.

    The first bytes are checked before the rest is read, so a huge file that is no export
    (a 1 GB line, binary data) is refused at once; the rest is read within the member limit.

    Raises:
        FormatError: the file holds no source header.
        UnsafeInputError: the file is larger than ``limits.max_member_size``.
    """
    head = stream.read(HEAD_BYTES)
    if not head.startswith(b"PK\x03\x04"):
        text, _, _ = decode(head)
        if "\x00" in text or not looks_like_coded_text(text):
            raise FormatError(NO_HEADER, location=options.label)
    data = head + _read_capped(stream, options.limits.max_member_size - len(head), options.label)
    parsed = parse_export(data, options)
    if not parsed.blocks:
        raise FormatError(NO_HEADER, location=options.label)
    builder = ProjectBuilder(_stem(options.label), None)
    builder.add(CodeFile(code_path_for(_stem(options.label) + ".txt", parsed), parsed))
    return builder.project(FMT)


def _read_capped(stream: BinaryIO, budget: int, label: str) -> bytes:
    chunks: list[bytes] = []
    while chunk := stream.read(1 << 20):
        budget -= len(chunk)
        if budget < 0:
            raise UnsafeInputError("export is larger than the size limit (--max-member-size)", location=label)
        chunks.append(chunk)
    return b"".join(chunks)


def _stem(label: str) -> str:
    name = label.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[0] if "." in name else name


def _parse_tree(files: Mapping[str, bytes], options: ReadOptions) -> tuple[list[CodeFile], list[Issue]]:
    parsed: list[CodeFile] = []
    skipped: list[Issue] = []
    for name in sorted(files):
        data = files[name]
        label = f"{options.label}/{name}" if options.label != "<input>" else name
        item = None
        if _may_be_export(data, name):
            item = parse_export(data, ReadOptions(label=label, limits=options.limits))
        if item is None or not item.blocks:
            skipped.append(Issue("QDX409", Severity.INFO, "not an NVivo coded-text export; skipped", name))
            continue
        parsed.append(CodeFile(code_path_for(name, item), item))
    if not parsed:
        raise FormatError("no NVivo coded-text export in the folder", location=options.label)
    return parsed, skipped


def rebuild(
    files: Mapping[str, bytes],
    texts: Mapping[str, bytes] | None,
    options: ReadOptions,
) -> Project:
    """Rebuild a project from a folder of exports and (optionally) the source texts.

    Args:
        files: export files by relative path (``Codes/Attitude.txt``); non-exports are skipped.
        texts: source texts by relative path (``Interview 07.txt``), matched to the headers'
            source names; None builds sources from the coded passages alone.
        options: label and safety limits.

    Returns:
        The project. Each reference is placed at exact code-point offsets (exact match, then
        whitespace-normalised, nearest to the previous reference); references that cannot be
        placed are QDX402 issues with file and line; checksum mismatches are QDX401.

    Raises:
        FormatError: the folder holds no export.
    """
    parsed, skipped = _parse_tree(files, options)
    decoded = None
    if texts is not None:
        decoded = SourceTexts({k: _source_text(v, k, options) for k, v in texts.items()})
    builder = ProjectBuilder(_stem(options.label), decoded)
    builder.issues.extend(skipped)
    for item in parsed:
        builder.add(item)
    return builder.project(FMT)


def _source_text(data: bytes, name: str, options: ReadOptions) -> str:
    """A source as the model keeps its text: .txt with the BOM removed and line ends as stored
    (model.TextDoc); .docx as its paragraphs joined by newlines (NVivo's plain text of a
    Word source, docs/nvivo-exports.md §a.1 keeps a .txt beside each .docx)."""
    if data.startswith(b"PK\x03\x04"):
        document = open_docx(data, ReadOptions(label=name, limits=options.limits))
        return "\n".join(p.text for p in document.paragraphs)
    text, _, _ = decode(data)
    return text


def read_coded_tree(files: Mapping[str, bytes], options: ReadOptions) -> Project:
    """Tree reader: a folder of Reference-view exports (one file per code) as a Project."""
    return rebuild(files, None, options)
