"""REFI-QDA 1.0 ``project.qde`` / ``.qdc`` XML -> model (Project-mrt2019.xsd, Codebook-mrt2019.xsd).

One handler per element type, dispatched by local name (namespaces are advisory, docs/quirks.md
quirk 25). Text positions are stored here exactly as written (producer units); the caller
(:mod:`qdx.formats.refi.units`) converts them to code points once the unit is known.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any, BinaryIO

from lxml import etree

from qdx.errors import ReadError, Severity
from qdx.formats.refi._context import (
    Context,
    E,
    Element,
    _check_children,
    _desc,
    _enum,
    _many,
    _one,
    _refs,
    kids,
    local,
)
from qdx.formats.refi.sources import (
    SOURCE_READERS,
    _picker,
    read_sources,
    read_text_selections,
    read_text_source,
    read_variable_value,
)
from qdx.model import (
    Case,
    Code,
    Direction,
    Edge,
    Graph,
    Guid,
    LineStyle,
    Link,
    Project,
    Set,
    Shape,
    Source,
    TextSelection,
    TextSource,
    User,
    Variable,
    VariableType,
    Vertex,
)
from qdx.safety import check_no_doctype, check_parsed_no_doctype, xml_parser

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"


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
        raise _syntax_error(exc, label) from exc
    _refuse_doctype(root, label)
    return root


# The first element after the XML declaration, comments and any (refused) DOCTYPE.
_ROOT_RE = re.compile(
    rb"^(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*\?>\s*)?(?:(?:<!--.*?-->|<!DOCTYPE(?:[^\[>]|\[.*?\])*>)\s*)*<(?:[\w.-]+:)?(\w+)[\s/>]",
    re.DOTALL,
)


def root_name(head: bytes) -> str | None:
    """Local name of the document element, read from the first bytes (None if unclear)."""
    found = _ROOT_RE.match(head)
    return found.group(1).decode("ascii") if found else None


# How much of a document is looked at before parsing (root name, DOCTYPE, qdx marker).
HEAD = 1 << 20


def read_head(data: bytes | BinaryIO) -> bytes:
    """The first bytes of a document: enough for :func:`root_name` and the qdx marker.

    A stream is left where it was. A marker comment longer than :data:`HEAD` (its ``lf=``
    list on a project of 10^5 texts) is read to its end so it is never cut short.
    """
    if isinstance(data, bytes):
        head = data[:HEAD]
        if len(data) > HEAD and b"qdx:" in head[:512] and b"-->" not in head:
            head = data[: data.find(b"-->") + 3] if b"-->" in data else data
        return head
    start = data.tell()
    head = data.read(HEAD)
    if b"qdx:" in head[:512]:
        while b"-->" not in head and len(head) % HEAD == 0 and head:
            more = data.read(HEAD)
            if not more:
                break
            head += more
    data.seek(start)
    return head


def read_document(data: bytes | BinaryIO, label: str, ctx: Context, expected: tuple[str, ...]) -> Project:
    """Parse and read a ``.qde``/``.qdc`` document, given as bytes or a seekable stream.

    A ``Project`` is streamed: each source, and each top-level section, is read when its end
    tag arrives and its subtree is then freed, so peak memory is the model plus one source's
    elements rather than the whole lxml tree (nor, for a stream, the document's bytes).
    Other roots are parsed whole.

    Raises:
        UnsafeInputError: the document declares a DTD or entities.
        ReadError: malformed XML (``label:line``) or an unexpected root element.
    """
    head = read_head(data)
    check_no_doctype(head, location=label)
    if root_name(head[:65536]) != "Project":
        whole = data if isinstance(data, bytes) else data.read()
        return read_root(parse_xml(whole, label), ctx, expected)
    try:
        root, parts = _stream(io.BytesIO(data) if isinstance(data, bytes) else data, ctx)
    except etree.XMLSyntaxError as exc:
        raise _syntax_error(exc, label) from exc
    _refuse_doctype(root, label)
    return read_root(root, ctx, expected, parts)


def _stream(source: BinaryIO, ctx: Context) -> tuple[Element, Parts]:
    # collect_ids=False: no ID hash table (REFI has no xml:id; qdx never looks elements up
    # by ID), which halves libxml2's own time on a 10^5-selection project.
    events = etree.iterparse(
        source,
        events=("end",),
        tag=_stream_tags(),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        collect_ids=False,
    )
    streamer = _Streamer(ctx, source)
    selection, end, batch, flush = streamer.selection, streamer.end, streamer.batch, streamer.flush
    for _, el in events:
        # One event per selection (10^5-10^6): the next selection of the source being read
        # joins the batch right here; anything else goes through the streamer's methods.
        parent = el.getparent()
        if parent is streamer.owner and el.tag in _SELECTION_TAGS:
            batch.append(el)
            if len(batch) >= _Streamer.BATCH:
                flush()
        elif parent is streamer.section and el.tag in streamer.item_tags:
            # Likewise the next item of the section being read (10^6 users).
            streamer.item_batch.append(el)
            if len(streamer.item_batch) >= _Streamer.BATCH:
                streamer.flush_items()
        elif el.tag in _SELECTION_TAGS:
            selection(el)
        else:
            end(el)
    root = events.root
    if root is None:  # pragma: no cover - iterparse raises on an empty document first
        raise ReadError("document has no root element")
    streamer.parts["Sources"] = tuple(streamer.sources)
    return root, streamer.parts


_SELECTION_TAGS = frozenset({"PlainTextSelection", f"{{{PROJECT_NS}}}PlainTextSelection"})


class _Streamer:
    """What to do at the end tags that reach Python (the others lxml keeps to itself).

    The ``PlainTextSelection``s of a top-level ``TextSource`` are read in batches of
    :data:`BATCH` as they end and then removed, so the tree never holds more than one batch:
    a source with 10^4 selections would otherwise sit whole in memory (and out of the CPU
    caches) until its end tag, while reading one at a time would pay Python's call overhead
    per selection. The order of reading, hence of issues, is the whole-tree reader's: a
    source's selections first, then its other children and attributes (``read_text_source``).
    """

    BATCH = 512

    def __init__(self, ctx: Context, stream: BinaryIO) -> None:
        self.ctx = ctx
        self.stream = stream
        self.parts: Parts = {}
        self.sources: list[Source] = []
        self.owner: Element | None = None  # the TextSource the pending selections belong to
        self.pending: list[TextSelection] = []
        self.batch: list[Element] = []  # ended selections of ``owner`` not read yet
        self.items: dict[str, list[Any]] = {}  # section -> items read as they ended (_ITEMS)
        # The top-level section (Users, Variables, Cases, Links) whose items are batched like
        # selections, the exact tags of its items, and its items ended but not read yet.
        self.section: Element | None = None
        self.item_tags: frozenset[str] = frozenset()
        self.item_batch: list[Element] = []
        self.item_name = ""

    def end(self, el: Element) -> None:
        name = local(el.tag)
        if name == "PlainTextSelection":
            self.selection(el)
        elif name in SOURCE_READERS:
            parent = el.getparent()
            if parent is not None and _is_sources(parent):
                self.source(el, name)
        elif name in _ITEMS:
            self.item(el, name)
        elif name in SECTIONS and name != "Sources" and _depth(el) == 1:
            if el is self.section:
                self.flush_items()
                self.section, self.item_tags = None, frozenset()
            if name in self.items:  # its items were read one by one; nothing else counts
                self.parts[name] = tuple(self.items.pop(name))
            else:
                self.parts[name] = SECTIONS[name][1](el, self.ctx)
            _free(el, siblings=False)

    def selection(self, el: Element) -> None:
        parent = el.getparent()
        if parent is None or (parent is not self.owner and not self.adopt(parent)):
            return  # a note's or a representation's: read with its owner
        self.batch.append(el)
        if len(self.batch) >= self.BATCH:
            self.flush()

    def flush(self) -> None:
        """Read the batched selections and take them out of the tree."""
        owner, batch = self.owner, self.batch
        if owner is None or not batch:
            return
        self.pending.extend(read_text_selections(batch, self.ctx))
        # Removing an element that still has a Python proxy makes lxml move it into a
        # document of its own (a walk of its subtree); one without is simply freed. So the
        # proxies are dropped first and the run of selections deleted by position (a third
        # of the streaming overhead on 10^5 selections).
        first, last = owner.index(batch[0]), owner.index(batch[-1])
        for el in batch:
            # A selection with more children than its Coding (unknown elements, notes) is
            # emptied first: lxml moves a removed subtree into a document of its own, and
            # during iterparse that took time quadratic in the children (4 MB of unknown
            # children in one selection: > 30 s); clear() frees them in linear time.
            if len(el) > 1:
                el.clear()
        if last - first + 1 == len(batch):  # the usual case: nothing else between them
            batch.clear()
            del owner[first : last + 1]
            return
        for el in batch:  # comments or stray elements in between: they stay
            owner.remove(el)
        batch.clear()

    def item(self, el: Element, name: str) -> None:
        """A User, Variable, Case or Link: batched if it is an item of its top-level section.

        Read as they end, in batches, and freed: a section of 10^6 users sat whole in the tree
        (1.2 GB for a 70 MB file) until its end tag, and one call per user took ~30 s.
        """
        parent = el.getparent()
        section = _ITEMS[name]
        if parent is None or local(parent.tag) != section[0] or _depth(parent) != 1:
            return
        if parent is not self.section:
            self.flush_items()
            # Only the first item's own spelling is batched by _stream; one in another
            # namespace (or none) comes back here and is read in order.
            self.section, self.item_name, self.item_tags = parent, name, frozenset({el.tag})
        if el.tag not in self.item_tags:
            self.flush_items()
            self.items.setdefault(section[0], []).append(section[1](el, self.ctx))
            _free(el, siblings=True)
            return
        self.item_batch.append(el)
        if len(self.item_batch) >= self.BATCH:
            self.flush_items()

    def flush_items(self) -> None:
        """Read the batched items of ``section`` and take them (and what precedes them) out
        of the tree, as :func:`_free` does for one."""
        section, batch = self.section, self.item_batch
        if section is None or not batch:
            return
        found = _ITEM_BATCH[self.item_name](batch, self.ctx)
        self.items.setdefault(_ITEMS[self.item_name][0], []).extend(found)
        last = section.index(batch[-1])
        for el in batch:
            if len(el):  # children (unknown elements) are freed in linear time; see flush()
                el.clear()
        batch.clear()
        del section[: last + 1]

    def adopt(self, parent: Element) -> bool:
        """Is ``parent`` a top-level TextSource? If so it owns the selections from now on."""
        grand = parent.getparent()
        if local(parent.tag) != "TextSource" or grand is None or not _is_sources(grand):
            return False
        self.flush()  # a previous owner whose end tag never came (cannot happen in well-formed XML)
        self.owner, self.pending = parent, []
        return True

    def source(self, el: Element, name: str) -> None:
        if el is self.owner:
            self.flush()
        found = SOURCE_READERS[name](el, self.ctx)
        if el is self.owner and isinstance(found, TextSource):
            found.selections = (*self.pending, *found.selections)
        self.owner, self.pending = None, []
        self.batch.clear()
        self.sources.append(found)
        _free(el, siblings=True)
        if self.ctx.advance_to is not None:
            self.ctx.advance_to(self.stream.tell())


def _is_sources(el: Element) -> bool:
    """``el`` is the project's ``Sources`` element (a child of the root)."""
    parent = el.getparent()
    return local(el.tag) == "Sources" and parent is not None and parent.getparent() is None


def _stream_tags() -> list[str]:
    names = (*SOURCE_READERS, *SECTIONS, *_ITEMS, "PlainTextSelection")
    # "{*}x" matches x in any namespace and in none.
    return [f"{{*}}{name}" for name in names]


def _depth(el: Element) -> int:
    depth = 0
    parent = el.getparent()
    while parent is not None and depth < 3:
        depth += 1
        parent = parent.getparent()
    return depth


def _free(el: Element, *, siblings: bool) -> None:
    el.clear()
    if siblings:
        parent = el.getparent()
        while parent is not None and el.getprevious() is not None:
            del parent[0]


def _syntax_error(exc: etree.XMLSyntaxError, label: str) -> ReadError:
    line = exc.lineno or (exc.position[0] if exc.position else 0)
    return ReadError(f"malformed XML: {exc.msg}", location=f"{label}:{line}")


def _refuse_doctype(root: Element, label: str) -> None:
    check_parsed_no_doctype(root.getroottree(), location=label)


# --------------------------------------------------------------------------- users, codes, sets


# Attributes each record's schema type defines (schemas/project.xsd, codebook.xsd); anything
# else is reported as not carried over (Context.attributes_outside). A Code's "description"
# attribute is not in the schema either, but is read as its Description (_code_description).
USER_ATTRS = frozenset({"guid", "name", "id"})
CODE_ATTRS = frozenset({"guid", "name", "isCodable", "color", "description"})
SET_ATTRS = frozenset({"guid", "name"})
VARIABLE_ATTRS = frozenset({"guid", "name", "typeOfVariable"})
CASE_ATTRS = frozenset({"guid", "name"})
LINK_ATTRS = frozenset({"guid", "name", "direction", "color", "originGUID", "targetGUID"})
PROJECT_ATTRS = frozenset(
    {"name", "origin", "creatingUserGUID", "creationDateTime", "modifyingUserGUID", "modifiedDateTime", "basePath"}
)
CODEBOOK_ATTRS = frozenset({"origin"})


def read_user(el: Element, ctx: Context) -> User:
    """``User``: guid, name, id."""
    ctx.attributes_outside(el, USER_ATTRS)
    return User(guid=ctx.own_guid(el), name=el.get("name"), id=el.get("id"), loc=ctx.loc(el))


_USER_FIELDS = ("guid", "name", "id")


def read_users(els: Sequence[Element], ctx: Context) -> list[User]:
    """``User`` elements -> records, in order: :func:`read_user` for a batch.

    A project may list 10^6 users (30 s through one call per user); the usual shape -- only
    schema attributes, a plain GUID, no children -- is read here the way
    :func:`~qdx.formats.refi.sources.read_text_selections` reads selections: one ``keys()``
    and one ``values()`` call per element, picked by a layout recomputed only when the
    attribute names change, and the record filled slot by slot. Anything else goes to
    :func:`read_user`, which reports what it finds (nothing is checked twice: the checks here
    have no side effect).
    """
    label, owned, owned_at = ctx.label, ctx.owned, ctx.owned_at
    new_user = User.__new__
    out: list[User] = []
    append = out.append
    layout: Sequence[Any] = ()  # keys() is a list, never equal to (): the first sets the layout
    plain = False
    pick: Callable[[list[str | None]], tuple[str | None, ...]] = itemgetter(-1)
    for el in els:
        keys = el.keys()
        if keys != layout:
            layout, pick = keys, _picker(keys, _USER_FIELDS)
            plain = all(isinstance(k, str) and k in USER_ATTRS for k in keys)
        values: list[str | None] = el.values()  # type: ignore[assignment]
        values.append(None)
        guid, name, id_ = pick(values)
        if not (plain and guid and guid[0].isalnum() and guid[-1].isalnum()):
            append(read_user(el, ctx))
            continue
        loc = f"{label}:{el.sourceline}"
        value = Guid(guid)
        owned.append(value)
        owned_at.append(loc)
        user = new_user(User)
        user.guid = value
        user.name = name
        user.id = id_
        user.loc = loc
        append(user)
    return out


def read_code(el: Element, ctx: Context) -> Code:
    """``Code`` (REFI §3.2, §11); nested ``Code`` children are the hierarchy."""
    k = kids(el)
    ctx.attributes_outside(el, CODE_ATTRS)
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
        description=_code_description(el, k, ctx),
        note_refs=_refs(k, "NoteRef", ctx),
        children=_many(k, "Code", ctx, read_code),
        loc=ctx.loc(el),
    )


