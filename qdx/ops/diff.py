"""What changed between two projects or codebooks: codebook, sources, codings and the rest.

Objects are paired across the two inputs before they are compared, because GUIDs are not
stable across tools (ATLAS.ti re-mints them on every export, docs/quirks.md §6):

* codes by GUID, then by full path, then by a name unique on both sides;
* sources by GUID, then by identical content (SHA-256 of the text or embedded file), then name;
* users, variables, cases and sets by GUID, then name; notes by GUID, then identical text.

Every change of an object paired by something other than its GUID says so (``match``), and
such a pair also yields a ``guid-changed`` change, so ``diff(a, b) == ()`` exactly when the
two inputs hold the same things under the same identities.

Codings are compared per (source, code): a coding is identified by its selection range and
coder (REFI §3.13: one code per Coding; the range is the selection's). Equal ones cancel; of
the rest, same-coder codings whose ranges overlap are paired by a sweep over the ranges sorted
by start (``boundary-changed``); what is left is ``added`` or ``removed``. Everything is
O(n log n) in the number of selections.

When the two copies of a text differ, B's codings are compared in A's positions through
:mod:`qdx.textmap`: copies that differ only in line endings, a BOM or trailing whitespace map
exactly (the source is ``representation-changed``, its codings unchanged); an edited text is
aligned, and a coding is ``moved`` (same passage, new place), ``lost`` (its passage is gone) or
``passage-edited`` (paired with B's coding over the edited passage). Codings on the same
passage that differ only in coder are counted once per coder pair (``codings-reattributed``).
"""

from __future__ import annotations

import difflib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, TypeVar

from qdx.model import (
    AudioSource,
    Case,
    Code,
    Graph,
    Guid,
    Link,
    PDFSource,
    PictureSource,
    Project,
    ProjectIndex,
    Selection,
    Set,
    Source,
    TextDoc,
    TextSelection,
    TextSource,
    VariableValue,
    VideoSource,
    iter_codes,
)
from qdx.ops.pairing import (
    Matching,
    content_hash,
    match_named,
    match_sources,
    own_key,
    selection_range,
)
from qdx.ops.renames import DEFAULT_SIMILARITY, code_matching
from qdx.options import MatchLevel
from qdx.textmap import TextMap, carry_selection

AREAS = (
    "project",
    "codes",
    "sources",
    "codings",
    "notes",
    "cases",
    "variables",
    "sets",
    "users",
    "links",
    "graphs",
)
DIFF_CONTEXT_LINES = 1
DIFF_MAX_LINES = 40

T = TypeVar("T")
U = TypeVar("U")
Json = object


@dataclass(frozen=True, slots=True)
class Change:
    """One difference. ``ident`` holds the identifying fields (ordered name/value pairs)."""

    area: str
    kind: str
    ident: tuple[tuple[str, Json], ...]
    before: Json = None
    after: Json = None

    def get(self, name: str) -> Json:
        """The identifying field ``name`` (None when absent)."""
        return next((value for key, value in self.ident if key == name), None)

    def as_dict(self) -> dict[str, Json]:
        """``{"kind": ..., <identifying fields>, "before": ..., "after": ...}`` for JSON."""
        return {"kind": self.kind, **dict(self.ident), "before": self.before, "after": self.after}


class DiffResult(tuple[Change, ...]):
    """The changes (a tuple, so ``diff(p, p) == ()``) plus how objects were paired.

    ``matching`` maps an area to counts per criterion, e.g. ``{"codes": {"guid": 40, "path": 2}}``.
    """

    matching: dict[str, dict[str, int]]

    def __new__(cls, changes: Iterable[Change], matching: dict[str, dict[str, int]]) -> DiffResult:
        self = super().__new__(cls, changes)
        self.matching = matching
        return self

    def by_area(self) -> dict[str, list[Change]]:
        """Changes grouped by area, every area present (possibly empty), in :data:`AREAS` order."""
        grouped: dict[str, list[Change]] = {area: [] for area in AREAS}
        for change in self:
            grouped.setdefault(change.area, []).append(change)
        return grouped

    def as_dict(self) -> dict[str, Json]:
        """The JSON document of ``qdx diff --json``."""
        out: dict[str, Json] = {area: [c.as_dict() for c in items] for area, items in self.by_area().items()}
        out["matching"] = self.matching
        return out


