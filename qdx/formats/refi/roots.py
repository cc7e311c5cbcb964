"""The ``Project`` and ``CodeBook`` roots -> model: their namespaces, the readers of each
top-level section, and the dispatch on the root element.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from qdx.errors import ReadError, Severity
from qdx.formats.refi._context import Context, E, Element, _check_children, _desc, _many, _one, _refs, kids, local
from qdx.formats.refi.records import (
    CODEBOOK_ATTRS,
    PROJECT_ATTRS,
    read_case,
    read_code,
    read_graph,
    read_link,
    read_sets,
    read_user,
    read_users,
    read_variable,
)
from qdx.formats.refi.sources import read_sources, read_text_source
from qdx.model import Code, Project, Set, Source

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"


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

