"""Model -> REFI-QDA 1.0 XML (Project-mrt2019.xsd / Codebook-mrt2019.xsd), in schema order.

Elements and attributes follow the XSD sequence and attribute order exactly, so output
validates and is byte-deterministic (docs/architecture.md, rule 10). Text positions are written in the
dialect's unit: ``refi`` = code points (REFI §10.2); ``nvivo`` = UTF-16 units over CRLF text
(docs/quirks.md quirks 1-2). Characters XML 1.0 cannot carry are replaced by U+FFFD with a
:class:`~qdx.errors.LossyConversionWarning`, never written raw.

This module writes whole documents; the :class:`~qdx.formats.refi.elements.Writer` writes each
element and :mod:`~qdx.formats.refi.values` turns values into XML text and names embedded files.
"""

from __future__ import annotations

from qdx.formats.refi.elements import CODEBOOK_NS, Writer
from qdx.formats.refi.units import iter_docs, marker
from qdx.formats.refi.values import Files, _lossy, prolog
from qdx.model import Project
from qdx.options import Dialect, Newline
from qdx.text import CODEPOINT, UTF16

__all__ = ["Files", "codebook_xml", "project_xml", "prolog"]


def project_xml(project: Project, dialect: Dialect, files: Files | None, *, newline: Newline = "lf") -> bytes:
    """``project.qde`` bytes for ``project`` (a codebook-only project becomes a Project too)."""
    writer = Writer(dialect=dialect, files=files, newline=newline)
    writer.doc_index = {id(doc): i for i, doc in enumerate(iter_docs(project))}
    writer.source_index = {id(src): i for i, src in enumerate(project.sources)}
    writer.project(project)
    if writer.dropped:
        shown = ", ".join(writer.dropped[:3])
        _lossy(f"a bare .qde cannot hold embedded files; dropped {len(writer.dropped)}: {shown}")
    unit = UTF16 if dialect == "nvivo" else CODEPOINT
    # The marker follows the tree (it lists the widened texts), so the prolog goes in last.
    body = writer.out.finish()
    note = marker(
        unit,
        sorted(writer.lf_docs),
        writer.split,
        inline=sorted(writer.inline_docs),
        notext=sorted(writer.notext_docs),
        nopath=sorted(writer.nopath_sources),
        no_origin=writer.no_origin,
    )
    return prolog(note).encode("utf-8") + body


def codebook_xml(project: Project) -> bytes:
    """``.qdc`` bytes: codes and code sets only (namespace urn:QDA-XML:codebook:1.0)."""
    lost = [name for name, items in _non_codebook_parts(project) if items]
    if lost:
        _lossy(f"a .qdc holds only codes and code sets; dropped {', '.join(lost)}")
    writer = Writer(ns=CODEBOOK_NS)
    writer.codebook(project)
    return prolog(None).encode("utf-8") + writer.out.finish()


def _non_codebook_parts(p: Project) -> list[tuple[str, object]]:
    return [
        ("users", p.users),
        ("variables", p.variables),
        ("cases", p.cases),
        ("sources", p.sources),
        ("notes", p.notes),
        ("links", p.links),
        ("graphs", p.graphs),
        ("set members other than codes", [s for s in p.sets if s.member_sources or s.member_notes]),
        ("code notes", [c for c in p.codes if c.note_refs]),
    ]