def _code_description(el: Element, k: dict[str, list[Element]], ctx: Context) -> str | None:
    """``<Description>``; some producers put the definition in a ``description`` attribute,
    which the schema does not define (CodeType has guid, name, isCodable, color only). That
    attribute may be the only copy of a definition, so it becomes the Description when the
    element is absent; when both are there, the attribute is reported as not carried over."""
    element = _desc(k)
    attribute = el.get("description")
    if attribute is None:
        return element
    if element is None:
        ctx.issue("QDX014", "non-standard description attribute of <Code> read as its <Description>", el, Severity.INFO)
        return attribute
    if attribute.strip() != element.strip():
        message = "non-standard description attribute of <Code> differs from its <Description>; not carried over"
        ctx.issue("QDX014", message, el)
    return element


def read_set(el: Element, ctx: Context) -> Set:
    """``Set``: members are codes, sources and notes (project) or codes by @guid (.qdc)."""
    k = kids(el)
    ctx.attributes_outside(el, SET_ATTRS)
    # In a .qdc MemberCode points with @guid, in a project with @targetGUID (docs/quirks.md §3).
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
    """``Sets``; an empty ``<Sets/>`` (Taguette, quirk 20) gives no sets."""
    if el is None:
        return ()
    found = _many(kids(el), "Set", ctx, read_set)
    if not found:
        ctx.quirk("quirk20:empty-sets")
    return found