# --------------------------------------------------------------------------- diff


@dataclass(slots=True)
class _Context:
    """Both indexes and the pairings, so references in B can be read in A's terms."""

    a: ProjectIndex
    b: ProjectIndex
    codes: Matching
    sources: Matching
    users: Matching
    notes: Matching
    variables: Matching
    changes: list[Change]
    sort_keys: dict[str, tuple[str, ...]] = field(default_factory=dict)
    reattributed: Counter[tuple[str | None, str | None]] = field(default_factory=Counter)

    def code_label(self, key_b: str) -> tuple[str, ...]:
        """Path of a B code (what the user sees)."""
        guid = Guid(key_b)
        return self.b.code_path(guid) if guid in self.b.codes else (key_b,)

    def code_in_a(self, guid: Guid) -> str:
        """A B code reference in A's key space (unpaired B codes get a ``b:`` key)."""
        return self.codes.b_to_a.get(guid.key, "b:" + guid.key)

    def user_in_a(self, guid: Guid | None) -> str | None:
        if guid is None:
            return None
        return self.users.b_to_a.get(guid.key, "b:" + guid.key)


def diff(
    a: Project, b: Project, *, match: MatchLevel = "path", similarity: float = DEFAULT_SIMILARITY
) -> DiffResult:
    """Compare two projects (or codebooks) and list what changed from ``a`` to ``b``.

    Args:
        a: the "before" project; never modified.
        b: the "after" project; never modified.
        match: the loosest criterion used to pair codes: ``guid``, ``path`` (default: GUID,
            then full path), ``name`` (also a name unique in both projects) or ``content``
            (codes still unpaired are then paired by similarity, as git detects renames; such a
            pair's changes carry ``similarity``, :mod:`qdx.ops.renames`). ``path`` is
            :func:`~qdx.ops.merge.merge`'s default too, so a diff shows the pairing a merge uses.
        similarity: the least similarity (0..1) that pairs two codes by content.

    Returns:
        A :class:`DiffResult`: a tuple of :class:`Change` (empty when nothing differs) with
        ``matching`` counts per area and criterion.

    Raises:
        UsageError: ``match`` is not a known level.

    Example:
        >>> [c.kind for c in diff(before, after) if c.area == "codes"]  # doctest: +SKIP
        ['renamed', 'moved']
    """
    ia, ib = ProjectIndex(a), ProjectIndex(b)
    ctx = _Context(
        a=ia,
        b=ib,
        codes=code_matching(ia, ib, match, similarity),
        sources=match_sources(a.sources, b.sources),
        users=match_named(a.users, b.users, lambda u: u.name),
        notes=match_named(a.notes, b.notes, lambda n: n.text),
        variables=match_named(a.variables, b.variables, lambda v: v.name),
        changes=[],
    )
    _diff_project(ctx)
    _diff_codes(ctx)
    _diff_sources(ctx)
    _diff_codings(ctx)
    _diff_others(ctx)
    _report_reattributed(ctx)
    matching = {
        "codes": ctx.codes.counts(),
        "sources": ctx.sources.counts(),
        "users": ctx.users.counts(),
    }
    return DiffResult(ctx.changes, matching)


def _path(path: tuple[str, ...]) -> list[str]:
    return list(path)


def _diff_project(ctx: _Context) -> None:
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


def _diff_codes(ctx: _Context) -> None:
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
    ctx: _Context, code: Code, other: Code, ident: tuple[tuple[str, Json], ...], how: str
) -> Iterator[Change]:
    if how != "guid":
        yield Change("codes", "guid-changed", ident, str(code.guid), str(other.guid))
    for name, kind in _CODE_FIELDS:
        before, after = getattr(code, name), getattr(other, name)
        if name == "color":
            before, after = _colour(before), _colour(after)
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


def _colour(value: str | None) -> str | None:
    # REFI RGBType is #RRGGBB; case carries no meaning (docs/quirks.md §2).
    return value.upper() if value is not None else None


