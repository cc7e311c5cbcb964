"""Pairing codes by content when nothing else pairs them: renames and moves without shared GUIDs.

Two projects built independently (codes re-created, a project rebuilt from NVivo exports,
which carry no GUIDs, docs/nvivo-exports.md; ATLAS.ti re-minting GUIDs on export,
docs/quirks.md §6) share no GUIDs, and a renamed or moved code shares neither path nor name.
Like git's rename detection, codes left unpaired by GUID, path and name are paired by how much
their content agrees, a similarity in [0, 1]:

* **codings** (weight 3): Jaccard index of the passages coded, as (paired source, range);
* **description** (weight 2): :class:`difflib.SequenceMatcher` ratio of the descriptions;
* **name** (weight 1): the same ratio of the names, case-folded;
* **parent** (weight 1): 1 when the parents are paired (or both are top level), else 0;
* **children** (weight 1): Jaccard index of the paired children.

The similarity is the weighted mean over the signals present on either side (a codebook has
no codings; a code without a description on both sides has no description signal), so it
stays comparable across projects. Pairs at or above the threshold are taken best first, each
code at most once; rounds repeat so that children of a paired parent can pair next. Only
codes sharing a parent, a coded passage, a description or a name are compared, so the work
follows the number of such candidates, not the square of the codebook.
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Hashable, Iterable

from qdx.errors import UsageError
from qdx.model import Guid, ProjectIndex, iter_selections
from qdx.ops.pairing import Matching, match_codes, match_sources, selection_range
from qdx.options import MatchLevel

DEFAULT_SIMILARITY = 0.6
WEIGHTS = {"codings": 3.0, "description": 2.0, "name": 1.0, "parent": 1.0, "children": 1.0}
# A bucket (codes sharing one parent, passage, ...) larger than this on both sides is not
# compared pairwise: it says too little about which code is which.
_MAX_BUCKET = 200
_MAX_ROUNDS = 8


def code_matching(
    a: ProjectIndex, b: ProjectIndex, level: MatchLevel = "name", similarity: float = DEFAULT_SIMILARITY
) -> Matching:
    """:func:`qdx.ops.pairing.match_codes`, then (``level="content"``) :func:`pair_by_content`.

    Raises:
        UsageError: an unknown level, or a similarity outside [0, 1].
    """
    matching = match_codes(a, b, level)
    if level != "content":
        return matching
    return pair_by_content(a, b, matching, threshold=similarity)


def pair_by_content(
    a: ProjectIndex, b: ProjectIndex, matching: Matching, *, threshold: float = DEFAULT_SIMILARITY
) -> Matching:
    """``matching`` plus pairs of still unpaired codes whose similarity reaches ``threshold``.

    Args:
        a: the first project's index.
        b: the second project's index.
        matching: codes already paired (B key -> A key), e.g. by GUID, path and name.
        threshold: the least similarity that pairs two codes (0..1).

    Returns:
        A new :class:`Matching`; the new pairs are labelled ``content`` and their similarity is in
        ``scores`` (B key -> similarity).

    Raises:
        UsageError: ``threshold`` is outside [0, 1].
    """
    if not 0.0 <= threshold <= 1.0:
        raise UsageError(f"similarity threshold {threshold} is outside 0..1")
    if len(matching.b_to_a) in (len(a.codes), len(b.codes)):
        return matching  # one side is wholly paired: nothing left to pair
    b_to_a, how, scores = dict(matching.b_to_a), dict(matching.how), dict(matching.scores)
    passages = _Passages(a, b)
    for _ in range(_MAX_ROUNDS):
        found = _round(a, b, b_to_a, passages, threshold)
        if not found:
            break
        for score, key_b, key_a in found:
            b_to_a[key_b], how[key_b], scores[key_b] = key_a, "content", round(score, 4)
    return Matching(b_to_a, how, scores)


class _Passages:
    """Coded passages per code, as (source in A's terms, range), for the codings signal."""

    def __init__(self, a: ProjectIndex, b: ProjectIndex) -> None:
        sources = match_sources(a.project.sources, b.project.sources)
        self.a = self._collect(a, {})
        self.b = self._collect(b, sources.b_to_a)

    @staticmethod
    def _collect(index: ProjectIndex, source_key: dict[str, str]) -> dict[str, set[Hashable]]:
        out: dict[str, set[Hashable]] = defaultdict(set)
        for source in index.project.sources:
            where = source_key.get(source.guid.key, source.guid.key)
            for coding in source.codings:
                out[coding.code.key].add((where, ()))
            for sel in iter_selections(source):
                for coding in sel.codings:
                    out[coding.code.key].add((where, selection_range(sel)))
        return out


def _round(
    a: ProjectIndex, b: ProjectIndex, b_to_a: dict[str, str], passages: _Passages, threshold: float
) -> list[tuple[float, str, str]]:
    taken = set(b_to_a.values())
    left_a = [k for k in (g.key for g in a.codes) if k not in taken]
    left_b = [k for k in (g.key for g in b.codes) if k not in b_to_a]
    if not left_a or not left_b:
        return []
    scored: list[tuple[float, str, str]] = []
    for key_a, key_b in _candidates(a, b, left_a, left_b, b_to_a, passages):
        score = similarity(a, b, key_a, key_b, b_to_a, passages)
        if score >= threshold:
            scored.append((score, key_b, key_a))
    scored.sort(key=lambda t: (-t[0], t[1], t[2]))
    used_a: set[str] = set()
    used_b: set[str] = set()
    out: list[tuple[float, str, str]] = []
    for score, key_b, key_a in scored:
        if key_a not in used_a and key_b not in used_b:
            used_a.add(key_a)
            used_b.add(key_b)
            out.append((score, key_b, key_a))
    return out


def _parent_key(index: ProjectIndex, key: str) -> str | None:
    parent = index.parents[Guid(key)]
    return parent.guid.key if parent is not None else None


def _candidates(
    a: ProjectIndex,
    b: ProjectIndex,
    left_a: list[str],
    left_b: list[str],
    b_to_a: dict[str, str],
    passages: _Passages,
) -> Iterable[tuple[str, str]]:
    """Pairs sharing a parent (paired), a coded passage, a description or a name."""
    buckets: dict[Hashable, tuple[list[str], list[str]]] = defaultdict(lambda: ([], []))

    def add(side: int, key: str, tokens: Iterable[Hashable]) -> None:
        for token in tokens:
            buckets[token][side].append(key)

    for key in left_a:
        code = a.codes[Guid(key)]
        add(0, key, _tokens(_parent_key(a, key), code.name, code.description, passages.a.get(key, ())))
    for key in left_b:
        code = b.codes[Guid(key)]
        parent = _parent_key(b, key)
        parent_in_a = b_to_a.get(parent, "b:" + parent) if parent is not None else None
        add(1, key, _tokens(parent_in_a, code.name, code.description, passages.b.get(key, ())))
    seen: set[tuple[str, str]] = set()
    for side_a, side_b in buckets.values():
        if not side_a or not side_b or (len(side_a) > _MAX_BUCKET and len(side_b) > _MAX_BUCKET):
            continue
        for key_a in side_a:
            for key_b in side_b:
                if (key_a, key_b) not in seen:
                    seen.add((key_a, key_b))
                    yield key_a, key_b


def _tokens(parent: str | None, name: str, description: str | None, coded: Iterable[Hashable]) -> list[Hashable]:
    out: list[Hashable] = [("parent", parent), ("name", name.casefold())]
    if description:
        out.append(("description", description.strip().casefold()))
    out.extend(("passage", p) for p in coded)
    return out


def _ratio(x: str, y: str) -> float:
    return difflib.SequenceMatcher(None, x, y, autojunk=False).ratio()


def _jaccard(x: set[Hashable], y: set[Hashable]) -> float:
    return len(x & y) / len(x | y) if x or y else 0.0


def signals(
    a: ProjectIndex, b: ProjectIndex, key_a: str, key_b: str, b_to_a: dict[str, str], passages: _Passages
) -> dict[str, float]:
    """Each signal present for the pair, in [0, 1] (see the module docstring)."""
    x, y = a.codes[Guid(key_a)], b.codes[Guid(key_b)]
    out: dict[str, float] = {"name": _ratio(x.name.casefold(), y.name.casefold())}
    if x.description or y.description:
        out["description"] = _ratio(x.description or "", y.description or "")
    parent_a, parent_b = _parent_key(a, key_a), _parent_key(b, key_b)
    out["parent"] = 1.0 if (parent_b is None and parent_a is None) or b_to_a.get(parent_b or "") == parent_a else 0.0
    coded_a, coded_b = passages.a.get(key_a, set()), passages.b.get(key_b, set())
    if coded_a or coded_b:
        out["codings"] = _jaccard(coded_a, coded_b)
    kids_a = {c.guid.key for c in x.children}
    kids_b = {b_to_a.get(c.guid.key, "b:" + c.guid.key) for c in y.children}
    if kids_a or kids_b:
        out["children"] = _jaccard(set(kids_a), set(kids_b))
    return out


def similarity(
    a: ProjectIndex, b: ProjectIndex, key_a: str, key_b: str, b_to_a: dict[str, str], passages: _Passages
) -> float:
    """The weighted mean of the signals present for the pair."""
    found = signals(a, b, key_a, key_b, b_to_a, passages)
    total = sum(WEIGHTS[name] for name in found)
    return sum(WEIGHTS[name] * value for name, value in found.items()) / total