# --------------------------------------------------------------------------- variables, cases


def read_variable(el: Element, ctx: Context) -> Variable:
    """``Variable`` (REFI §3.6) with its ``typeOfVariable``."""
    k = kids(el)
    ctx.attributes_outside(el, VARIABLE_ATTRS)
    vtype = _enum(el, "typeOfVariable", VariableType, ctx) or VariableType.TEXT
    return Variable(
        guid=ctx.own_guid(el), name=el.get("name") or "", type=vtype, description=_desc(k), loc=ctx.loc(el)
    )


def read_case(el: Element, ctx: Context) -> Case:
    """``Case``: code, source and selection references and variable values."""
    k = kids(el)
    ctx.attributes_outside(el, CASE_ATTRS)
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


# --------------------------------------------------------------------------- links, graphs


def read_link(el: Element, ctx: Context) -> Link:
    """``Link`` between any two GUID-bearing objects."""
    k = kids(el)
    ctx.attributes_outside(el, LINK_ATTRS)
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
    """``Vertex`` of a graph."""
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
    """``Edge`` of a graph."""
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
    """``Graph`` with its vertices and edges."""
    k = kids(el)
    return Graph(
        guid=ctx.own_guid(el),
        name=el.get("name"),
        vertices=_many(k, "Vertex", ctx, read_vertex),
        edges=_many(k, "Edge", ctx, read_edge),
        loc=ctx.loc(el),
    )


