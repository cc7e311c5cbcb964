"""Coding matrices: codes, sources, cases or a variable's values against each other.

The cell options are NVivo's Matrix Coding query options (METHODS.md §D.1, EXPORTS.md §e.1),
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

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from qdx.analysis._codings import Corpus, build_corpus, count_words, merge_ranges
from qdx.errors import UsageError
from qdx.model import Project, VariableValue, guid_key

if TYPE_CHECKING:
    import pandas as pd

VALUES = ("references", "sources", "cases", "words", "characters", "coverage", "presence", "row-pct", "col-pct")
AXES = ("codes", "sources", "cases", "variable:NAME")
NO_VALUE = "(no value)"


@dataclass(frozen=True, slots=True)
class Axis:
    """One side of a matrix: its members in order and which codings belong to which member.

    ``docs`` maps a member to the sources it stands for (None: every source), the coverage
    denominator.
    """

    kind: str
    keys: list[str]
    labels: list[str]
    links: pd.DataFrame
    docs: dict[str, frozenset[str]] | None


def unique_labels(names: Sequence[str], alternates: Sequence[str]) -> list[str]:
    """``names``, with duplicates replaced by their alternate (then numbered) so labels are unique."""
    seen: dict[str, int] = {}
    for name in names:
        seen[name] = seen.get(name, 0) + 1
    out: list[str] = []
    used: set[str] = set()
    for name, alt in zip(names, alternates, strict=True):
        label = name if seen[name] == 1 else alt
        base, n = label, 2
        while label in used:
            label, n = f"{base} ({n})", n + 1
        used.add(label)
        out.append(label)
    return out


def _links(pairs: list[tuple[str, str]]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(pairs, columns=["coding", "key"], dtype=object)


def _code_axis(corpus: Corpus, level: str | int | None, rollup: bool = False) -> Axis:
    tree = corpus.tree
    codings = corpus.codings
    if level is None and rollup:  # every code, a category standing for its whole subtree
        keys = list(tree.order)
        pairs = [(c, a) for c, k in zip(codings["coding"], codings["code"], strict=True) for a in tree.paths.get(k, ())]
    elif level is None:
        keys = list(tree.order)
        pairs = [(c, k) for c, k in zip(codings["coding"], codings["code"], strict=True) if k in tree.paths]
    else:
        depth = tree.depth(level)
        keys = tree.at_depth(depth)
        mapped = ((c, tree.ancestor(k, depth)) for c, k in zip(codings["coding"], codings["code"], strict=True))
        pairs = [(c, a) for c, a in mapped if a is not None]
    names = [tree.label(k) for k in keys]
    paths = ["\\".join(tree.label(p) for p in tree.paths[k]) for k in keys]
    return Axis("codes", keys, unique_labels(names, paths), _links(pairs), None)


def _in_scope(corpus: Corpus, keys: list[str], docs: dict[str, frozenset[str]]) -> list[str]:
    """``keys`` whose sources the filters keep (a filtered matrix drops excluded columns)."""
    if corpus.scope is None:
        return keys
    return [k for k in keys if docs.get(k, frozenset()) & corpus.scope]


def _source_axis(corpus: Corpus) -> Axis:
    keys = _in_scope(corpus, list(corpus.source_names), {k: frozenset({k}) for k in corpus.source_names})
    names = [corpus.source_names[k] for k in keys]
    pairs = list(zip(corpus.codings["coding"], corpus.codings["source"], strict=True))
    docs = {k: frozenset({k}) for k in keys}
    return Axis(
        "sources",
        keys,
        unique_labels(names, [f"{n} [{k[:8]}]" for n, k in zip(names, keys, strict=True)]),
        _links(pairs),
        docs,
    )


def _case_axis(corpus: Corpus) -> Axis:
    keys = _in_scope(corpus, list(corpus.case_names), dict(corpus.case_sources))
    names = [corpus.case_names[k] for k in keys]
    links = corpus.case_links.rename(columns={"case": "key"})
    return Axis(
        "cases",
        keys,
        unique_labels(names, [f"{n} [{k[:8]}]" for n, k in zip(names, keys, strict=True)]),
        links,
        dict(corpus.case_sources),
    )


def _sort_values(values: set[str], numeric: bool) -> list[str]:
    if numeric:

        def as_number(v: str) -> tuple[int, float, str]:
            try:
                return (0, float(v), v)
            except ValueError:
                return (1, 0.0, v)

        return sorted(values, key=as_number)
    return sorted(values)


def _variable_values(project: Project, wanted: set[str]) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Values of the wanted variable per source (its own) and per case."""
    def values(vvs: tuple[VariableValue, ...]) -> set[str]:
        return {vv.value for vv in vvs if guid_key(vv.variable) in wanted and vv.value is not None}

    by_source = {guid_key(s.guid): values(s.variable_values) for s in project.sources}
    by_case = {guid_key(c.guid): values(c.variable_values) for c in project.cases}
    return {k: v for k, v in by_source.items() if v}, by_case


