"""Model -> REFI-QDA 1.0 XML (Project-mrt2019.xsd / Codebook-mrt2019.xsd), in schema order.

Elements and attributes follow the XSD sequence and attribute order exactly, so output
validates and is byte-deterministic (docs/architecture.md, rule 10). Text positions are written in the
dialect's unit: ``refi`` = code points (REFI §10.2); ``nvivo`` = UTF-16 units over CRLF text
(docs/quirks.md quirks 1-2). Characters XML 1.0 cannot carry are replaced by U+FFFD with a
:class:`~qdx.errors.LossyConversionWarning`, never written raw.
"""

from __future__ import annotations

import re
import uuid
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from qdx.errors import LossyConversionWarning
from qdx.formats.refi._emit import Emitter, Node, escape_attr
from qdx.formats.refi.units import iter_docs, marker, split_guid
from qdx.model import (
    AudioSelection,
    AudioSource,
    Case,
    Code,
    Coding,
    Edge,
    Graph,
    Guid,
    Link,
    PDFSelection,
    PDFSource,
    PictureSelection,
    PictureSource,
    Project,
    Set,
    Source,
    SyncPoint,
    TextDoc,
    TextSelection,
    TextSource,
    Transcript,
    TranscriptSelection,
    User,
    Variable,
    VariableValue,
    Vertex,
    VideoSelection,
    VideoSource,
)
from qdx.options import Dialect, Newline
from qdx.text import CODEPOINT, CODEPOINT_LF, UTF16, PositionMap, crlf_shift, shift_for_crlf, to_crlf

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
_SAFE_NAME = re.compile(r"[^\w.\- ]")
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

Element = Node
Attrs = Iterable[tuple[str, object]]


def clean(value: str) -> str:
    """``value`` with characters illegal in XML 1.0 replaced by U+FFFD (one for one, so
    text positions stay valid), warning when anything was replaced."""
    if _ILLEGAL.search(value) is None:
        return value
    warnings.warn(
        f"replaced {len(_ILLEGAL.findall(value))} character(s) that XML 1.0 cannot hold by U+FFFD",
        LossyConversionWarning,
        stacklevel=4,
    )
    return _ILLEGAL.sub("\ufffd", value)


_SAFE_STEM = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
_SAFE_EXT = re.compile(r"[A-Za-z0-9]{1,16}")


@dataclass(slots=True)
class Files:
    """Members for the ``sources/`` folder, named ``<GUID>.<ext>`` (REFI §8.3)."""

    folder: str = "sources"
    entries: list[tuple[str, bytes]] = field(default_factory=list)
    _names: set[str] = field(default_factory=set)

    def add(self, guid: Guid, ext: str, data: bytes) -> str:
        """Store ``data`` and return its ``internal://`` path.

        Names are always a plain GUID and a short alphanumeric extension: a GUID attribute
        read from a hostile file (``../../x``) must never become a zip-slip entry here.
        """
        stem = guid.strip("{}")
        if not _SAFE_STEM.fullmatch(stem):
            stem = str(uuid.uuid5(uuid.NAMESPACE_OID, f"qdx-file:{guid}"))
        if not _SAFE_EXT.fullmatch(ext):
            ext = "bin" if ext else ""
        name = f"{stem}.{ext}" if ext else stem
        n = 0
        while name.lower() in self._names:  # duplicate GUIDs (quirk 13) must not clash
            n += 1
            stem = str(uuid.uuid5(uuid.NAMESPACE_OID, f"{guid}/{n}"))
            name = f"{stem}.{ext}" if ext else stem
        self._names.add(name.lower())
        self.entries.append((f"{self.folder}/{name}", data))
        return f"internal://{name}"