# --------------------------------------------------------------------------- sources


def text_diff(before: str, after: str, *, context: int = DIFF_CONTEXT_LINES, limit: int = DIFF_MAX_LINES) -> str:
    """A short unified diff of two texts (at most ``limit`` lines; a marker says when cut)."""
    lines = list(
        difflib.unified_diff(before.splitlines(), after.splitlines(), "before", "after", n=context, lineterm="")
    )
    if len(lines) > limit:
        lines = [*lines[:limit], f"... ({len(lines) - limit} more diff lines)"]
    return "\n".join(lines)


def _diff_sources(ctx: _Context) -> None:
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
    ctx: _Context, source: Source, other: Source, ident: tuple[tuple[str, Json], ...]
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


def _values(index: ProjectIndex, values: Iterable[VariableValue], ctx: _Context | None) -> dict[str, str | None]:
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


# --------------------------------------------------------------------------- codings


class _Coded(NamedTuple):
    """One coding, flattened: what identifies it, and where its text is."""

    code: str  # code key in A's space
    lane: str  # which part of the source the range is over
    rng: tuple[int | str | None, ...]
    coder: str | None  # user key in A's space
    selection: str | None
    doc: TextDoc | None  # for text ranges: the document to slice
    at: tuple[int | str | None, ...] | None = None  # the range in ``doc`` when ``rng`` was carried
    carried: str = "unchanged"  # unchanged / moved / lost: how the passage fares in the other copy


_LANE_OF: dict[type, str] = {
    PictureSource: "picture",
    PDFSource: "pdf",
    AudioSource: "audio",
    VideoSource: "video",
}


def _lanes(source: Source) -> Iterator[tuple[str, Sequence[Selection], TextDoc | None]]:
    """(lane, selections, text doc) for every part of a source that holds selections."""
    if isinstance(source, TextSource):
        yield "text", source.selections, source
        return
    yield _LANE_OF[type(source)], source.selections, None
    if isinstance(source, PDFSource):
        if source.representation is not None:
            yield "representation", source.representation.selections, source.representation
        for sel in source.selections:
            if sel.representation is not None:
                yield f"representation:{sel.guid.key}", sel.representation.selections, sel.representation
    elif isinstance(source, PictureSource) and source.text_description is not None:
        yield "description", source.text_description.selections, source.text_description
    elif isinstance(source, AudioSource | VideoSource):
        for transcript in source.transcripts:
            yield f"transcript:{transcript.guid.key}", transcript.selections, transcript


def _codings_of(
    source: Source,
    code_of: Callable[[Guid], str],
    user_of: Callable[[Guid | None], str | None],
    maps: dict[str, tuple[TextMap, bool]] | None = None,
) -> dict[str, list[_Coded]]:
    """The source's codings grouped by code key.

    ``maps`` (lane -> (map onto the other copy's text, rebase)) tells how each text passage
    fares in the other copy; with ``rebase`` the range is replaced by the carried one, so B's
    codings are compared in A's positions (a lost one gets a range that pairs with nothing).
    """
    out: dict[str, list[_Coded]] = defaultdict(list)
    for lane, selections, doc in _lanes(source):
        tmap, rebase = (maps or {}).get(lane, (None, False))
        for sel in selections:
            rng = selection_range(sel)
            at: tuple[int | str | None, ...] | None = None
            carried = "unchanged"
            if tmap is not None and isinstance(sel, TextSelection):
                got = carry_selection(tmap, sel)
                carried = got.status
                if rebase:
                    at = rng
                    if got.start is None or got.end is None:
                        # Roughly where it sits in A, so the sweep can pair it with A's coding there.
                        rng = (tmap.locate(sel.start), max(tmap.locate(sel.end), tmap.locate(sel.start)))
                    else:
                        rng = (got.start, got.end)
            for coding in sel.codings:
                code = code_of(coding.code)
                user = user_of(coding.creating_user)
                out[code].append(_Coded(code, lane, rng, user, sel.guid.key, doc, at, carried))
    for coding in source.codings:
        code = code_of(coding.code)
        out[code].append(_Coded(code, "source", (), user_of(coding.creating_user), None, None))
    return out