def _value_docs(corpus: Corpus, source_values: dict[str, set[str]],
                case_values: dict[str, set[str]]) -> dict[str, set[str]]:
    """Per value, the sources that have it (their own, or through a case)."""
    docs: dict[str, set[str]] = {}
    for src, vals in source_values.items():
        for v in vals:
            docs.setdefault(v, set()).add(src)
    for case, vals in case_values.items():
        for v in vals:
            docs.setdefault(v, set()).update(corpus.case_sources.get(case, frozenset()))
    return docs


def _variable_axis(corpus: Corpus, name: str) -> Axis:
    """Values of variable ``name``: a source's own value, else the values of its cases."""
    project = corpus.project
    wanted = {guid_key(v.guid): v for v in project.variables if v.name == name}
    if not wanted:
        known = ", ".join(sorted(v.name for v in project.variables)) or "none"
        raise UsageError(f"no variable named {name!r} (variables: {known})")
    source_values, case_values = _variable_values(project, set(wanted))
    by_coding: dict[str, set[str]] = {}
    for coding, case in zip(corpus.case_links["coding"], corpus.case_links["case"], strict=True):
        by_coding.setdefault(coding, set()).update(case_values.get(case, set()))
    pairs: list[tuple[str, str]] = []
    for coding, source in zip(corpus.codings["coding"], corpus.codings["source"], strict=True):
        values = source_values.get(source) or by_coding.get(coding) or {NO_VALUE}
        pairs.extend((coding, v) for v in sorted(values))
    docs = _value_docs(corpus, source_values, case_values)
    numeric = all(v.type.value in ("Integer", "Float") for v in wanted.values())
    frozen = {k: frozenset(v) for k, v in docs.items()}
    keys = _in_scope(corpus, _sort_values(set(docs), numeric), frozen)
    if any(v == NO_VALUE for _, v in pairs):
        keys.append(NO_VALUE)
        docs[NO_VALUE] = set(corpus.source_chars) - {s for d in docs.values() for s in d}
    return Axis(f"variable:{name}", keys, list(keys), _links(pairs), {k: frozenset(v) for k, v in docs.items()})


def axis(corpus: Corpus, spec: str, level: str | int | None = None, rollup: bool = False) -> Axis:
    """The :class:`Axis` for ``codes``, ``sources``, ``cases`` or ``variable:NAME``.

    ``rollup`` (codes, no level): every code, counting the codings of its whole subtree.

    Raises:
        UsageError: an unknown axis or variable.
    """
    if spec == "codes":
        return _code_axis(corpus, level, rollup)
    if spec == "sources":
        return _source_axis(corpus)
    if spec == "cases":
        return _case_axis(corpus)
    if spec.startswith("variable:") and spec[len("variable:") :]:
        return _variable_axis(corpus, spec[len("variable:") :])
    raise UsageError(f"unknown matrix axis {spec!r}; choose one of {', '.join(AXES)}")


# --------------------------------------------------------------------------- cell measures


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
    for r, c, doc, start, end in zip(text["r"], text["c"], text["doc"], text["start"], text["end"], strict=True):
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
    value: str = "references",
    level: str | int | None = None,
    cooccur: str = "overlap",
    rollup: bool = False,
) -> pd.DataFrame:
    """:func:`matrix` over a prepared :class:`~qdx.analysis._codings.Corpus` (reused by reports)."""
    if value not in _MEASURES and value != "c-coefficient":
        raise UsageError(f"unknown cell value {value!r}; choose one of {', '.join(VALUES)}")
    if rows == "codes" and cols == "codes":
        from qdx.analysis.cooccurrence import cooccurrence_from

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


def label(frame: pd.DataFrame, rows: Axis, cols: Axis, value: str) -> pd.DataFrame:
    """Swap member keys for labels; keep the keys and the measure in ``frame.attrs``."""
    out = frame.copy()
    out.index = list(rows.labels)
    out.columns = list(cols.labels)
    out.index.name = rows.kind
    out.columns.name = cols.kind
    out.attrs.update(value=value, row_keys=list(rows.keys), col_keys=list(cols.keys))
    return out


def matrix(
    project: Project,
    *,
    rows: str = "codes",
    cols: str = "sources",
    value: str = "references",
    level: str | int | None = None,
    set_name: str | None = None,
    coder: str | None = None,
    cooccur: str = "overlap",
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
