"""Coding matrices: codes, sources, cases or a variable's values against each other.

The cell options are NVivo's Matrix Coding query options (docs/methods.md §D.1, docs/nvivo-exports.md §e.1),
computed from the coded segments (:func:`qdx.segment.segments`):

* ``references`` — codings in the cell (NVivo's default "Coding References"; ATLAS.ti's
  Code-Document Table counts code-quotation links the same way, §D.2);
* ``sources`` / ``cases`` — distinct sources / cases with at least one such coding;
* ``characters`` / ``words`` — characters / words of the coded text, overlapping passages of
  the same cell counted once (union of ranges);
* ``coverage`` — ``characters`` as a percentage of all text characters of the sources that
  both the row and the column stand for;
* ``presence`` — 1 when the cell has a coding, else 0;
* ``row-pct`` / ``col-pct`` — references as a percentage of the row / column total (oracle R1;
  NVivo 11 uses words for these, qdx uses references like ATLAS.ti and MAXQDA).

A code × code matrix is a co-occurrence table (:mod:`qdx.analysis.cooccurrence`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

from qdx.analysis._axes import Axis, axis, label
from qdx.analysis._codings import Corpus, build_corpus, count_words, merge_ranges
from qdx.analysis.cooccurrence import cooccurrence_from
from qdx.errors import UsageError
from qdx.model import Project
from qdx.options import MATRIX_VALUES, CellValue, CooccurMode, Level

if TYPE_CHECKING:
    import pandas as pd

VALUES = MATRIX_VALUES


def _cells(corpus: Corpus, rows: Axis, cols: Axis) -> pd.DataFrame:
    """One row per (row member, column member, coding) with the coding's columns."""
    pairs = rows.links.rename(columns={"key": "r"}).merge(cols.links.rename(columns={"key": "c"}), on="coding")
    pairs = pairs.drop_duplicates()
    return pairs.merge(corpus.codings, on="coding")


def _grid(series: pd.Series, rows: Axis, cols: Axis, dtype: Literal["int64", "float64"]) -> pd.DataFrame:
    import pandas as pd

    frame = series.unstack(fill_value=0) if len(series) else pd.DataFrame()
    frame = frame.reindex(index=rows.keys, columns=cols.keys, fill_value=0)
    return frame.fillna(0).astype(dtype)


def _nunique(col: str) -> Callable[[Corpus, pd.DataFrame, Axis, Axis], pd.DataFrame]:
    def measure(corpus: Corpus, cells: pd.DataFrame, rows: Axis, cols: Axis) -> pd.DataFrame:
        return _grid(cells.groupby(["r", "c"])[col].nunique(), rows, cols, "int64")

    return measure


def _cases(corpus: Corpus, cells: pd.DataFrame, rows: Axis, cols: Axis) -> pd.DataFrame:
    linked = cells[["r", "c", "coding"]].merge(corpus.case_links, on="coding")
    return _grid(linked.groupby(["r", "c"])["case"].nunique(), rows, cols, "int64")


def _ranges(cells: pd.DataFrame) -> dict[tuple[str, str, str], list[tuple[int, int]]]:
    """Merged coded character ranges per (row, column, document)."""
    text = cells[cells["unit"] == "char"]
    grouped: dict[tuple[str, str, str], list[tuple[int, int]]] = {}
    # Plain lists first: iterating a nullable-integer column yields its values one Python call each.
    columns = (text[name].tolist() for name in ("r", "c", "doc", "start", "end"))
    for r, c, doc, start, end in zip(*columns, strict=True):
        grouped.setdefault((r, c, doc), []).append((int(start), int(end)))
    return {k: merge_ranges(v) for k, v in grouped.items()}


def _span_measure(count: Callable[[Corpus, str, int, int], int]) -> Callable[..., pd.DataFrame]:
    def measure(corpus: Corpus, cells: pd.DataFrame, rows: Axis, cols: Axis) -> pd.DataFrame:
        import pandas as pd

        totals: dict[tuple[str, str], int] = {}
        for (r, c, doc), merged in _ranges(cells).items():
            totals[(r, c)] = totals.get((r, c), 0) + sum(count(corpus, doc, a, b) for a, b in merged)
        series = pd.Series(totals, dtype="int64")
        if len(series):
            series.index = pd.MultiIndex.from_tuples(list(totals), names=["r", "c"])
        return _grid(series, rows, cols, "int64")

    return measure


def _chars(corpus: Corpus, doc: str, start: int, end: int) -> int:
    return end - start


def _words(corpus: Corpus, doc: str, start: int, end: int) -> int:
    return count_words(corpus.texts.get(doc, "")[start:end])


def _denominator(corpus: Corpus, rows: Axis, cols: Axis) -> pd.DataFrame:
    import pandas as pd

    if rows.docs is None and cols.docs is None:
        raise UsageError("coverage needs sources, cases or a variable on one axis")
    everything = frozenset(corpus.source_chars)
    data = [
        [
            sum(
                corpus.source_chars.get(s, 0)
                for s in (rows.docs or {}).get(r, everything) & (cols.docs or {}).get(c, everything)
            )
            for c in cols.keys
        ]
        for r in rows.keys
    ]
    return pd.DataFrame(data, index=rows.keys, columns=cols.keys, dtype="float64")


def _coverage(corpus: Corpus, cells: pd.DataFrame, rows: Axis, cols: Axis) -> pd.DataFrame:
    chars = _span_measure(_chars)(corpus, cells, rows, cols).astype("float64")
    denom = _denominator(corpus, rows, cols)
    return (chars * 100.0).div(denom.where(denom > 0)).fillna(0.0)


def _references(corpus: Corpus, cells: pd.DataFrame, rows: Axis, cols: Axis) -> pd.DataFrame:
    return _grid(cells.groupby(["r", "c"])["coding"].nunique(), rows, cols, "int64")


