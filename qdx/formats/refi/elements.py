"""The :class:`Writer` of REFI-QDA 1.0 XML: one method per element, in schema order
(Project-mrt2019.xsd / Codebook-mrt2019.xsd); :mod:`qdx.formats.refi.writer` drives it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from qdx.formats.refi._emit import Emitter, Node, escape_attr
from qdx.formats.refi.units import split_guid
from qdx.formats.refi.values import (
    _ILLEGAL_SURROGATES,
    Files,
    _attr,
    _audit,
    _corners,
    _lf_text,
    _positions,
    _same,
    clean,
)
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
from qdx.text import UTF16, PositionMap, crlf_shift, shift_for_crlf, to_crlf

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
_SAFE_NAME = re.compile(r"[^\w.\- ]")

Element = Node
Attrs = Iterable[tuple[str, object]]

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

