"""The part of :func:`qdx.ops.diff.diff` that compares codings (per source and code), with
the position maps of :mod:`qdx.textmap` when the two copies of a text differ.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from typing import NamedTuple

from qdx.model import (
    AudioSource,
    Guid,
    PDFSource,
    PictureSource,
    Selection,
    Source,
    TextDoc,
    TextSelection,
    TextSource,
    VideoSource,
)
from qdx.ops._diff_base import Change, DiffContext, Json
from qdx.ops.pairing import selection_range
from qdx.textmap import TextMap, carry_selection

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


def diff_codings(ctx: DiffContext) -> None:
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


def _code_sort(ctx: DiffContext, key: str) -> tuple[str, ...]:
    found = ctx.sort_keys.get(key)
    if found is None:
        found = ctx.sort_keys[key] = tuple(_code_path(ctx, key))
    return found


def _code_path(ctx: DiffContext, key: str) -> list[str]:
    if key.startswith("b:"):
        return list(ctx.code_label(key[2:]))
    guid = Guid(key)
    return list(ctx.a.code_path(guid)) if guid in ctx.a.codes else [key]


_Identity = tuple[str, tuple[int | str | None, ...], str | None, bool]


def _identity(item: _Coded) -> _Identity:
    # A coding whose passage is not in the other copy never equals one that is there.
    return (item.lane, item.rng, item.coder, item.carried == "lost")


def _compare_group(ctx: DiffContext, source: Source, code: str, ours: list[_Coded], theirs: list[_Coded]) -> None:
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


def _reattributed(ctx: DiffContext, left_a: list[_Coded], left_b: list[_Coded]) -> tuple[list[_Coded], list[_Coded]]:
    """Pair codings on the same passage whose only difference is the coder.

    NVivo for Mac exports every coding under the exporting user (the oltas Windows/Mac pair): the
    passages are the same, only the attribution differs. Such pairs are counted per (coder A,
    coder B) and reported once in the users area (:func:`report_reattributed`), not per coding.
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


def report_reattributed(ctx: DiffContext) -> None:
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


def _coder_name(ctx: DiffContext, key: str | None) -> str | None:
    if key is None:
        return None
    if key.startswith("b:"):
        return ctx.b.user_name(Guid(key[2:]))
    return ctx.a.user_name(Guid(key))


def _coding_change(
    ctx: DiffContext, source: Source, code: str, before: _Coded | None, after: _Coded | None, kind: str = ""
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