def _presence(corpus: Corpus, cells: pd.DataFrame, rows: Axis, cols: Axis) -> pd.DataFrame:
    return (_references(corpus, cells, rows, cols) > 0).astype("int64")


def _pct(along: Literal[0, 1]) -> Callable[..., pd.DataFrame]:
    def measure(corpus: Corpus, cells: pd.DataFrame, rows: Axis, cols: Axis) -> pd.DataFrame:
        refs = _references(corpus, cells, rows, cols).astype("float64")
        totals = refs.sum(axis=along)
        share = refs.div(totals.where(totals > 0), axis=0 if along == 1 else 1)
        return (share * 100.0).fillna(0.0)

    return measure


_MEASURES: dict[str, Callable[..., pd.DataFrame]] = {
    "references": _references,
    "sources": _nunique("source"),
    "cases": _cases,
    "words": _span_measure(_words),
    "characters": _span_measure(_chars),
    "coverage": _coverage,
    "presence": _presence,
    "row-pct": _pct(1),
    "col-pct": _pct(0),
}


def matrix_from(
    corpus: Corpus,
    *,
    rows: str = "codes",
    cols: str = "sources",
    value: CellValue = "references",
    level: str | int | None = None,
    cooccur: CooccurMode = "overlap",
    rollup: bool = False,
) -> pd.DataFrame:
    """:func:`matrix` over a prepared :class:`~qdx.analysis._codings.Corpus` (reused by reports)."""
    if value not in _MEASURES and value != "c-coefficient":
        raise UsageError(f"unknown cell value {value!r}; choose one of {', '.join(VALUES)}")
    if rows == "codes" and cols == "codes":
        return cooccurrence_from(corpus, level=level, mode=cooccur, value=value)
    if value == "c-coefficient":
        raise UsageError("c-coefficient needs codes on both axes (a co-occurrence table)")
    row_axis, col_axis = axis(corpus, rows, level, rollup), axis(corpus, cols, level, rollup)
    frame = _MEASURES[value](corpus, _cells(corpus, row_axis, col_axis), row_axis, col_axis)
    return label(frame, row_axis, col_axis, value)


TOTAL = "Total"


def _pooled(ax: Axis) -> Axis:
    """One member standing for every member of ``ax`` (each coding once)."""
    links = ax.links.assign(key=TOTAL).drop_duplicates()
    docs = None if ax.docs is None else {TOTAL: frozenset().union(*ax.docs.values())}
    return Axis(ax.kind, [TOTAL], [TOTAL], links, docs)


def matrix_totals(
    corpus: Corpus,
    *,
    rows: str = "codes",
    cols: str = "sources",
    value: str = "references",
    level: str | int | None = None,
    rollup: bool = False,
) -> tuple[list[float], list[float], float]:
    """The Total column, Total row and grand total of a matrix, each the same measure taken
    over the pooled codings (every coding counted once), not a sum of cells: a rolled-up
    category row and its children are not counted twice, and sources/coverage/percentages
    pool correctly.

    Returns:
        (one total per row, one total per column, the grand total).

    Raises:
        UsageError: code × code matrices have no totals; an unknown axis or value.
    """
    if (rows == "codes" and cols == "codes") or value not in _MEASURES:
        raise UsageError(f"no totals for a {rows} × {cols} matrix of {value}")
    row_axis, col_axis = axis(corpus, rows, level, rollup), axis(corpus, cols, level, rollup)
    all_rows, all_cols = _pooled(row_axis), _pooled(col_axis)
    measure = _MEASURES[value]
    by_row = measure(corpus, _cells(corpus, row_axis, all_cols), row_axis, all_cols)
    by_col = measure(corpus, _cells(corpus, all_rows, col_axis), all_rows, col_axis)
    grand = measure(corpus, _cells(corpus, all_rows, all_cols), all_rows, all_cols)
    return by_row.iloc[:, 0].tolist(), by_col.iloc[0, :].tolist(), float(grand.to_numpy()[0, 0])


def matrix(
    project: Project,
    *,
    rows: str = "codes",
    cols: str = "sources",
    value: CellValue = "references",
    level: Level | int | None = None,
    set_name: str | None = None,
    coder: str | None = None,
    cooccur: CooccurMode = "overlap",
    rollup: bool = False,
) -> pd.DataFrame:
    """A coding matrix as a DataFrame (rows × columns, one number per cell).

    Args:
        project: the project (not modified).
        rows: ``codes``, ``sources``, ``cases`` or ``variable:NAME``.
        cols: the same choices; ``codes`` against ``codes`` gives co-occurrence.
        value: one of :data:`VALUES` (``c-coefficient`` too for code × code).
        level: restrict code members to ``concepts``, ``subcategories``, ``main`` or ``core``
            (or a depth, 0 = roots), rolling codings of descendants up to them.
        set_name: keep only codings in the Set of that name (member codes or sources).
        coder: keep only codings by this user name.
        cooccur: for code × code, ``overlap`` (overlapping passages) or ``document``.
        rollup: with codes and no level, every code's row counts the codings of its whole
            subtree (a category is not all zeros).

    Returns:
        A DataFrame indexed by row labels, with column labels; ``attrs`` holds ``row_keys``,
        ``col_keys`` (canonical GUIDs or values) and ``value``.

    Raises:
        UsageError: an unknown axis, value, level, set or variable.

    Example:
        >>> qdx.matrix(project, rows="codes", cols="sources", level="concepts")  # doctest: +SKIP
    """
    corpus = build_corpus(project, set_name=set_name, coder=coder)
    return matrix_from(corpus, rows=rows, cols=cols, value=value, level=level, cooccur=cooccur, rollup=rollup)