@dataclass(slots=True)
class Writer:
    """One write: dialect, where files go (None: a bare .qde, text is inlined)."""

    dialect: Dialect = "refi"
    files: Files | None = None
    newline: Newline = "lf"
    ns: str = PROJECT_NS
    # id(doc) -> index in iter_docs order, and the indices widened from LF to CRLF.
    doc_index: dict[int, int] = field(default_factory=dict)
    lf_docs: list[int] = field(default_factory=list)
    split: bool = False  # the nvivo dialect split a selection into one per Coding
    # Written only so clients do not crash (a .qdpx; see units.marker): doc / source indices.
    inline_docs: list[int] = field(default_factory=list)
    notext_docs: list[int] = field(default_factory=list)
    nopath_sources: list[int] = field(default_factory=list)
    source_index: dict[int, int] = field(default_factory=dict)
    no_origin: bool = False
    dropped: list[str] = field(default_factory=list)
    out: Emitter = field(default_factory=lambda: Emitter(""))

    # ----------------------------------------------------------------- primitives

    def el(self, parent: Element | None, tag: str, attrs: Attrs = (), text: str | None = None) -> Element:
        rendered = "".join([f' {key}="{_attr(value)}"' for key, value in attrs if value is not None])
        if parent is None:
            rendered = f' xmlns="{escape_attr(self.ns)}"{rendered}'
        return self.out.open(parent, tag, rendered, None if text is None else clean(text))

    def desc(self, parent: Element, value: str | None) -> None:
        if value is not None:
            self.el(parent, "Description", text=value)

    def refs(self, parent: Element, tag: str, guids: Iterable[Guid], attr: str = "targetGUID") -> None:
        for guid in guids:
            self.el(parent, tag, [(attr, guid)])

    def many(self, parent: Element, items: Iterable[Any], fn: Callable[[Element, Any], None]) -> None:
        for item in items:
            fn(parent, item)

    def box(self, parent: Element, tag: str, items: tuple[Any, ...], fn: Callable[[Element, Any], None]) -> None:
        """A container element, omitted when empty (the XSD wants at least one child)."""
        if items:
            self.many(self.el(parent, tag), items, fn)

    # ----------------------------------------------------------------- users, codes, sets

    def user(self, parent: Element, user: User) -> None:
        self.el(parent, "User", [("guid", user.guid), ("name", user.name), ("id", user.id)])

    def code(self, parent: Element, code: Code) -> None:
        node = self.el(
            parent,
            "Code",
            [("guid", code.guid), ("name", code.name), ("isCodable", code.is_codable), ("color", code.color)],
        )
        self.desc(node, code.description)
        if self.ns == PROJECT_NS:
            self.refs(node, "NoteRef", code.note_refs)
        self.many(node, code.children, self.code)

    def code_set(self, parent: Element, item: Set) -> None:
        node = self.el(parent, "Set", [("guid", item.guid), ("name", item.name)])
        self.desc(node, item.description)
        if self.ns == CODEBOOK_NS:
            # The codebook schema points with @guid and has no source/note members.
            self.refs(node, "MemberCode", item.member_codes, attr="guid")
            return
        self.refs(node, "MemberCode", item.member_codes)
        self.refs(node, "MemberSource", item.member_sources)
        self.refs(node, "MemberNote", item.member_notes)

    # ----------------------------------------------------------------- variables, cases

    def variable(self, parent: Element, var: Variable) -> None:
        node = self.el(parent, "Variable", [("guid", var.guid), ("name", var.name), ("typeOfVariable", var.type.value)])
        self.desc(node, var.description)

    def variable_value(self, parent: Element, value: VariableValue) -> None:
        node = self.el(parent, "VariableValue")
        self.el(node, "VariableRef", [("targetGUID", value.variable)])
        if value.kind is not None:
            self.el(node, value.kind.value, text=value.value or "")

    def case(self, parent: Element, case: Case) -> None:
        node = self.el(parent, "Case", [("guid", case.guid), ("name", case.name)])
        self.desc(node, case.description)
        self.refs(node, "CodeRef", case.code_refs)
        self.many(node, case.variable_values, self.variable_value)
        self.refs(node, "SourceRef", case.source_refs)
        self.refs(node, "SelectionRef", case.selection_refs)

    # ----------------------------------------------------------------- codings, selections

    def coding(self, parent: Element, coding: Coding) -> None:
        node = self.el(
            parent,
            "Coding",
            [
                ("guid", coding.guid),
                ("creatingUser", coding.creating_user),
                ("creationDateTime", coding.creation_datetime),
            ],
        )
        self.el(node, "CodeRef", [("targetGUID", coding.code)])
        self.refs(node, "NoteRef", coding.note_refs)

    def selection(
        self, parent: Element, tag: str, sel: Any, middle: Attrs, inner: Callable[[Element], None] | None = None
    ) -> None:
        """Any selection: guid, name, kind-specific attributes, audit; Description, [inner],
        Coding*, NoteRef*.

        The nvivo dialect writes one Coding per selection, as NVivo's own exports do
        (docs/nvivo-exports.md §a.2 item 2; NVivo-oriented readers drop a second Coding): a selection with
        several is split, the others under GUIDs derived from its own (:func:`split_guid`), so
        qdx's reader rejoins them."""
        codings: tuple[Coding, ...] = sel.codings
        if self.dialect != "nvivo" or len(codings) < 2:
            self._selection(parent, tag, sel, sel.guid, middle, inner, codings)
            return
        self.split = True
        self._selection(parent, tag, sel, sel.guid, middle, inner, codings[:1])
        for number, coding in enumerate(codings[1:], 1):
            self._selection(parent, tag, sel, split_guid(sel.guid, number), middle, None, (coding,), part=True)

    def _selection(
        self,
        parent: Element,
        tag: str,
        sel: Any,
        guid: Guid,
        middle: Attrs,
        inner: Callable[[Element], None] | None,
        codings: tuple[Coding, ...],
        *,
        part: bool = False,
    ) -> None:
        # A split-off part carries only its Coding: description, notes and nested text stay on the first.
        node = self.el(parent, tag, [("guid", guid), ("name", sel.name), *middle, *_audit(sel)])
        if not part:
            self.desc(node, sel.description)
        if inner is not None:
            inner(node)
        self.many(node, codings, self.coding)
        if not part:
            self.refs(node, "NoteRef", sel.note_refs)

    def picture_selection(self, parent: Element, sel: PictureSelection) -> None:
        self.selection(parent, "PictureSelection", sel, _corners(sel))

    def pdf_selection(self, parent: Element, sel: PDFSelection) -> None:
        def inner(node: Element) -> None:
            if sel.representation is not None:
                self.text_source(node, sel.representation, "Representation")

        self.selection(parent, "PDFSelection", sel, [("page", sel.page), *_corners(sel)], inner)

    def media_selection(self, parent: Element, sel: AudioSelection | VideoSelection) -> None:
        tag = "AudioSelection" if isinstance(sel, AudioSelection) else "VideoSelection"
        self.selection(parent, tag, sel, [("begin", sel.begin), ("end", sel.end)])

    def transcript_selection(self, parent: Element, sel: TranscriptSelection) -> None:
        ends = [("fromSyncPoint", sel.from_sync_point), ("toSyncPoint", sel.to_sync_point)]
        self.selection(parent, "TranscriptSelection", sel, ends)

    # ----------------------------------------------------------------- text-bearing elements

    def text_body(self, doc: TextDoc) -> tuple[str | None, Callable[[int], int], Attrs]:
        """The text as written, the model->written position map and the path attributes."""
        text, pos = self.dialect_text(doc)
        rich = None
        if doc.rich_text is not None and self.files is not None:
            rich = self.files.add(doc.guid, doc.rich_text.ext, doc.rich_text.data)
        elif doc.rich_text is not None:
            self.dropped.append(f"{doc.guid}.{doc.rich_text.ext}")
        plain = doc.plain_text_path
        if self.files is not None and text is not None:
            # In a .qdpx every text goes to a file: QualCoder reads plainTextPath only and fails
            # on an inline PlainTextContent (the marker lets qdx read it back as inline).
            plain = self.files.add(doc.guid, "txt", self.encode_text(text))
            if doc.text_inline:
                self.inline_docs.append(self.doc_index[id(doc)])
        elif self.files is not None and plain is None:
            plain = self.files.add(doc.guid, "txt", b"")  # no text at all: an empty file, marked
            self.notext_docs.append(self.doc_index[id(doc)])
        return text, pos, [("richTextPath", rich or doc.rich_text_path), ("plainTextPath", plain)]

    def dialect_text(self, doc: TextDoc) -> tuple[str | None, Callable[[int], int]]:
        text = doc.text
        if text is None:
            return text, _same
        if self.dialect != "nvivo":
            return _lf_text(text) if self.newline == "lf" and "\r" in text else (text, _same)
        # NVivo Windows stores CRLF and counts UTF-16 units (quirks 1-2). Only an all-LF
        # text is widened, so the marker lets a reader restore it exactly.
        shifts = crlf_shift(text) if "\r\n" not in text else []
        out = to_crlf(text) if shifts else text
        pmap = PositionMap(out, UTF16)
        if not shifts:
            return out, pmap.from_model
        self.lf_docs.append(self.doc_index[id(doc)])
        return out, lambda p: pmap.from_model(shift_for_crlf(shifts, p))

    def encode_text(self, text: str) -> bytes:
        body = _ILLEGAL_SURROGATES.sub("\ufffd", text).encode("utf-8")
        # NVivo Windows writes a BOM (quirk 2); REFI §9.1.2 only asks for UTF-8.
        return b"\xef\xbb\xbf" + body if self.dialect == "nvivo" else body

    def text_source(self, parent: Element, src: TextSource, tag: str = "TextSource") -> None:
        text, pos, paths = self.text_body(src)
        inline = text is not None and self.files is None
        node = self.el(parent, tag, [("guid", src.guid), ("name", src.name), *paths, *_audit(src)])
        self.desc(node, src.description)
        if inline and text is not None:
            self.el(node, "PlainTextContent", text=text)
        for sel in src.selections:
            self.selection(node, "PlainTextSelection", sel, _positions(sel, pos))
        self.many(node, src.codings, self.coding)
        self.refs(node, "NoteRef", src.note_refs)
        self.many(node, src.variable_values, self.variable_value)

    def transcript(self, parent: Element, doc: Transcript) -> None:
        text, pos, paths = self.text_body(doc)
        inline = text is not None and self.files is None
        node = self.el(parent, "Transcript", [("guid", doc.guid), ("name", doc.name), *paths, *_audit(doc)])
        self.desc(node, doc.description)
        if inline and text is not None:
            self.el(node, "PlainTextContent", text=text)
        for point in doc.sync_points:
            self.sync_point(node, point, pos)
        self.many(node, doc.selections, self.transcript_selection)
        self.refs(node, "NoteRef", doc.note_refs)

    def sync_point(self, parent: Element, point: SyncPoint, pos: Callable[[int], int]) -> None:
        position = None if point.position is None else pos(point.position)
        self.el(parent, "SyncPoint", [("guid", point.guid), ("timeStamp", point.time_stamp), ("position", position)])

    # ----------------------------------------------------------------- file sources

    def file_attrs(self, src: PictureSource | PDFSource | AudioSource | VideoSource) -> list[tuple[str, object]]:
        path = src.path
        if src.blob is not None and self.files is not None:
            path = self.files.add(src.guid, src.blob.ext, src.blob.data)
        elif src.blob is not None:
            self.dropped.append(f"{src.guid}.{src.blob.ext}")
        elif path is None and self.files is not None:
            # No file anywhere: QualCoder fails on a file source without a path, so name the
            # missing file where no one has it (marked, so qdx reads the path back as absent).
            path = f"absolute:///{_SAFE_NAME.sub('_', src.name or str(src.guid))}"
            self.nopath_sources.append(self.source_index[id(src)])
        return [("guid", src.guid), ("name", src.name), ("path", path), ("currentPath", src.current_path), *_audit(src)]

    def file_tail(self, node: Element, src: PictureSource | PDFSource | AudioSource | VideoSource) -> None:
        self.many(node, src.codings, self.coding)
        self.refs(node, "NoteRef", src.note_refs)
        self.many(node, src.variable_values, self.variable_value)

    def picture_source(self, parent: Element, src: PictureSource) -> None:
        node = self.el(parent, "PictureSource", self.file_attrs(src))
        self.desc(node, src.description)
        if src.text_description is not None:
            self.text_source(node, src.text_description, "TextDescription")
        self.many(node, src.selections, self.picture_selection)
        self.file_tail(node, src)

    def pdf_source(self, parent: Element, src: PDFSource) -> None:
        node = self.el(parent, "PDFSource", self.file_attrs(src))
        self.desc(node, src.description)
        self.many(node, src.selections, self.pdf_selection)
        if src.representation is not None:
            self.text_source(node, src.representation, "Representation")
        self.file_tail(node, src)

    def media_source(self, parent: Element, src: AudioSource | VideoSource) -> None:
        tag = "AudioSource" if isinstance(src, AudioSource) else "VideoSource"
        node = self.el(parent, tag, self.file_attrs(src))
        self.desc(node, src.description)
        self.many(node, src.transcripts, self.transcript)
        self.many(node, src.selections, self.media_selection)
        self.file_tail(node, src)

    def source(self, parent: Element, src: Source) -> None:
        if isinstance(src, TextSource):
            self.text_source(parent, src)
        elif isinstance(src, PictureSource):
            self.picture_source(parent, src)
        elif isinstance(src, PDFSource):
            self.pdf_source(parent, src)
        else:
            self.media_source(parent, src)

    def note(self, parent: Element, note: TextSource) -> None:
        self.text_source(parent, note, "Note")

    # ----------------------------------------------------------------- links, graphs

    def link(self, parent: Element, link: Link) -> None:
        node = self.el(
            parent,
            "Link",
            [
                ("guid", link.guid),
                ("name", link.name),
                ("direction", link.direction.value if link.direction else None),
                ("color", link.color),
                ("originGUID", link.origin),
                ("targetGUID", link.target),
            ],
        )
        self.refs(node, "NoteRef", link.note_refs)

    def graph(self, parent: Element, graph: Graph) -> None:
        node = self.el(parent, "Graph", [("guid", graph.guid), ("name", graph.name)])
        self.many(node, graph.vertices, self.vertex)
        self.many(node, graph.edges, self.edge)

    def vertex(self, parent: Element, v: Vertex) -> None:
        self.el(
            parent,
            "Vertex",
            [
                ("guid", v.guid),
                ("representedGUID", v.represented),
                ("name", v.name),
                ("firstX", v.first_x),
                ("firstY", v.first_y),
                ("secondX", v.second_x),
                ("secondY", v.second_y),
                ("shape", v.shape.value if v.shape else None),
                ("color", v.color),
            ],
        )

    def edge(self, parent: Element, e: Edge) -> None:
        self.el(
            parent,
            "Edge",
            [
                ("guid", e.guid),
                ("representedGUID", e.represented),
                ("name", e.name),
                ("sourceVertex", e.source_vertex),
                ("targetVertex", e.target_vertex),
                ("color", e.color),
                ("direction", e.direction.value if e.direction else None),
                ("lineStyle", e.line_style.value if e.line_style else None),
            ],
        )

    # ----------------------------------------------------------------- roots

    def origin_of(self, p: Project) -> str | None:
        """QualCoder fails on a Project without ``origin``: a .qdpx names qdx (marked)."""
        if p.origin is None and self.files is not None:
            self.no_origin = True
            return "qdx"
        return p.origin

    def project(self, p: Project) -> Element:
        root = self.el(
            None,
            "Project",
            [
                ("name", p.name),
                ("origin", self.origin_of(p)),
                ("creatingUserGUID", p.creating_user),
                ("creationDateTime", p.creation_datetime),
                ("modifyingUserGUID", p.modifying_user),
                ("modifiedDateTime", p.modified_datetime),
                ("basePath", p.base_path),
            ],
        )
        self.box(root, "Users", p.users, self.user)
        if p.codes:
            self.box(self.el(root, "CodeBook"), "Codes", p.codes, self.code)
        self.box(root, "Variables", p.variables, self.variable)
        self.box(root, "Cases", p.cases, self.case)
        self.box(root, "Sources", p.sources, self.source)
        self.box(root, "Notes", p.notes, self.note)
        self.box(root, "Links", p.links, self.link)
        self.box(root, "Sets", p.sets, self.code_set)
        self.box(root, "Graphs", p.graphs, self.graph)
        self.desc(root, p.description)
        self.refs(root, "NoteRef", p.note_refs)
        return root

    def codebook(self, p: Project) -> Element:
        root = self.el(None, "CodeBook", [("origin", p.origin)])
        codes = self.el(root, "Codes")
        self.many(codes, p.codes, self.code)
        self.box(root, "Sets", p.sets, self.code_set)
        return root