# --------------------------------------------------------------------------- roots


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
Parts = dict[str, tuple[Any, ...]]


def _inner(inner: str, fn: Callable[[Element, Context], E]) -> Callable[[Element, Context], tuple[E, ...]]:
    def read(el: Element, ctx: Context) -> tuple[E, ...]:
        return _many(kids(el), inner, ctx, fn)

    return read


# Items of a top-level section that are read one by one as they end while streaming (the
# section's reader is then only ``_inner(item, reader)``: nothing else in it is read).
_ITEMS: dict[str, tuple[str, Callable[[Element, Context], Any]]] = {
    "User": ("Users", read_user),
    "Variable": ("Variables", read_variable),
    "Case": ("Cases", read_case),
    "Link": ("Links", read_link),
}


def _one_by_one(read: Callable[[Element, Context], E]) -> Callable[[Sequence[Element], Context], list[E]]:
    return lambda els, ctx: [read(el, ctx) for el in els]


# How a batch of each kind of item is read (the streamer reads items in batches).
_ITEM_BATCH: dict[str, Callable[[Sequence[Element], Context], list[Any]]] = {
    "User": read_users,
    "Variable": _one_by_one(read_variable),
    "Case": _one_by_one(read_case),
    "Link": _one_by_one(read_link),
}