def _diff_codings(ctx: _Context) -> None:
    a_to_b = ctx.sources.a_to_b
    code_a: Callable[[Guid], str] = lambda g: g.key  # noqa: E731
    user_a: Callable[[Guid | None], str | None] = lambda g: g.key if g is not None else None  # noqa: E731
    for source in ctx.a.project.sources:
        key_b = a_to_b.get(source.guid.key)
        other = ctx.b.sources[Guid(key_b)] if key_b is not None else None
        forward, back = _text_maps(source, other) if other is not None else ({}, {})
        ours = _codings_of(source, code_a, user_a, forward)
        theirs = _codings_of(other, ctx.code_in_a, ctx.user_in_a, back) if other is not None else {}
        for code in sorted(ours.keys() | theirs.keys(), key=lambda k: _code_sort(ctx, k)):
            _compare_group(ctx, source, code, ours.get(code, []), theirs.get(code, []))
    for source in ctx.b.project.sources:
        if source.guid.key not in ctx.sources.b_to_a:
            theirs = _codings_of(source, ctx.code_in_a, ctx.user_in_a)
            for code in sorted(theirs, key=lambda k: _code_sort(ctx, k)):
                _compare_group(ctx, source, code, [], theirs[code])


def _text_maps(
    source: Source, other: Source
) -> tuple[dict[str, tuple[TextMap, bool]], dict[str, tuple[TextMap, bool]]]:
    """Per text lane whose two copies differ: the map A -> B (to mark A's lost passages) and
    B -> A (to compare B's codings in A's positions), :mod:`qdx.textmap`."""
    docs_a = {lane: doc for lane, _, doc in _lanes(source) if doc is not None}
    forward: dict[str, tuple[TextMap, bool]] = {}
    back: dict[str, tuple[TextMap, bool]] = {}
    for lane, _, doc_b in _lanes(other):
        doc_a = docs_a.get(lane)
        if doc_a is None or doc_b is None or doc_a.text is None or doc_b.text is None or doc_a.text == doc_b.text:
            continue
        tmap = TextMap(doc_a.text, doc_b.text)
        forward[lane] = (tmap, False)
        back[lane] = (tmap.reverse(), True)
    return forward, back


def _code_sort(ctx: _Context, key: str) -> tuple[str, ...]:
    found = ctx.sort_keys.get(key)
    if found is None:
        found = ctx.sort_keys[key] = tuple(_code_path(ctx, key))
    return found


def _code_path(ctx: _Context, key: str) -> list[str]:
    if key.startswith("b:"):
        return list(ctx.code_label(key[2:]))
    guid = Guid(key)
    return list(ctx.a.code_path(guid)) if guid in ctx.a.codes else [key]


_Identity = tuple[str, tuple[int | str | None, ...], str | None, bool]


def _identity(item: _Coded) -> _Identity:
    # A coding whose passage is not in the other copy never equals one that is there.
    return (item.lane, item.rng, item.coder, item.carried == "lost")


def _compare_group(ctx: _Context, source: Source, code: str, ours: list[_Coded], theirs: list[_Coded]) -> None:
    """Cancel equal codings, pair overlapping same-coder ones, report the rest.

    A B coding carried onto A's text by an edit elsewhere (``moved``) cancels like an equal one
    and is reported as ``moved`` (same passage, new position)."""
    common = Counter(map(_identity, ours)) & Counter(map(_identity, theirs))
    if any(item.carried == "moved" for item in theirs):
        in_a = {_identity(item): item for item in ours}
        for item in theirs:
            if item.carried == "moved" and common[_identity(item)] > 0:
                ctx.changes.append(_coding_change(ctx, source, code, in_a[_identity(item)], item, kind="moved"))
    if len(ours) == len(theirs) and list(map(_identity, ours)) == list(map(_identity, theirs)):
        return  # the usual case between two versions of a project: same codings, same order
    if common and len(ours) == len(theirs) == sum(common.values()):
        return
    left_a = _subtract(ours, common.copy())
    left_b = _subtract(theirs, common)
    left_a, left_b = _reattributed(ctx, left_a, left_b)
    lanes: dict[tuple[str, str | None], tuple[list[_Coded], list[_Coded]]] = defaultdict(lambda: ([], []))
    for item in left_a:
        lanes[item.lane, item.coder][0].append(item)
    for item in left_b:
        lanes[item.lane, item.coder][1].append(item)
    for (_lane, _coder), (side_a, side_b) in lanes.items():
        for before, after in _sweep(side_a, side_b):
            ctx.changes.append(_coding_change(ctx, source, code, before, after))


