"""The codebook appendix as a document: Word (``.docx``), Markdown (``.md``) or HTML (``.html``).

The Word document (thesis-ready headings, named styles, a table of contents and NVivo's codebook
table, which qdx's own reader reads back) is built in :mod:`qdx.report.codebook_docx`; the
Markdown and HTML versions are here, with the file writers and the notebook-facing
:class:`CodebookAppendix`. All three word their counts and quotes alike
(:mod:`qdx.report.codebook_words`).
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, fields
from pathlib import Path
from typing import BinaryIO

from qdx.errors import UsageError
from qdx.model import Project
from qdx.report.codebook_data import FIELD_LABELS, CodebookData, CodebookEntry, codebook_data
from qdx.report.codebook_docx import docx_bytes
from qdx.report.codebook_words import counted, counts_line, heading_level, memo_title, quote_source
from qdx.safety import atomic_write

__all__ = [
    "CODEBOOK_CSS",
    "CODEBOOK_SUFFIXES",
    "CodebookAppendix",
    "codebook",
    "codebook_bytes",
    "counted",
    "counts_line",
    "docx_bytes",
    "heading_level",
    "html_fragment",
    "html_text",
    "markdown_text",
    "md_escape",
    "memo_title",
    "quote_source",
    "write_bytes",
    "write_codebook",
]

CODEBOOK_SUFFIXES = (".docx", ".md", ".html")


# --------------------------------------------------------------------------- Markdown

# Every text is written after a prefix on its line ("### ", "- ", "**Label:** ", "> "), so the
# characters that act only at a line's start (-, +, ., !) need no escape; these act anywhere.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]()#|<>~&])")


def md_escape(text: str) -> str:
    """Markdown-inert text: every character that could start emphasis, code, a link, inline
    HTML, an entity or a table cell is backslash-escaped (CommonMark §2.4), and line breaks
    become spaces so nothing can start a block."""
    return _MD_SPECIAL.sub(r"\\\1", text).replace("\n", " ")


def _md_entry(entry: CodebookEntry) -> Iterator[str]:
    swatch = f" (colour {entry.color})" if entry.color else ""
    yield f"{'#' * heading_level(entry)} {md_escape(entry.name)}"
    yield ""
    yield f"*{md_escape(' › '.join(entry.path))}* — {md_escape(counts_line(entry))}{md_escape(swatch)}"
    yield ""
    for key, text in entry.fields.items():
        yield f"**{FIELD_LABELS[key]}:** {md_escape(text)}"
        yield ""
    if entry.example is not None:
        yield f"> {md_escape(entry.example.text)}"
        yield f"> — {md_escape(quote_source(entry.example))}"
        yield ""
    for memo in entry.memos:
        yield f"**{md_escape(': '.join(memo_title(memo.name)))}:** {md_escape(memo.text)}"
        yield ""


def markdown_text(book: CodebookData) -> str:
    """The codebook as Markdown: headings per level, the tree as a nested list, the definitions."""
    lines = [f"# {md_escape(book.title)}", "", md_escape(book.quote_rule), "", "## Code tree", ""]
    for entry in book.entries:
        counts = counted(entry.references_total, entry.sources_total)
        lines.append(f"{'  ' * entry.depth}- {md_escape(entry.name)} ({md_escape(counts)})")
    lines += ["", "## Code definitions", ""]
    for entry in book.entries:
        lines.extend(_md_entry(entry))
    if book.project_memos:
        lines += ["## Project memos", ""]
        for memo in book.project_memos:
            lines += [f"**{md_escape(memo.name)}:** {md_escape(memo.text)}", ""]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- HTML


def _h(text: str) -> str:
    return html.escape(text, quote=True)


def _html_entry(entry: CodebookEntry) -> Iterator[str]:
    level = min(heading_level(entry), 6)
    swatch = (f'<span class="swatch" style="background:{entry.color}" aria-hidden="true"></span>'
              if entry.color else "")
    yield f'<section class="code depth-{entry.depth}" id="code-{_h(entry.guid)}">'
    yield f"<h{level}>{swatch}{_h(entry.name)}</h{level}>"
    yield f'<p class="meta">{_h(" › ".join(entry.path))} — {_h(counts_line(entry))}</p>'
    if entry.fields:
        yield "<dl>"
        for key, text in entry.fields.items():
            yield f"<dt>{_h(FIELD_LABELS[key])}</dt><dd>{_h(text)}</dd>"
        yield "</dl>"
    if entry.example is not None:
        yield (f"<blockquote><p>{_h(entry.example.text)}</p>"
               f"<footer>— {_h(quote_source(entry.example))}</footer></blockquote>")
    for memo in entry.memos:
        yield f'<aside class="memo"><h{min(level + 1, 6)}>{_h(": ".join(memo_title(memo.name)))}</h{min(level + 1, 6)}>'
        yield f"<p>{_h(memo.text)}</p></aside>"
    yield "</section>"


CODEBOOK_CSS = """
body{font-family:system-ui,"Noto Sans","Noto Sans CJK SC",sans-serif;max-width:52rem;margin:2rem auto;
padding:0 1rem;line-height:1.5;color:#1a1a1a}
.meta{color:#595959;font-size:.9em}.swatch{display:inline-block;width:.8em;height:.8em;margin-right:.4em;
border:1px solid #0003;vertical-align:baseline}dt{font-weight:600}dd{margin:0 0 .5em 1.5em}
blockquote{border-left:3px solid #bbb;margin:.5em 0;padding:.2em 1em;color:#333}
.memo{background:#f6f6f0;padding:.2em 1em;margin:.5em 0}.memo p{white-space:pre-wrap}
"""


def html_fragment(book: CodebookData) -> str:
    """The codebook's body as an HTML fragment (every text escaped), for reports and notebooks."""
    parts = [f"<p>{_h(book.quote_rule)}</p>"]
    for entry in book.entries:
        parts.extend(_html_entry(entry))
    return "\n".join(parts)


def html_text(book: CodebookData) -> str:
    """The codebook as a standalone HTML page (no scripts, no external resources)."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'">'
        f"<title>{_h(book.title)} — codebook</title><style>{CODEBOOK_CSS}</style></head><body>"
        f"<h1>{_h(book.title)}</h1>\n{html_fragment(book)}\n"
        + "".join(f"<h2>Project memo: {_h(m.name)}</h2><p class=\"memo\">{_h(m.text)}</p>"
                  for m in book.project_memos)
        + "</body></html>\n"
    )


# --------------------------------------------------------------------------- files


def codebook_bytes(book: CodebookData, suffix: str) -> bytes:
    """The codebook in the format named by ``suffix`` (``.docx``, ``.md`` or ``.html``).

    Raises:
        UsageError: another suffix.
    """
    suffix = suffix.lower()
    if suffix == ".docx":
        return docx_bytes(book)
    if suffix == ".md":
        return markdown_text(book).encode("utf-8")
    if suffix == ".html":
        return html_text(book).encode("utf-8")
    raise UsageError(f"cannot write a codebook as {suffix or 'a file without extension'}; "
                     f"use {', '.join(CODEBOOK_SUFFIXES)}")


def write_codebook(book: CodebookData, path: str | os.PathLike[str]) -> None:
    """Write the codebook atomically, in the format of ``path``'s suffix.

    Raises:
        UsageError: an unknown suffix. WriteError: the file could not be written.
    """
    write_bytes(path, codebook_bytes(book, Path(path).suffix))


def write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (a failed write leaves no partial file)."""

    def produce(stream: BinaryIO) -> None:
        stream.write(data)

    atomic_write(path, produce)


@dataclass(frozen=True, slots=True)
class CodebookAppendix(CodebookData):
    """:class:`~qdx.report.codebook_data.CodebookData` that a notebook shows as HTML and that
    saves itself as ``.docx``, ``.md`` or ``.html``."""

    def _repr_html_(self) -> str:
        return html_fragment(self)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the codebook atomically in the format of ``path``'s suffix."""
        write_codebook(self, path)


def codebook(project: Project, path: str | os.PathLike[str] | None = None) -> CodebookAppendix:
    """The codebook appendix of ``project``; written to ``path`` (``.docx``, ``.md``, ``.html``) if given.

    Args:
        project: the project (not modified).
        path: where to write it; the suffix picks the format.

    Returns:
        The :class:`CodebookAppendix` (in a notebook it displays as HTML).

    Raises:
        UsageError: an unknown suffix. WriteError: the file could not be written.

    Example:
        >>> book = qdx.codebook(qdx.read("study.qdpx"), "codebook.docx")   # doctest: +SKIP
        >>> [e.name for e in book.entries if e.depth == 1]                   # doctest: +SKIP
    """
    data = codebook_data(project)
    book = CodebookAppendix(**{f.name: getattr(data, f.name) for f in fields(data)})
    if path is not None:
        write_codebook(book, path)
    return book
