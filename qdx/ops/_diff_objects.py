"""The parts of :func:`qdx.ops.diff.diff` that compare objects: the project's own fields,
codes, sources, and the records (users, notes, variables, cases, sets, links, graphs).

Codings are compared in :mod:`qdx.ops._diff_codings`.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TypeVar

from qdx.model import Case, Code, Graph, Guid, Link, ProjectIndex, Set, Source, TextSource, VariableValue, iter_codes
from qdx.ops._diff_base import AREAS, DIFF_CONTEXT_LINES, DIFF_MAX_LINES, Change, DiffContext, Json
from qdx.ops.pairing import Matching, colour, content_hash, match_named, own_key
from qdx.textmap import TextMap

T = TypeVar("T")

# --------------------------------------------------------------------------- project


def _path(path: tuple[str, ...]) -> list[str]:
    return list(path)


def diff_project(ctx: DiffContext) -> None:
    pa, pb = ctx.a.project, ctx.b.project
    for name in ("name", "origin", "description", "is_codebook"):
        before, after = getattr(pa, name), getattr(pb, name)
        if name == "description" and not before and not after:
            continue  # an empty description is no description (NVivo for Windows writes it, Mac omits it)
        if before != after:
            ctx.changes.append(Change("project", "changed", (("field", name),), before, after))


# --------------------------------------------------------------------------- codes

_CODE_FIELDS: tuple[tuple[str, str], ...] = (
    ("name", "renamed"),
    ("color", "recoloured"),
    ("description", "redescribed"),
    ("is_codable", "codable-changed"),
)


def diff_codes(ctx: DiffContext) -> None:
    a_to_b = ctx.codes.a_to_b
    for code, ancestors in iter_codes(ctx.a.project.codes):
        key_b = a_to_b.get(code.guid.key)
        ident: tuple[tuple[str, Json], ...] = (("code", code.name), ("path", [*(x.name for x in ancestors), code.name]))
        if key_b is None:
            ctx.changes.append(Change("codes", "removed", (*ident, ("guid", str(code.guid))), before=ident[1][1]))
            continue
        other = ctx.b.codes[Guid(key_b)]
        how = ctx.codes.how[key_b]
        full = (*ident, ("guid", str(code.guid)), ("match", how))
        if key_b in ctx.codes.scores:
            full = (*full, ("similarity", ctx.codes.scores[key_b]))
        ctx.changes.extend(_code_pair_changes(ctx, code, other, full, how))
    for code, ancestors in iter_codes(ctx.b.project.codes):
        if code.guid.key not in ctx.codes.b_to_a:
            path = [*(x.name for x in ancestors), code.name]
            ident = (("code", code.name), ("path", path), ("guid", str(code.guid)))
            ctx.changes.append(Change("codes", "added", ident, after=path))


def _code_pair_changes(
    ctx: DiffContext, code: Code, other: Code, ident: tuple[tuple[str, Json], ...], how: str
) -> Iterator[Change]:
    if how != "guid":
        yield Change("codes", "guid-changed", ident, str(code.guid), str(other.guid))
    for name, kind in _CODE_FIELDS:
        before, after = getattr(code, name), getattr(other, name)
        if name == "color":
            before, after = colour(before), colour(after)
        if before != after:
            yield Change("codes", kind, ident, getattr(code, name), getattr(other, name))
    parent_a = ctx.a.parents[code.guid]
    parent_b = ctx.b.parents[other.guid]
    key_a = parent_a.guid.key if parent_a is not None else None
    key_b = ctx.code_in_a(parent_b.guid) if parent_b is not None else None
    if key_a != key_b:
        before = _path(ctx.a.code_path(parent_a)) if parent_a is not None else []
        after = _path(ctx.b.code_path(parent_b)) if parent_b is not None else []
        yield Change("codes", "moved", ident, before, after)
    notes_a = sorted(n.key for n in code.note_refs)
    notes_b = sorted(ctx.notes.b_to_a.get(n.key, "b:" + n.key) for n in other.note_refs)
    if notes_a != notes_b:
        yield Change("codes", "notes-changed", ident, notes_a, notes_b)



# --------------------------------------------------------------------------- sources


def text_diff(before: str, after: str, *, context: int = DIFF_CONTEXT_LINES, limit: int = DIFF_MAX_LINES) -> str:
    """A short unified diff of two texts (at most ``limit`` lines; a marker says when cut)."""
    lines = list(
        difflib.unified_diff(before.splitlines(), after.splitlines(), "before", "after", n=context, lineterm="")
    )
    if len(lines) > limit:
        lines = [*lines[:limit], f"... ({len(lines) - limit} more diff lines)"]
    return "\n".join(lines)


def diff_sources(ctx: DiffContext) -> None:
    a_to_b = ctx.sources.a_to_b
    for source in ctx.a.project.sources:
        ident: tuple[tuple[str, Json], ...] = (("source", source.name), ("guid", str(source.guid)))
        key_b = a_to_b.get(source.guid.key)
        if key_b is None:
            ctx.changes.append(Change("sources", "removed", ident, before=source.name))
            continue
        other = ctx.b.sources[Guid(key_b)]
        ident = (*ident, ("match", ctx.sources.how[key_b]))
        ctx.changes.extend(_source_pair_changes(ctx, source, other, ident))
    for source in ctx.b.project.sources:
        if source.guid.key not in ctx.sources.b_to_a:
            ident = (("source", source.name), ("guid", str(source.guid)))
            ctx.changes.append(Change("sources", "added", ident, after=source.name))


def _source_pair_changes(
    ctx: DiffContext, source: Source, other: Source, ident: tuple[tuple[str, Json], ...]
) -> Iterator[Change]:
    if source.guid.key != other.guid.key:
        yield Change("sources", "guid-changed", ident, str(source.guid), str(other.guid))
    if type(source) is not type(other):
        yield Change("sources", "type-changed", ident, type(source).__name__, type(other).__name__)
        return
    if source.name != other.name:
        yield Change("sources", "renamed", ident, source.name, other.name)
    if (source.description or None) != (other.description or None):  # empty = absent (REFI §3.8)
        yield Change("sources", "redescribed", ident, source.description, other.description)
    if isinstance(source, TextSource) and isinstance(other, TextSource):
        if source.text != other.text:
            yield _text_change(source.text, other.text, ident)
    elif content_hash(source) != content_hash(other):
        yield Change("sources", "content-changed", ident, content_hash(source), content_hash(other))
    values_a = _values(ctx.a, source.variable_values, None)
    values_b = _values(ctx.b, other.variable_values, ctx)
    if values_a != values_b:
        yield Change("sources", "variables-changed", ident, values_a, values_b)


def _text_change(before: str | None, after: str | None, ident: tuple[tuple[str, Json], ...]) -> Change:
    """``representation-changed`` when the texts differ only in line endings, a BOM or trailing
    whitespace (:mod:`qdx.textmap`; codings are then compared through the position map), else
    ``text-changed`` with a short unified diff."""
    if before is not None and after is not None and TextMap(before, after).same_text:
        return Change("sources", "representation-changed", ident, _representation(before), _representation(after))
    ident = (*ident, ("diff", text_diff(before or "", after or "")))
    return Change("sources", "text-changed", ident, _size(before), _size(after))


def _representation(text: str) -> dict[str, Json]:
    crlf = text.count("\r\n")
    lone_lf = text.count("\n") - crlf
    endings = "CRLF" if crlf and not lone_lf else "LF" if lone_lf and not crlf else "mixed" if crlf else "none"
    tail = len(text) - len(text.rstrip())
    return {"chars": len(text), "line_endings": endings, "bom": text.startswith("\ufeff"), "trailing_ws": tail}


def _size(text: str | None) -> dict[str, int] | None:
    return None if text is None else {"chars": len(text), "lines": text.count("\n") + 1}


def _values(index: ProjectIndex, values: Iterable[VariableValue], ctx: DiffContext | None) -> dict[str, str | None]:
    """Variable values keyed by variable name (in A's naming when ``ctx`` maps B to A)."""
    out: dict[str, str | None] = {}
    for value in values:
        variable = value.variable
        if ctx is not None and variable.key in ctx.variables.b_to_a:
            var = ctx.a.variables.get(Guid(ctx.variables.b_to_a[variable.key]))
        else:
            var = index.variables.get(variable)
        out[var.name if var is not None else str(variable)] = value.value
    return dict(sorted(out.items()))


# --------------------------------------------------------------------------- notes, cases, ...


def _diff_records(
    ctx: DiffContext,
    area: str,
    a: Sequence[T],
    b: Sequence[T],
    matching: Matching,
    label: Callable[[T], Json],
    fields: Callable[[T, bool], dict[str, Json]],
) -> None:
    """Added, removed and per-field ``changed`` for paired records (``fields(x, is_b)``)."""
    by_b = {str(own_key(x)): x for x in b}
    a_to_b = matching.a_to_b
    for item in a:
        key = str(own_key(item))
        ident: tuple[tuple[str, Json], ...] = (("name", label(item)), ("guid", _guid_str(item)))
        if key not in a_to_b:
            ctx.changes.append(Change(area, "removed", ident, before=label(item)))
            continue
        other = by_b[a_to_b[key]]
        ident = (*ident, ("match", matching.how[a_to_b[key]]))
        if matching.how[a_to_b[key]] != "guid":
            ctx.changes.append(Change(area, "guid-changed", ident, key, a_to_b[key]))
        before, after = fields(item, False), fields(other, True)
        for name in before:
            if before[name] != after[name]:
                ctx.changes.append(Change(area, "changed", (*ident, ("field", name)), before[name], after[name]))
    for item in b:
        if str(own_key(item)) not in matching.b_to_a:
            ident = (("name", label(item)), ("guid", _guid_str(item)))
            ctx.changes.append(Change(area, "added", ident, after=label(item)))


def _guid_str(item: object) -> str:
    return str(getattr(item, "guid", ""))


def _names(ctx: DiffContext, refs: Iterable[Guid], kind: str, is_b: bool) -> list[str]:
    """Sorted display names of references, read in A's terms for B (so equal sets compare equal)."""
    matching = {"code": ctx.codes, "source": ctx.sources, "note": ctx.notes}[kind]
    out: list[str] = []
    for ref in refs:
        if is_b and ref.key in matching.b_to_a:
            out.append(_ref_name(ctx.a, Guid(matching.b_to_a[ref.key]), kind))
        else:
            out.append(_ref_name(ctx.b if is_b else ctx.a, ref, kind))
    return sorted(out)


def _ref_name(index: ProjectIndex, guid: Guid, kind: str) -> str:
    if kind == "code" and guid in index.codes:
        return " > ".join(index.code_path(guid))
    if kind == "source" and guid in index.sources:
        return index.sources[guid].name or guid.key
    if kind == "note" and guid in index.notes:
        return index.notes[guid].name or guid.key
    return guid.key


def diff_others(ctx: DiffContext) -> None:
    pa, pb = ctx.a.project, ctx.b.project
    _diff_records(ctx, "users", pa.users, pb.users, ctx.users, lambda u: u.name, lambda u, _: {"name": u.name})
    _diff_records(
        ctx,
        "notes",
        pa.notes,
        pb.notes,
        ctx.notes,
        lambda n: n.name,
        lambda n, _: {"name": n.name, "description": n.description, "text": n.text},
    )
    _diff_records(
        ctx,
        "variables",
        pa.variables,
        pb.variables,
        ctx.variables,
        lambda v: v.name,
        lambda v, _: {"name": v.name, "type": v.type.value, "description": v.description},
    )
    cases = match_named(pa.cases, pb.cases, lambda c: c.name)
    _diff_records(ctx, "cases", pa.cases, pb.cases, cases, lambda c: c.name, lambda c, is_b: _case_fields(ctx, c, is_b))
    sets = match_named(pa.sets, pb.sets, lambda s: s.name)
    _diff_records(ctx, "sets", pa.sets, pb.sets, sets, lambda s: s.name, lambda s, is_b: _set_fields(ctx, s, is_b))
    links = match_named(pa.links, pb.links, lambda _: None)
    _diff_records(ctx, "links", pa.links, pb.links, links, lambda x: x.name, lambda x, is_b: _link_fields(ctx, x, is_b))
    graphs = match_named(pa.graphs, pb.graphs, lambda _: None)
    _diff_records(
        ctx, "graphs", pa.graphs, pb.graphs, graphs, lambda g: g.name, lambda g, is_b: _graph_fields(ctx, g, is_b)
    )
    ctx.changes.sort(key=lambda c: AREAS.index(c.area) if c.area in AREAS else len(AREAS))


def _case_fields(ctx: DiffContext, case: Case, is_b: bool) -> dict[str, Json]:
    index = ctx.b if is_b else ctx.a
    return {
        "name": case.name,
        "description": case.description,
        "codes": _names(ctx, case.code_refs, "code", is_b),
        "sources": _names(ctx, case.source_refs, "source", is_b),
        "selections": sorted(g.key for g in case.selection_refs),
        "variables": _values(index, case.variable_values, ctx if is_b else None),
    }


def _set_fields(ctx: DiffContext, item: Set, is_b: bool) -> dict[str, Json]:
    return {
        "name": item.name,
        "description": item.description,
        "codes": _names(ctx, item.member_codes, "code", is_b),
        "sources": _names(ctx, item.member_sources, "source", is_b),
        "notes": _names(ctx, item.member_notes, "note", is_b),
    }


def _any_name(ctx: DiffContext, guid: Guid | None, is_b: bool) -> str | None:
    """What a link end or graph vertex stands for, named in A's terms when paired."""
    if guid is None:
        return None
    for kind in ("code", "source", "note"):
        name = _names(ctx, (guid,), kind, is_b)[0]
        if name != guid.key:
            return f"{kind} {name}"
    return guid.key


def _link_fields(ctx: DiffContext, link: Link, is_b: bool) -> dict[str, Json]:
    return {
        "name": link.name,
        "direction": link.direction.value if link.direction else None,
        "color": colour(link.color),
        "origin": _any_name(ctx, link.origin, is_b),
        "target": _any_name(ctx, link.target, is_b),
    }


def _graph_fields(ctx: DiffContext, graph: Graph, is_b: bool) -> dict[str, Json]:
    vertices = [
        [
            v.guid.key,
            v.name,
            _any_name(ctx, v.represented, is_b),
            v.first_x,
            v.first_y,
            v.second_x,
            v.second_y,
            v.shape.value if v.shape else None,
            colour(v.color),
        ]
        for v in graph.vertices
    ]
    edges = [
        [
            e.guid.key,
            e.name,
            e.source_vertex.key,
            e.target_vertex.key,
            _any_name(ctx, e.represented, is_b),
            colour(e.color),
            e.direction.value if e.direction else None,
            e.line_style.value if e.line_style else None,
        ]
        for e in graph.edges
    ]
    return {"name": graph.name, "vertices": vertices, "edges": edges}