def _codebook_in_project(el: Element, ctx: Context) -> tuple[Code, ...]:
    ns = el.tag.partition("}")[0].lstrip("{") if el.tag.startswith("{") else ""
    if ns != PROJECT_NS:
        # paper_themes pastes a whole .qdc CodeBook into a Project (docs/quirks.md §7).
        _namespace(el, PROJECT_NS, ctx)
    codes = _one(kids(el), "Codes")
    return () if codes is None else _many(kids(codes), "Code", ctx, read_code)


def _sets(el: Element, ctx: Context) -> tuple[Set, ...]:
    return read_sets(el, ctx)


def _sources(el: Element, ctx: Context) -> tuple[Source, ...]:
    return read_sources(el, ctx)


# Project child element -> (Project field, reader of the whole section), in schema order.
SECTIONS: dict[str, tuple[str, Callable[[Element, Context], tuple[Any, ...]]]] = {
    "Users": ("users", _inner("User", read_user)),
    "CodeBook": ("codes", _codebook_in_project),
    "Variables": ("variables", _inner("Variable", read_variable)),
    "Cases": ("cases", _inner("Case", read_case)),
    "Sources": ("sources", _sources),
    "Notes": ("notes", _inner("Note", read_text_source)),
    "Links": ("links", _inner("Link", read_link)),
    "Sets": ("sets", _sets),
    "Graphs": ("graphs", _inner("Graph", read_graph)),
}


