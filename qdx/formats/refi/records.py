"""REFI-QDA 1.0 users, codes, sets, variables, cases, links and graphs -> model (REFI §3).

One handler per element type, dispatched by local name (namespaces are advisory, docs/quirks.md
quirk 25).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

from qdx.errors import Severity
from qdx.formats.refi._context import Context, Element, _desc, _enum, _many, _refs, kids
from qdx.formats.refi.selections import _picker, read_variable_value
from qdx.model import (
    Case,
    Code,
    Direction,
    Edge,
    Graph,
    Guid,
    LineStyle,
    Link,
    Set,
    Shape,
    User,
    Variable,
    VariableType,
    Vertex,
)

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
    :func:`~qdx.formats.refi.selections.read_text_selections` reads selections: one ``keys()``
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