def _reattributed(ctx: _Context, left_a: list[_Coded], left_b: list[_Coded]) -> tuple[list[_Coded], list[_Coded]]:
    """Pair codings on the same passage whose only difference is the coder.

    NVivo for Mac exports every coding under the exporting user (the oltas Windows/Mac pair): the
    passages are the same, only the attribution differs. Such pairs are counted per (coder A,
    coder B) and reported once in the users area (:func:`_report_reattributed`), not per coding.
    """
    if not left_a or not left_b:
        return left_a, left_b
    waiting: dict[tuple[str, tuple[int | str | None, ...]], list[_Coded]] = defaultdict(list)
    for item in left_b:
        waiting[item.lane, item.rng].append(item)
    rest_a: list[_Coded] = []
    taken: set[int] = set()
    for item in left_a:
        queue = waiting.get((item.lane, item.rng))
        if queue:
            other = queue.pop(0)
            taken.add(id(other))
            ctx.reattributed[item.coder, other.coder] += 1
        else:
            rest_a.append(item)
    return rest_a, [item for item in left_b if id(item) not in taken]


def _report_reattributed(ctx: _Context) -> None:
    for (coder_a, coder_b), count in sorted(ctx.reattributed.items(), key=lambda kv: (str(kv[0][0]), str(kv[0][1]))):
        name_a, name_b = _coder_name(ctx, coder_a), _coder_name(ctx, coder_b)
        ident: tuple[tuple[str, Json], ...] = (("name", f"{count} coding(s) of {name_a}"), ("codings", count))
        ctx.changes.append(Change("users", "codings-reattributed", ident, name_a, name_b))


def _subtract(items: list[_Coded], common: Counter[_Identity]) -> list[_Coded]:
    left: list[_Coded] = []
    for item in items:
        ident = _identity(item)
        if common[ident] > 0:
            common[ident] -= 1
        else:
            left.append(item)
    return left


def _span(item: _Coded) -> tuple[int, int] | None:
    if len(item.rng) == 2 and isinstance(item.rng[0], int) and isinstance(item.rng[1], int):
        return item.rng[0], item.rng[1]
    return None


def _overlap(x: tuple[int, int], y: tuple[int, int]) -> bool:
    # Half-open [start, end) ranges (REFI §10.2); a zero-length range overlaps what touches it.
    if x[0] == x[1] or y[0] == y[1]:
        return x[0] <= y[1] and y[0] <= x[1]
    return x[0] < y[1] and y[0] < x[1]


def _sweep(side_a: list[_Coded], side_b: list[_Coded]) -> Iterator[tuple[_Coded | None, _Coded | None]]:
    """Pair overlapping ranges of two sorted lists greedily; yield (a, b), (a, None), (None, b)."""
    ranged_a = sorted((x for x in side_a if _span(x) is not None), key=lambda x: _span(x) or (0, 0))
    ranged_b = sorted((x for x in side_b if _span(x) is not None), key=lambda x: _span(x) or (0, 0))
    i = j = 0
    while i < len(ranged_a) and j < len(ranged_b):
        span_a, span_b = _span(ranged_a[i]) or (0, 0), _span(ranged_b[j]) or (0, 0)
        if _overlap(span_a, span_b):
            yield ranged_a[i], ranged_b[j]
            i, j = i + 1, j + 1
        elif span_a < span_b:
            yield ranged_a[i], None
            i += 1
        else:
            yield None, ranged_b[j]
            j += 1
    yield from ((x, None) for x in ranged_a[i:])
    yield from ((None, x) for x in ranged_b[j:])
    yield from ((x, None) for x in side_a if _span(x) is None)
    yield from ((None, x) for x in side_b if _span(x) is None)


