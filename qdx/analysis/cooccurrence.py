"""Code co-occurrence: how often two codes meet, and ATLAS.ti's c-coefficient.

Two ways to meet (docs/methods.md §D.2–D.3):

* ``overlap`` (default; ATLAS.ti's Code Co-occurrence Table, MAXQDA's "intersection"): the
  count of *pairs of coded passages*, one of each code, whose ranges overlap by at least one
  unit in the same document — characters for text, milliseconds for audio/video; region
  selections (pictures, PDF boxes) meet only when they are the same selection. Passages that
  merely touch (``[0,10)`` and ``[10,20)``) do not overlap. Whole-source codings never overlap.
  n_i is the number of references of code i.
* ``document`` (MAXQDA's "once per document"): the number of sources coded with both codes;
  n_i is the number of sources coded with code i.

The diagonal holds n_i (as ATLAS.ti shows code totals). The c-coefficient is
``c = n12 / (n1 + n2 − n12)`` (Jaccard form, range 0–1; oracle C1: 5/105 = 0.048). Pair
counting can push n12 past min(n1, n2) when one passage overlaps several others, which takes
c "out of range" (ATLAS.ti warns about the same thing); qdx clamps c to 1 and flags the pair.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from itertools import combinations
from typing import TYPE_CHECKING

from qdx.analysis._axes import Axis, axis, label
from qdx.analysis._codings import Corpus, build_corpus
from qdx.errors import UsageError
from qdx.model import Project
from qdx.options import COOCCUR_MODES, COOCCUR_VALUES, CellValue, CooccurMode, Level

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

MODES = COOCCUR_MODES
CO_VALUES = COOCCUR_VALUES


def c_coefficient(n1: int, n2: int, n12: int) -> float:
    """ATLAS.ti's c-coefficient ``n12 / (n1 + n2 - n12)``, clamped to [0, 1].

    Args:
        n1: occurrences of code 1. n2: of code 2. n12: co-occurrences.

    Returns:
        The coefficient; 0.0 when nothing occurs.

    Example:
        >>> round(c_coefficient(100, 10, 5), 3)
        0.048
    """
    if n12 <= 0:
        return 0.0
    denominator = n1 + n2 - n12
    if denominator <= 0:
        return 1.0
    return min(1.0, n12 / denominator)


def out_of_range(n1: int, n2: int, n12: int) -> bool:
    """True when ``n12`` exceeds what disjoint passages allow (the coefficient was clamped)."""
    return n12 > min(n1, n2)


def _sweep(items: list[tuple[int, int, str]]) -> Iterable[tuple[str, str]]:
    """Code pairs of overlapping ranges in one document (sorted sweep, O(n log n + pairs))."""
    active: list[tuple[int, str]] = []
    for start, end, key in sorted(items):
        active = [(e, k) for e, k in active if e > start]
        if end > start:
            for _, other in active:
                if other != key:
                    yield (other, key) if other < key else (key, other)
            active.append((end, key))


def _overlap_pairs(cells: pd.DataFrame) -> Counter[tuple[str, str]]:
    counts: Counter[tuple[str, str]] = Counter()
    ranged = cells[cells["unit"].notna()]
    by_doc: dict[str, list[tuple[int, int, str]]] = {}
    for doc, start, end, key in zip(ranged["doc"], ranged["start"], ranged["end"], ranged["key"], strict=True):
        by_doc.setdefault(doc, []).append((int(start), int(end), key))
    for items in by_doc.values():
        counts.update(_sweep(items))
    # Regions without a comparable unit (picture/PDF boxes): same selection = same passage.
    regions = cells[cells["unit"].isna() & cells["selection"].notna()]
    for keys in regions.groupby("selection")["key"].agg(list):
        counts.update((a, b) if a < b else (b, a) for a, b in combinations(keys, 2) if a != b)
    return counts


def _document_pairs(cells: pd.DataFrame) -> Counter[tuple[str, str]]:
    counts: Counter[tuple[str, str]] = Counter()
    for keys in cells.groupby("source")["key"].agg(lambda s: sorted(set(s))):
        counts.update(combinations(keys, 2))
    return counts


def _counts(corpus: Corpus, codes: Axis, level: str | int | None,
            mode: str) -> tuple[dict[str, int], Counter[tuple[str, str]]]:
    """Each code's n_i and each meeting pair's count; ``codes`` is ``axis(corpus, "codes", level)``.
    Computed once per corpus, level and mode (callers only read them)."""
    if mode not in MODES:
        raise UsageError(f"unknown co-occurrence mode {mode!r}; choose overlap or document")
    memo_key = ("cooccurrence", level, mode)
    found = corpus.memo.get(memo_key)
    if found is None:
        found = corpus.memo[memo_key] = _count(corpus, codes, mode)
    return found  # type: ignore[return-value]  # stored by this function only


def _count(corpus: Corpus, codes: Axis, mode: str) -> tuple[dict[str, int], Counter[tuple[str, str]]]:
    cells = codes.links.merge(corpus.codings, on="coding")
    if mode == "overlap":
        totals = cells.groupby("key")["coding"].nunique()
        return {str(k): int(v) for k, v in totals.items()}, _overlap_pairs(cells)
    totals = cells.groupby("key")["source"].nunique()
    return {str(k): int(v) for k, v in totals.items()}, _document_pairs(cells)


_PAIR_COLUMNS = ["code_a", "code_b", "n_a", "n_b", "n_ab", "c", "out_of_range"]


def pairs_from(corpus: Corpus, *, level: str | int | None = None, mode: CooccurMode = "overlap") -> pd.DataFrame:
    """Tidy co-occurrence: one row per code pair that meets (code_a, code_b, n_a, n_b, n_ab, c, out_of_range).

    Code A is the one earlier in the tree; the rows are sorted by c, then n_ab (highest first).
    Built column-wise: at the concept level of a large project there are 10^5 pairs.

    Raises:
        UsageError: an unknown mode or level.
    """
    import numpy as np
    import pandas as pd

    codes = axis(corpus, "codes", level)
    totals, counts = _counts(corpus, codes, level, mode)
    if not counts:
        return pd.DataFrame([], columns=_PAIR_COLUMNS)
    labels = dict(zip(codes.keys, codes.labels, strict=True))
    order = {k: i for i, k in enumerate(codes.keys)}
    last = len(order)  # a code off the axis sorts after every code on it
    first = np.array([a for a, _ in counts], dtype=object)
    second = np.array([b for _, b in counts], dtype=object)
    rank_a = np.array([order.get(k, last) for k in first.tolist()], dtype=np.int64)
    rank_b = np.array([order.get(k, last) for k in second.tolist()], dtype=np.int64)
    swap = rank_b < rank_a  # a stable sort of the two: equal ranks keep their order
    code_a = np.where(swap, second, first).tolist()
    code_b = np.where(swap, first, second).tolist()
    n_a = np.array([totals.get(k, 0) for k in code_a], dtype=np.int64)
    n_b = np.array([totals.get(k, 0) for k in code_b], dtype=np.int64)
    n_ab = np.fromiter(counts.values(), dtype=np.int64, count=len(counts))
    frame = pd.DataFrame({
        "code_a": [labels.get(k, k) for k in code_a],
        "code_b": [labels.get(k, k) for k in code_b],
        "n_a": n_a, "n_b": n_b, "n_ab": n_ab,
        "c": c_coefficients(n_a, n_b, n_ab),
        "out_of_range": n_ab > np.minimum(n_a, n_b),
    })
    return frame.sort_values(["c", "n_ab"], ascending=False, kind="stable").reset_index(drop=True)


def c_coefficients(n1: np.ndarray, n2: np.ndarray, n12: np.ndarray) -> np.ndarray:
    """:func:`c_coefficient` of arrays of counts, element by element (the same floats: counts
    below 2**53 convert to float exactly, and one IEEE division is correctly rounded either way)."""
    import numpy as np

    denominator = n1 + n2 - n12
    ratio = np.ones(len(n12), dtype=np.float64)
    np.divide(n12, denominator, out=ratio, where=denominator > 0)
    return np.where(n12 <= 0, 0.0, np.minimum(1.0, ratio))


def cooccurrence_from(
    corpus: Corpus, *, level: str | int | None = None, mode: CooccurMode = "overlap", value: CellValue = "references"
) -> pd.DataFrame:
    """:func:`cooccurrence` over a prepared corpus."""
    import pandas as pd

    if value not in CO_VALUES:
        raise UsageError(f"a code × code matrix supports {', '.join(CO_VALUES)}, not {value!r}")
    codes = axis(corpus, "codes", level)
    totals, counts = _counts(corpus, codes, level, mode)
    n = {k: totals.get(k, 0) for k in codes.keys}
    grid = pd.DataFrame(0.0 if value == "c-coefficient" else 0, index=codes.keys, columns=codes.keys)
    for (a, b), n_ab in counts.items():
        cell: float = c_coefficient(n[a], n[b], n_ab) if value == "c-coefficient" else n_ab
        grid.at[a, b] = grid.at[b, a] = cell
    for k in codes.keys:
        # Diagonal: the code's own frequency (counts) or 1 (a code fully co-occurs with itself).
        grid.at[k, k] = n[k] if value != "c-coefficient" else (1.0 if n[k] else 0.0)
    if value == "presence":
        grid = (grid > 0).astype("int64")
    return label(grid, codes, codes, value)


def cooccurrence(
    project: Project,
    *,
    level: Level | int | None = None,
    mode: CooccurMode = "overlap",
    value: CellValue = "references",
    set_name: str | None = None,
    coder: str | None = None,
) -> pd.DataFrame:
    """A symmetric code × code co-occurrence matrix.

    Args:
        project: the project (not modified).
        level: restrict to a code level (``main``, ``subcategories``, ``concepts``, ``core``,
            or a depth), rolling descendants' codings up.
        mode: ``overlap`` (overlapping passages, counted as pairs) or ``document``.
        value: ``references`` (counts; the diagonal is n_i), ``presence`` or ``c-coefficient``.
        set_name: keep only codings in this Set. coder: keep only this user's codings.

    Returns:
        A square DataFrame labelled by code (``attrs["row_keys"]`` holds the GUIDs).

    Raises:
        UsageError: an unknown mode, value, level or set.

    Example:
        >>> qdx.cooccurrence(project, level="main", value="c-coefficient")  # doctest: +SKIP
    """
    corpus = build_corpus(project, set_name=set_name, coder=coder)
    return cooccurrence_from(corpus, level=level, mode=mode, value=value)
