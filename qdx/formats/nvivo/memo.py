"""NVivo memos exported to Word (NVivo for Windows 14/15, written by TX Text Control).

Layout (a public sample of NVivo 14 memo exports): the first paragraph is
``Name: <memo name>``, then a blank paragraph, then the memo body, one paragraph per line.
"""

from __future__ import annotations

from typing import BinaryIO

from qdx.errors import FormatError
from qdx.formats import ReadOptions
from qdx.formats.nvivo.build import stable_guid
from qdx.formats.nvivo.office import open_docx, read_all
from qdx.model import Project, Provenance, TextSource

PREFIX = "Name: "


def memo_parts(paragraphs: list[str]) -> tuple[str, str] | None:
    """(name, body) when the paragraphs follow the memo layout, else None."""
    if not paragraphs or not paragraphs[0].startswith(PREFIX):
        return None
    body = paragraphs[1:]
    if body and not body[0].strip():
        body = body[1:]
    return paragraphs[0][len(PREFIX) :].strip(), "\n".join(body)


def read_memo_docx(stream: BinaryIO, options: ReadOptions) -> Project:
    """Format reader: a memo .docx as a Project holding one Note.

    Raises:
        FormatError: the document does not start with ``Name: ``.
    """
    document = open_docx(read_all(stream), options)
    parts = memo_parts([p.text for p in document.paragraphs])
    if parts is None:
        raise FormatError("not an NVivo memo export (no 'Name: ' first paragraph)", location=options.label)
    name, body = parts
    note = TextSource(guid=stable_guid("memo", name), name=name, text=body, loc=options.label)
    return Project(
        name=name,
        origin="NVivo (memo export)",
        notes=(note,),
        provenance=Provenance(fmt="nvivo-memo-docx"),
    )