def _where(item: _Coded | None) -> dict[str, Json] | None:
    if item is None:
        return None
    if item.at is not None:
        item = item._replace(rng=item.at)
    span = _span(item)
    if span is None:
        return {"range": list(item.rng), "selection": item.selection}
    text = item.doc.text[span[0] : span[1]] if item.doc is not None and item.doc.text is not None else None
    return {"start": span[0], "end": span[1], "text": text, "selection": item.selection}


def _coder_name(ctx: _Context, key: str | None) -> str | None:
    if key is None:
        return None
    if key.startswith("b:"):
        return ctx.b.user_name(Guid(key[2:]))
    return ctx.a.user_name(Guid(key))


def _coding_change(
    ctx: _Context, source: Source, code: str, before: _Coded | None, after: _Coded | None, kind: str = ""
) -> Change:
    if not kind:
        both = before is not None and after is not None
        kind = "boundary-changed" if both else "removed" if after is None else "added"
        if kind == "removed" and before is not None and before.carried == "lost":
            kind = "lost"  # its passage is no longer in B's text (edited), so no coding could stay
        elif kind == "boundary-changed" and "lost" in (getattr(before, "carried", ""), getattr(after, "carried", "")):
            kind = "passage-edited"  # the same coding, but its text was edited between the copies
    item = before if before is not None else after
    assert item is not None
    path = _code_path(ctx, code)
    ident: tuple[tuple[str, Json], ...] = (
        ("source", source.name),
        ("source_guid", str(source.guid)),
        ("code", path[-1]),
        ("path", path),
        ("coder", _coder_name(ctx, item.coder)),
        ("lane", item.lane),
    )
    return Change("codings", kind, ident, _where(before), _where(after))


# --------------------------------------------------------------------------- notes, cases, ...


def _diff_records(
    ctx: _Context,
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


def _names(ctx: _Context, refs: Iterable[Guid], kind: str, is_b: bool) -> list[str]:
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


def _diff_others(ctx: _Context) -> None:
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


def _case_fields(ctx: _Context, case: Case, is_b: bool) -> dict[str, Json]:
    index = ctx.b if is_b else ctx.a
    return {
        "name": case.name,
        "description": case.description,
        "codes": _names(ctx, case.code_refs, "code", is_b),
        "sources": _names(ctx, case.source_refs, "source", is_b),
        "selections": sorted(g.key for g in case.selection_refs),
        "variables": _values(index, case.variable_values, ctx if is_b else None),
    }


def _set_fields(ctx: _Context, item: Set, is_b: bool) -> dict[str, Json]:
    return {
        "name": item.name,
        "description": item.description,
        "codes": _names(ctx, item.member_codes, "code", is_b),
        "sources": _names(ctx, item.member_sources, "source", is_b),
        "notes": _names(ctx, item.member_notes, "note", is_b),
    }


def _any_name(ctx: _Context, guid: Guid | None, is_b: bool) -> str | None:
    """What a link end or graph vertex stands for, named in A's terms when paired."""
    if guid is None:
        return None
    for kind in ("code", "source", "note"):
        name = _names(ctx, (guid,), kind, is_b)[0]
        if name != guid.key:
            return f"{kind} {name}"
    return guid.key


def _link_fields(ctx: _Context, link: Link, is_b: bool) -> dict[str, Json]:
    return {
        "name": link.name,
        "direction": link.direction.value if link.direction else None,
        "color": _colour(link.color),
        "origin": _any_name(ctx, link.origin, is_b),
        "target": _any_name(ctx, link.target, is_b),
    }


def _graph_fields(ctx: _Context, graph: Graph, is_b: bool) -> dict[str, Json]:
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
            _colour(v.color),
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
            _colour(e.color),
            e.direction.value if e.direction else None,
            e.line_style.value if e.line_style else None,
        ]
        for e in graph.edges
    ]
    return {"name": graph.name, "vertices": vertices, "edges": edges}
