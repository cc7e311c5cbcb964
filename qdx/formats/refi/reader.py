"""REFI-QDA 1.0 ``project.qde`` / ``.qdc`` XML -> model (Project-mrt2019.xsd, Codebook-mrt2019.xsd).

One handler per element type, dispatched by local name (namespaces are advisory, STANDARD.md
quirk 25). Text positions are stored here exactly as written (producer units); the caller
(:mod:`qdx.formats.refi.units`) converts them to code points once the unit is known.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from lxml import etree

from qdx.errors import ReadError, Severity
from qdx.formats.refi._context import Context, Element, kids, local
from qdx.model import (
    AudioSelection,
    AudioSource,
    Case,
    Code,
    Coding,
    Direction,
    Edge,
    Graph,
    Guid,
    LineStyle,
    Link,
    PDFSelection,
    PDFSource,
    PictureSelection,
    PictureSource,
    Project,
    Set,
    Shape,
    Source,
    SyncPoint,
    TextSelection,
    TextSource,
    Transcript,
    TranscriptSelection,
    User,
    ValueKind,
    Variable,
    VariableType,
    VariableValue,
    Vertex,
    VideoSelection,
    VideoSource,
)
from qdx.safety import check_no_doctype, xml_parser

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"

E = TypeVar("E")


def parse_xml(data: bytes, label: str) -> Element:
    """Parse XML bytes safely (no DTD, no entities, no network) and return the root.

    Raises:
        UnsafeInputError: the document declares a DTD or entities.
        ReadError: the XML is malformed (location ``label:line``).
    """
    check_no_doctype(data, location=label)
    try:
        root = etree.fromstring(data, parser=xml_parser())
    except etree.XMLSyntaxError as exc:
        line = exc.lineno or (exc.position[0] if exc.position else 0)
        raise ReadError(f"malformed XML: {exc.msg}", location=f"{label}:{line}") from exc
    doctype: str = getattr(root.getroottree().docinfo, "doctype", "")
    if doctype:
        raise ReadError("document declares a DTD, which REFI-QDA never needs; refused", location=label)
    return root


# --------------------------------------------------------------------------- small helpers


def _text(el: Element | None) -> str | None:
    if el is None:
        return None
    return el.text or ""


def _one(k: dict[str, list[Element]], name: str) -> Element | None:
    found = k.get(name)
    return found[0] if found else None


def _desc(k: dict[str, list[Element]]) -> str | None:
    return _text(_one(k, "Description"))


def _refs(k: dict[str, list[Element]], name: str, ctx: Context, attr: str = "targetGUID") -> tuple[Guid, ...]:
    return tuple(ctx.guid(el, attr) for el in k.get(name, ()))


def _many(k: dict[str, list[Element]], name: str, ctx: Context, fn: Callable[[Element, Context], E]) -> tuple[E, ...]:
    return tuple(fn(el, ctx) for el in k.get(name, ()))


def _enum(el: Element, name: str, enum_type: type[Any], ctx: Context) -> Any:
    value = el.get(name)
    if value is None:
        return None
    try:
        return enum_type(value.strip())
    except ValueError:
        ctx.issue("QDX005", f"{name}={value!r} is not a valid {enum_type.__name__}", el)
        return None


def _audit(el: Element, ctx: Context) -> dict[str, Any]:
    return {
        "creating_user": ctx.opt_guid(el, "creatingUser"),
        "creation_datetime": el.get("creationDateTime"),
        "modifying_user": ctx.opt_guid(el, "modifyingUser"),
        "modified_datetime": el.get("modifiedDateTime"),
    }


def _check_children(el: Element, k: dict[str, list[Element]], allowed: frozenset[str], ctx: Context) -> None:
    for name in k.keys() - allowed:
        ctx.issue("QDX007", f"unknown element <{name}> in <{local(el.tag)}> ignored", k[name][0])


# --------------------------------------------------------------------------- users, codes, sets


def read_user(el: Element, ctx: Context) -> User:
    return User(guid=ctx.own_guid(el), name=el.get("name"), id=el.get("id"), loc=ctx.loc(el))


def read_code(el: Element, ctx: Context) -> Code:
    k = kids(el)
    name = el.get("name")
    if name is None:
        ctx.issue("QDX006", "<Code> lacks required attribute name", el, Severity.ERROR)
    if "isCodable" not in el.attrib:
        ctx.issue("QDX006", "<Code> lacks required attribute isCodable", el)
    return Code(
        guid=ctx.own_guid(el),
        name=name or "",
        is_codable=ctx.boolean(el, "isCodable", True),
        color=el.get("color"),
        description=_desc(k),
        note_refs=_refs(k, "NoteRef", ctx),
        children=_many(k, "Code", ctx, read_code),
        loc=ctx.loc(el),
    )


def read_set(el: Element, ctx: Context) -> Set:
    k = kids(el)
    # In a .qdc MemberCode points with @guid, in a project with @targetGUID (STANDARD.md §3).
    members = tuple(
        ctx.guid(m, "targetGUID" if m.get("targetGUID") is not None else "guid") for m in k.get("MemberCode", ())
    )
    return Set(
        guid=ctx.own_guid(el),
        name=el.get("name") or "",
        description=_desc(k),
        member_codes=members,
        member_sources=_refs(k, "MemberSource", ctx),
        member_notes=_refs(k, "MemberNote", ctx),
        loc=ctx.loc(el),
    )


def read_sets(el: Element | None, ctx: Context) -> tuple[Set, ...]:
    if el is None:
        return ()
    found = _many(kids(el), "Set", ctx, read_set)
    if not found:
        ctx.quirk("quirk20:empty-sets")
    return found


# --------------------------------------------------------------------------- variables, cases


def read_variable(el: Element, ctx: Context) -> Variable:
    k = kids(el)
    vtype = _enum(el, "typeOfVariable", VariableType, ctx) or VariableType.TEXT
    return Variable(
        guid=ctx.own_guid(el), name=el.get("name") or "", type=vtype, description=_desc(k), loc=ctx.loc(el)
    )


_VALUE_KINDS = {kind.value: kind for kind in ValueKind}


def read_variable_value(el: Element, ctx: Context) -> VariableValue:
    k = kids(el)
    ref = _one(k, "VariableRef")
    kind = next((_VALUE_KINDS[name] for name in k if name in _VALUE_KINDS), None)
    value = _text(_one(k, kind.value)) if kind is not None else None
    if ref is None:
        ctx.issue("QDX006", "<VariableValue> lacks <VariableRef>", el, Severity.ERROR)
    return VariableValue(
        variable=ctx.guid(ref, "targetGUID") if ref is not None else Guid(""),
        kind=kind,
        value=value,
        loc=ctx.loc(el),
    )


def read_case(el: Element, ctx: Context) -> Case:
    k = kids(el)
    return Case(
        guid=ctx.own_guid(el),
        name=el.get("name"),
        description=_desc(k),
        code_refs=_refs(k, "CodeRef", ctx),
        variable_values=_many(k, "VariableValue", ctx, read_variable_value),
        source_refs=_refs(k, "SourceRef", ctx),
        selection_refs=_refs(k, "SelectionRef", ctx),
        loc=ctx.loc(el),
    )


# --------------------------------------------------------------------------- codings, selections


def read_coding(el: Element, ctx: Context) -> Coding:
    # Hot path (one per coding): walk the children directly instead of grouping them.
    loc = ctx.loc(el)
    ref: Element | None = None
    notes: list[Guid] = []
    for child in el:
        tag = child.tag
        if not isinstance(tag, str):
            continue
        name = local(tag)
        if name == "CodeRef" and ref is None:
            ref = child
        elif name == "NoteRef":
            notes.append(ctx.guid(child, "targetGUID"))
        else:
            ctx.issue("QDX007", f"unexpected <{name}> in <Coding> ignored", child)
    if ref is None:
        ctx.issue("QDX006", "<Coding> lacks <CodeRef>", el, Severity.ERROR)
    return Coding(
        guid=ctx.own_guid(el, loc),
        code=ctx.guid(ref, "targetGUID") if ref is not None else Guid(""),
        creating_user=ctx.opt_guid(el, "creatingUser"),
        creation_datetime=el.get("creationDateTime"),
        note_refs=tuple(notes),
        loc=loc,
    )


def _selection_common(el: Element, ctx: Context) -> tuple[dict[str, list[Element]], dict[str, Any]]:
    k = kids(el)
    loc = ctx.loc(el)
    common = {
        "guid": ctx.own_guid(el, loc),
        "name": el.get("name"),
        "description": _desc(k),
        "codings": _many(k, "Coding", ctx, read_coding),
        "note_refs": _refs(k, "NoteRef", ctx),
        "loc": loc,
        **_audit(el, ctx),
    }
    return k, common


def read_text_selection(el: Element, ctx: Context) -> TextSelection:
    # Hot path (one per PlainTextSelection): children walked directly, no grouping dict.
    loc = ctx.loc(el)
    description: str | None = None
    codings: list[Coding] = []
    notes: list[Guid] = []
    for child in el:
        tag = child.tag
        if not isinstance(tag, str):
            continue
        name = local(tag)
        if name == "Coding":
            codings.append(read_coding(child, ctx))
        elif name == "NoteRef":
            notes.append(ctx.guid(child, "targetGUID"))
        elif name == "Description" and description is None:
            description = child.text or ""
        else:
            ctx.issue("QDX007", f"unexpected <{name}> in <PlainTextSelection> ignored", child)
    get = el.get
    user, modifier = get("creatingUser"), get("modifyingUser")
    return TextSelection(
        guid=ctx.own_guid(el, loc),
        name=get("name"),
        start=ctx.req_int(el, "startPosition"),
        end=ctx.req_int(el, "endPosition"),
        description=description,
        codings=tuple(codings),
        note_refs=tuple(notes),
        creating_user=Guid(user.strip()) if user else None,
        creation_datetime=get("creationDateTime"),
        modifying_user=Guid(modifier.strip()) if modifier else None,
        modified_datetime=get("modifiedDateTime"),
        loc=loc,
    )


def _corners(el: Element, ctx: Context) -> dict[str, Any]:
    return {
        "first_x": ctx.req_int(el, "firstX"),
        "first_y": ctx.req_int(el, "firstY"),
        "second_x": ctx.req_int(el, "secondX"),
        "second_y": ctx.req_int(el, "secondY"),
    }


def read_picture_selection(el: Element, ctx: Context) -> PictureSelection:
    _, common = _selection_common(el, ctx)
    return PictureSelection(**_corners(el, ctx), **common)


def read_pdf_selection(el: Element, ctx: Context) -> PDFSelection:
    k, common = _selection_common(el, ctx)
    rep = _one(k, "Representation")
    return PDFSelection(
        page=ctx.req_int(el, "page"),
        representation=read_text_source(rep, ctx) if rep is not None else None,
        **_corners(el, ctx),
        **common,
    )


def read_audio_selection(el: Element, ctx: Context) -> AudioSelection:
    _, common = _selection_common(el, ctx)
    return AudioSelection(begin=ctx.req_int(el, "begin"), end=ctx.req_int(el, "end"), **common)


def read_video_selection(el: Element, ctx: Context) -> VideoSelection:
    _, common = _selection_common(el, ctx)
    return VideoSelection(begin=ctx.req_int(el, "begin"), end=ctx.req_int(el, "end"), **common)


def read_transcript_selection(el: Element, ctx: Context) -> TranscriptSelection:
    _, common = _selection_common(el, ctx)
    return TranscriptSelection(
        from_sync_point=ctx.opt_guid(el, "fromSyncPoint"), to_sync_point=ctx.opt_guid(el, "toSyncPoint"), **common
    )


def read_sync_point(el: Element, ctx: Context) -> SyncPoint:
    return SyncPoint(
        guid=ctx.own_guid(el),
        time_stamp=ctx.integer(el, "timeStamp", required=False),
        position=ctx.integer(el, "position", required=False),
        loc=ctx.loc(el),
    )


# --------------------------------------------------------------------------- sources


def _text_doc(el: Element, k: dict[str, list[Element]], ctx: Context) -> dict[str, Any]:
    """Attributes and text shared by TextSourceType and Transcript (REFI §5.3, §8.3)."""
    plain_path = el.get("plainTextPath")
    rich_path = el.get("richTextPath")
    inline = _one(k, "PlainTextContent")
    text: str | None = None
    if inline is not None:
        # Inline text wins; a plainTextPath beside it (forbidden by the XSD comment but
        # schema-valid) is kept verbatim so nothing is lost.
        text = inline.text or ""
    elif plain_path is not None:
        text = ctx.text_file(plain_path, el)
        if text is not None:
            plain_path = None
    rich = ctx.blob(rich_path, el) if rich_path is not None else None
    return {
        "guid": ctx.own_guid(el),
        "name": el.get("name"),
        "description": _desc(k),
        "text": text,
        "text_inline": inline is not None,
        "plain_text_path": plain_path,
        "rich_text": rich,
        "rich_text_path": None if rich is not None else rich_path,
        "note_refs": _refs(k, "NoteRef", ctx),
        "loc": ctx.loc(el),
        **_audit(el, ctx),
    }


def read_text_source(el: Element, ctx: Context) -> TextSource:
    """TextSourceType: TextSource, Note, PDF Representation, Picture TextDescription."""
    k = kids(el)
    return TextSource(
        selections=_many(k, "PlainTextSelection", ctx, read_text_selection),
        codings=_many(k, "Coding", ctx, read_coding),
        variable_values=_many(k, "VariableValue", ctx, read_variable_value),
        **_text_doc(el, k, ctx),
    )


def read_transcript(el: Element, ctx: Context) -> Transcript:
    k = kids(el)
    return Transcript(
        sync_points=_many(k, "SyncPoint", ctx, read_sync_point),
        selections=_many(k, "TranscriptSelection", ctx, read_transcript_selection),
        **_text_doc(el, k, ctx),
    )


def _file_source(el: Element, k: dict[str, list[Element]], ctx: Context) -> dict[str, Any]:
    path = el.get("path")
    blob = ctx.blob(path, el) if path is not None else None
    _path_quirks(path, ctx)
    return {
        "guid": ctx.own_guid(el),
        "name": el.get("name"),
        "description": _desc(k),
        "blob": blob,
        "path": None if blob is not None else path,
        "current_path": el.get("currentPath"),
        "codings": _many(k, "Coding", ctx, read_coding),
        "note_refs": _refs(k, "NoteRef", ctx),
        "variable_values": _many(k, "VariableValue", ctx, read_variable_value),
        "loc": ctx.loc(el),
        **_audit(el, ctx),
    }


def _path_quirks(path: str | None, ctx: Context) -> None:
    if path is None:
        return
    low = path.lower()
    if low.startswith("absolute://") and not low.startswith("absolute:///"):
        ctx.quirk("quirk19:absolute-two-slashes")
    elif low.startswith("relative://"):
        ctx.quirk("quirk10:relative-media")


def read_picture_source(el: Element, ctx: Context) -> PictureSource:
    k = kids(el)
    desc = _one(k, "TextDescription")
    return PictureSource(
        text_description=read_text_source(desc, ctx) if desc is not None else None,
        selections=_many(k, "PictureSelection", ctx, read_picture_selection),
        **_file_source(el, k, ctx),
    )


def read_pdf_source(el: Element, ctx: Context) -> PDFSource:
    k = kids(el)
    rep = _one(k, "Representation")
    return PDFSource(
        selections=_many(k, "PDFSelection", ctx, read_pdf_selection),
        representation=read_text_source(rep, ctx) if rep is not None else None,
        **_file_source(el, k, ctx),
    )


def read_audio_source(el: Element, ctx: Context) -> AudioSource:
    k = kids(el)
    return AudioSource(
        transcripts=_many(k, "Transcript", ctx, read_transcript),
        selections=_many(k, "AudioSelection", ctx, read_audio_selection),
        **_file_source(el, k, ctx),
    )


def read_video_source(el: Element, ctx: Context) -> VideoSource:
    k = kids(el)
    return VideoSource(
        transcripts=_many(k, "Transcript", ctx, read_transcript),
        selections=_many(k, "VideoSelection", ctx, read_video_selection),
        **_file_source(el, k, ctx),
    )


SOURCE_READERS: dict[str, Callable[[Element, Context], Source]] = {
    "TextSource": read_text_source,
    "PictureSource": read_picture_source,
    "PDFSource": read_pdf_source,
    "AudioSource": read_audio_source,
    "VideoSource": read_video_source,
}


def read_sources(el: Element | None, ctx: Context) -> tuple[Source, ...]:
    if el is None:
        return ()
    out: list[Source] = []
    for child in el:
        if not isinstance(child.tag, str):
            continue
        handler = SOURCE_READERS.get(local(child.tag))
        if handler is None:
            ctx.issue("QDX007", f"unknown source element <{local(child.tag)}> ignored", child)
            continue
        out.append(handler(child, ctx))
    return tuple(out)


# --------------------------------------------------------------------------- links, graphs


def read_link(el: Element, ctx: Context) -> Link:
    k = kids(el)
    return Link(
        guid=ctx.own_guid(el),
        name=el.get("name"),
        direction=_enum(el, "direction", Direction, ctx),
        color=el.get("color"),
        origin=ctx.opt_guid(el, "originGUID"),
        target=ctx.opt_guid(el, "targetGUID"),
        note_refs=_refs(k, "NoteRef", ctx),
        loc=ctx.loc(el),
    )


def read_vertex(el: Element, ctx: Context) -> Vertex:
    return Vertex(
        guid=ctx.own_guid(el),
        first_x=ctx.req_int(el, "firstX"),
        first_y=ctx.req_int(el, "firstY"),
        represented=ctx.opt_guid(el, "representedGUID"),
        name=el.get("name"),
        second_x=ctx.integer(el, "secondX", required=False),
        second_y=ctx.integer(el, "secondY", required=False),
        shape=_enum(el, "shape", Shape, ctx),
        color=el.get("color"),
        loc=ctx.loc(el),
    )


def read_edge(el: Element, ctx: Context) -> Edge:
    return Edge(
        guid=ctx.own_guid(el),
        source_vertex=ctx.guid(el, "sourceVertex"),
        target_vertex=ctx.guid(el, "targetVertex"),
        represented=ctx.opt_guid(el, "representedGUID"),
        name=el.get("name"),
        color=el.get("color"),
        direction=_enum(el, "direction", Direction, ctx),
        line_style=_enum(el, "lineStyle", LineStyle, ctx),
        loc=ctx.loc(el),
    )


def read_graph(el: Element, ctx: Context) -> Graph:
    k = kids(el)
    return Graph(
        guid=ctx.own_guid(el),
        name=el.get("name"),
        vertices=_many(k, "Vertex", ctx, read_vertex),
        edges=_many(k, "Edge", ctx, read_edge),
        loc=ctx.loc(el),
    )


# --------------------------------------------------------------------------- roots


def _container(
    k: dict[str, list[Element]], outer: str, inner: str, ctx: Context, fn: Callable[[Element, Context], E]
) -> tuple[E, ...]:
    box = _one(k, outer)
    return () if box is None else _many(kids(box), inner, ctx, fn)


def _namespace(el: Element, expected: str, ctx: Context) -> None:
    ns = el.tag.partition("}")[0].lstrip("{") if el.tag.startswith("{") else ""
    if ns != expected:
        ctx.issue("QDX010", f"namespace {ns!r} instead of {expected!r}; read by local names", el, Severity.INFO)
        if ns.endswith(("codebook:1:0", "codebook:0:4")):
            ctx.quirk(f"quirk7:codebook-ns-{ns.rpartition('codebook:')[2]}")
        else:
            ctx.quirk("quirk25:namespace")


_PROJECT_CHILDREN = frozenset(
    {"Users", "CodeBook", "Variables", "Cases", "Sources", "Notes", "Links", "Sets", "Graphs", "Description", "NoteRef"}
)


def read_project_root(root: Element, ctx: Context) -> Project:
    """The ``Project`` root element -> Project (positions still in producer units)."""
    _namespace(root, PROJECT_NS, ctx)
    k = kids(root)
    _check_children(root, k, _PROJECT_CHILDREN, ctx)
    if root.get("name") is None:
        ctx.issue("QDX006", "<Project> lacks required attribute name", root)
    return Project(
        name=root.get("name") or "",
        origin=root.get("origin"),
        creating_user=ctx.opt_guid(root, "creatingUserGUID"),
        creation_datetime=root.get("creationDateTime"),
        modifying_user=ctx.opt_guid(root, "modifyingUserGUID"),
        modified_datetime=root.get("modifiedDateTime"),
        base_path=root.get("basePath"),
        users=_container(k, "Users", "User", ctx, read_user),
        codes=_codebook_in_project(_one(k, "CodeBook"), ctx),
        variables=_container(k, "Variables", "Variable", ctx, read_variable),
        cases=_container(k, "Cases", "Case", ctx, read_case),
        sources=read_sources(_one(k, "Sources"), ctx),
        notes=_container(k, "Notes", "Note", ctx, read_text_source),
        links=_container(k, "Links", "Link", ctx, read_link),
        sets=read_sets(_one(k, "Sets"), ctx),
        graphs=_container(k, "Graphs", "Graph", ctx, read_graph),
        description=_desc(k),
        note_refs=_refs(k, "NoteRef", ctx),
    )


def _codebook_in_project(el: Element | None, ctx: Context) -> tuple[Code, ...]:
    if el is None:
        return ()
    ns = el.tag.partition("}")[0].lstrip("{") if el.tag.startswith("{") else ""
    if ns != PROJECT_NS:
        # paper_themes pastes a whole .qdc CodeBook into a Project (STANDARD.md §7).
        _namespace(el, PROJECT_NS, ctx)
    codes = _one(kids(el), "Codes")
    return () if codes is None else _many(kids(codes), "Code", ctx, read_code)


def read_codebook_root(root: Element, ctx: Context) -> Project:
    """The ``CodeBook`` root of a ``.qdc`` -> a Project with ``is_codebook=True``."""
    _namespace(root, CODEBOOK_NS, ctx)
    k = kids(root)
    _check_children(root, k, frozenset({"Codes", "Sets"}), ctx)
    codes = _one(k, "Codes")
    return Project(
        origin=root.get("origin"),
        codes=() if codes is None else _many(kids(codes), "Code", ctx, read_code),
        sets=read_sets(_one(k, "Sets"), ctx),
        is_codebook=True,
    )


ROOT_READERS: dict[str, Callable[[Element, Context], Project]] = {
    "Project": read_project_root,
    "CodeBook": read_codebook_root,
}


def read_root(root: Element, ctx: Context, expected: tuple[str, ...]) -> Project:
    """Dispatch on the root's local name.

    Raises:
        ReadError: the root is not one of ``expected``.
    """
    name = local(root.tag) if isinstance(root.tag, str) else ""
    if name not in expected:
        raise ReadError(
            f"root element <{name}> is not {' or '.join(f'<{e}>' for e in expected)}",
            location=f"{ctx.label}:{root.sourceline}",
        )
    return ROOT_READERS[name](root, ctx)