_ILLEGAL_SURROGATES = re.compile("[\ud800-\udfff]")


def _lf_text(text: str) -> tuple[str, Callable[[int], int]]:
    """``text`` with CRLF and lone CR as LF, and the model -> written position map.

    A CRLF pair becomes one LF (later positions move back by one per pair; a position between
    CR and LF lands on the LF); a lone CR becomes LF in place. This is what a text-mode reader
    (QualCoder, Python's universal newlines) makes of the file, so its offsets are ours.
    """
    pmap = PositionMap(text, CODEPOINT_LF)
    return text.replace("\r\n", "\n").replace("\r", "\n"), pmap.from_model


def _same(pos: int) -> int:
    return pos


# Anything an attribute value cannot hold as written: characters XML 1.0 forbids (cleaned)
# and markup or whitespace (escaped). One scan; nearly every GUID, date and name has none.
_ATTR_SPECIAL = re.compile('[\x00-\x1f&<>"\ud800-\udfff\ufffe\uffff]')


def _attr(value: object) -> str:
    """An attribute value as it goes between the quotes: cleaned and escaped."""
    if type(value) is int:  # positions, coordinates: nothing to clean
        return str(value)
    if value is True or value is False:
        return "true" if value else "false"
    text = value if isinstance(value, str) else str(value)
    if _ATTR_SPECIAL.search(text) is None:
        return text
    return escape_attr(clean(str(text)))


def _audit(rec: Any) -> list[tuple[str, object]]:
    return [
        ("creatingUser", rec.creating_user),
        ("creationDateTime", rec.creation_datetime),
        ("modifyingUser", rec.modifying_user),
        ("modifiedDateTime", rec.modified_datetime),
    ]


def _corners(sel: PictureSelection | PDFSelection) -> list[tuple[str, object]]:
    return [("firstX", sel.first_x), ("firstY", sel.first_y), ("secondX", sel.second_x), ("secondY", sel.second_y)]


def _positions(sel: TextSelection, pos: Callable[[int], int]) -> list[tuple[str, object]]:
    return [("startPosition", pos(sel.start)), ("endPosition", pos(sel.end))]


def _lossy(message: str) -> None:
    warnings.warn(message, LossyConversionWarning, stacklevel=4)


def prolog(note: str | None) -> str:
    """The XML declaration and, for projects, the qdx marker comment."""
    head = "<?xml version='1.0' encoding='utf-8'?>"
    return head if note is None else f"{head}\n<!--{note}-->"


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