def read_project_root(root: Element, ctx: Context, parts: Parts | None = None) -> Project:
    """The ``Project`` root element -> Project (positions still in producer units).

    ``parts`` holds sections already read while streaming (their elements were cleared).
    """
    _namespace(root, PROJECT_NS, ctx)
    k = kids(root)
    _check_children(root, k, _PROJECT_CHILDREN, ctx)
    if root.get("name") is None:
        ctx.issue("QDX006", "<Project> lacks required attribute name", root)
    ctx.attributes_outside(root, PROJECT_ATTRS)
    done = parts or {}
    fields: dict[str, Any] = {}
    for name, (field, reader) in SECTIONS.items():
        el = _one(k, name)
        fields[field] = done[name] if name in done else (reader(el, ctx) if el is not None else ())
    return Project(
        name=root.get("name") or "",
        origin=root.get("origin"),
        creating_user=ctx.opt_guid(root, "creatingUserGUID"),
        creation_datetime=root.get("creationDateTime"),
        modifying_user=ctx.opt_guid(root, "modifyingUserGUID"),
        modified_datetime=root.get("modifiedDateTime"),
        base_path=root.get("basePath"),
        description=_desc(k),
        note_refs=_refs(k, "NoteRef", ctx),
        **fields,
    )


def read_codebook_root(root: Element, ctx: Context) -> Project:
    """The ``CodeBook`` root of a ``.qdc`` -> a Project with ``is_codebook=True``."""
    _namespace(root, CODEBOOK_NS, ctx)
    k = kids(root)
    _check_children(root, k, frozenset({"Codes", "Sets"}), ctx)
    ctx.attributes_outside(root, CODEBOOK_ATTRS)
    codes = _one(k, "Codes")
    return Project(
        origin=root.get("origin"),
        codes=() if codes is None else _many(kids(codes), "Code", ctx, read_code),
        sets=read_sets(_one(k, "Sets"), ctx),
        is_codebook=True,
    )


def _codebook_root(root: Element, ctx: Context, parts: Parts | None = None) -> Project:
    return read_codebook_root(root, ctx)


ROOT_READERS: dict[str, Callable[[Element, Context, Parts | None], Project]] = {
    "Project": read_project_root,
    "CodeBook": _codebook_root,
}


def read_root(root: Element, ctx: Context, expected: tuple[str, ...], parts: Parts | None = None) -> Project:
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
    project = ROOT_READERS[name](root, ctx, parts)
    ctx.check_duplicates()
    ctx.report_outside()
    return project
