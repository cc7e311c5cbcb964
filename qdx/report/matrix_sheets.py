"""The report's count sheets: Matrix, Coverage, Co-occurrence, C-coefficient, Presence by case
and Matrix by a variable (docs/methods.md §D.4).

Each counts at one level of the code tree: the level ``qdx report --level`` names, else the
sheet's own default (the concepts of a grounded-theory tree for the matrices, its main
categories for Coverage). A code above that level with codings of its own keeps its own row,
so every matrix's grand total is every coding exactly once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qdx.analysis._codings import merge_ranges
from qdx.analysis.cooccurrence import cooccurrence_from, pairs_from
from qdx.analysis.matrix import matrix_from
from qdx.report._report_ctx import ReportContext, reported_counts
from qdx.report.levels import ancestor_columns
from qdx.report.sheets import COEFF, COUNT, PERCENT, Table, table_from_frame, table_from_rows

if TYPE_CHECKING:
    import pandas as pd

NA = "n/a"
# How many of the strongest co-occurring pairs the Overview names.
STRONGEST = 3
# Pairs listed per level: a 1,800-code level can have 170,000 co-occurring pairs, a sheet of
# thousands of printed pages; the strongest come first, and a note says how many were left out.
MAX_PAIRS = 500


def _row_level(ctx: ReportContext) -> str | int | None:
    """The level the matrices' rows are at: --level's, else a grounded-theory tree's concepts."""
    if ctx.depth is not None:
        return ctx.depth
    if not ctx.names.grounded:
        return None
    tree = ctx.corpus.tree
    try:
        depth = tree.depth("concepts")
    except Exception:  # a tree without the GT levels
        return None
    return "concepts" if tree.at_depth(depth) else None


def _level_words(ctx: ReportContext, level: str | int | None) -> str:
    return f"{ctx.names.of(level)} level" if level is not None else "every code"


def _matrix_table(ctx: ReportContext, title: str, frame: pd.DataFrame, level: str | int | None,
                  total: str = "Total", percent: bool = False) -> Table:
    """A code × something count matrix with level columns, a Total column and a Total row;
    ``percent`` adds each column's share of its column total (NVivo's column percentage)."""
    keys = list(frame.attrs["row_keys"])
    cols, labels = ancestor_columns(ctx.corpus.tree, ctx.names, keys, level)
    values = frame.to_numpy().tolist()
    col_totals = [int(v) for v in frame.sum(axis=0).tolist()]
    grand = sum(col_totals)
    rows: list[list[object]] = []
    for lab, vals in zip([*labels, ["Total", *[None] * (len(cols) - 1)]], [*values, col_totals], strict=True):
        counts = [*vals, sum(vals)]
        shares = [c / d if d else NA for c, d in zip(counts, [*col_totals, grand], strict=True)] if percent else []
        rows.append([*lab, *counts, *shares])
    names = list(map(str, frame.columns))
    header = [*cols, *names, total, *([f"% of {n}" for n in [*names, total]] if percent else [])]
    counted = len(cols) + len(names) + 1
    formats = {**dict.fromkeys(range(len(cols), counted), COUNT), **dict.fromkeys(range(counted, len(header)), PERCENT)}
    return table_from_rows(title, header, rows, formats=formats,
                           heat=(len(cols), len(cols) + len(names) - 1) if names else None,
                           label_cols=len(cols), totals=1)


def code_matrix(ctx: ReportContext, cols: str) -> tuple[pd.DataFrame, str | int | None]:
    """References of codes × ``cols`` that count every coding exactly once.

    Rows are the codes at the row level (codings below them rolled up) and, in tree order among
    them, any code above it that has codings of its own (GT6's "direct coding on a category"),
    so the grand total is always the number of codings. Without a row level (a tree that is not
    a grounded-theory tree, no --level) one row per code that has codings or is a leaf.
    """
    import pandas as pd

    level = _row_level(ctx)
    own = matrix_from(ctx.corpus, rows="codes", cols=cols, value="references", level=None)
    tree = ctx.corpus.tree
    own_rows = dict(zip(own.attrs["row_keys"], own.to_numpy().tolist(), strict=True))
    if level is None:
        parents = {p[-2] for p in tree.paths.values() if len(p) > 1}
        keep = [k for k in own.attrs["row_keys"] if k not in parents or sum(own_rows[k]) > 0]
        position = {k: i for i, k in enumerate(own.attrs["row_keys"])}
        frame = own.iloc[[position[k] for k in keep]].copy()
        frame.attrs.update(own.attrs)
        frame.attrs["row_keys"] = keep
        return frame, None
    at_level = matrix_from(ctx.corpus, rows="codes", cols=cols, value="references", level=level)
    depth = tree.depth(level)
    level_rows = dict(zip(at_level.attrs["row_keys"], at_level.to_numpy().tolist(), strict=True))
    keys = [k for k in tree.order if k in level_rows
            or (len(tree.paths[k]) <= depth and sum(own_rows.get(k, ())) > 0)]
    frame = pd.DataFrame([level_rows[k] if k in level_rows else own_rows[k] for k in keys],
                         index=keys, columns=at_level.columns)
    frame.attrs.update(value="references", row_keys=keys, col_keys=at_level.attrs["col_keys"])
    return frame, level


def sheet_matrix(ctx: ReportContext) -> Table:
    if reported_counts(ctx.project) is not None:
        # A matrix of zeros would contradict the reported counts: say what there is instead.
        note = ("no coding data: the input is a codebook export without sources, so there is no code x "
                "source matrix; the counts the export reports are on the Codebook sheet")
        ctx.about.append(("Matrix", note))
        ctx.report.notes.append(note)
        return Table("Matrix", ["note"], [[note]], wrap=(0,))
    frame, level = code_matrix(ctx, "sources")
    total = int(frame.to_numpy().sum())
    ctx.report.matrix_total, ctx.report.codings = total, len(ctx.corpus.codings)
    rows = (f"each code at the {ctx.names.of(level)} level (codings of codes below it rolled up)"
            if level is not None else "each code")
    ctx.about.append(("Matrix", f"Coding references: the number of codings of {rows} in each source; a "
                      "code above that level coded directly has its own row with the columns below it "
                      "blank. Total column/row: sums. Grand total "
                      f"{total} = the {len(ctx.corpus.codings)} codings in the project."))
    table = _matrix_table(ctx, "Matrix", frame, level)
    caption = ", ".join(p for p in (ctx.options.filters(), f"rows at the {ctx.names.of(level)} level"
                                    if ctx.depth is not None and level is not None else "") if p)
    if caption:
        table.caption = f"Coding references, {caption}"
    return table


def _any_code_coverage(ctx: ReportContext, keys: list[str]) -> list[float | None]:
    char = ctx.corpus.codings[ctx.corpus.codings["unit"] == "char"]
    ranges: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for src, doc, a, b in zip(*(char[name].tolist() for name in ("source", "doc", "start", "end")), strict=True):
        ranges.setdefault((src, doc), []).append((int(a), int(b)))
    coded: dict[str, int] = {}
    for (src, _), spans in ranges.items():
        coded[src] = coded.get(src, 0) + sum(b - a for a, b in merge_ranges(spans))
    chars = ctx.corpus.source_chars
    return [coded.get(k, 0) / chars[k] if chars.get(k) else None for k in keys]


def sheet_coverage(ctx: ReportContext) -> Table:
    tree = ctx.corpus.tree
    level: str | int = ctx.depth if ctx.depth is not None else "main" if ctx.names.grounded else 0
    frame = matrix_from(ctx.corpus, rows="codes", cols="sources", value="coverage", level=level) / 100.0
    rows: list[list[object]] = [[str(lab), *vals] for lab, vals in zip(frame.index, frame.to_numpy().tolist(),
                                                                      strict=True)]
    rows.append(["Any code", *_any_code_coverage(ctx, list(frame.attrs["col_keys"]))])
    name = ctx.names.of(level) if tree.order else "code"
    ctx.about.append(("Coverage", f"Characters of a source coded by a {name} (its own codings and "
                      "all codings below it; overlapping passages counted once) ÷ all text characters "
                      "of the source. 'Any code': characters coded by anything ÷ all characters."))
    ncols = len(frame.columns)
    return table_from_rows("Coverage", [name, *map(str, frame.columns)], rows,
                           formats=dict.fromkeys(range(1, ncols + 1), PERCENT), heat=(1, ncols) if ncols else None,
                           totals=1)


def _cooccur_levels(ctx: ReportContext) -> list[tuple[str, str | int]]:
    """The levels the Co-occurrence sheet lists pairs at: --level's, else the three below the
    core (main category, subcategory, concept, or Level 1 to 3), those the tree has."""
    tree = ctx.corpus.tree
    if ctx.depth is not None:
        return [(ctx.names.at(ctx.depth), ctx.depth)]
    wanted: list[str | int] = ["main", "subcategories", "concepts"] if ctx.names.grounded else [0, 1, 2]
    found: list[tuple[str, str | int]] = []
    for level in wanted:
        try:
            if tree.at_depth(tree.depth(level)):
                found.append((ctx.names.of(level), level))
        except Exception:
            continue
    return found or [("code", 0)]


def _pairs(ctx: ReportContext, level: str | int) -> pd.DataFrame:
    if level not in ctx.pairs:  # the Overview and the Co-occurrence sheet share one count
        ctx.pairs[level] = pairs_from(ctx.corpus, level=level, mode="overlap")
    return ctx.pairs[level]


def strongest_pairs(ctx: ReportContext) -> list[list[object]]:
    """Overview rows: the strongest co-occurring pairs at the finest level listed (c-coefficient,
    then passages), or a row saying none co-occur."""
    name, level = _cooccur_levels(ctx)[-1]
    pairs = _pairs(ctx, level)
    found = pairs[pairs["n_ab"] > 0].sort_values(["c", "n_ab"], ascending=[False, False], kind="stable")
    item = f"Strongest co-occurrence ({name})"
    if found.empty:
        return [[item, f"none: no two codes at the {name} level overlap"]]
    return [[f"{item} {i}", f"{r.code_a} + {r.code_b}: c = {r.c:.3f} ({r.n_ab} overlapping pairs of passages)"]
            for i, r in enumerate(found.head(STRONGEST).itertuples(), start=1)]


def sheet_pairs(ctx: ReportContext) -> Table:
    import pandas as pd

    parts, notes = [], []
    for name, level in _cooccur_levels(ctx):
        pairs = _pairs(ctx, level)
        if len(pairs) > MAX_PAIRS:  # pairs_from sorts strongest first
            notes.append(f"{name}: the {MAX_PAIRS} strongest of {len(pairs)} co-occurring pairs; every pair: "
                         "qdx matrix --rows codes --cols codes --value c-coefficient --level LEVEL")
        pairs = pairs.head(MAX_PAIRS).copy()
        pairs.insert(0, "level", name)
        parts.append(pairs)
    frame = pd.concat(parts, ignore_index=True)
    frame["out_of_range"] = frame["out_of_range"].map({True: "yes", False: None})
    frame.columns = ["level", "code A", "code B", "n A", "n B", "n AB", "c-coefficient", "out of range"]
    order = {name: i for i, (name, _) in enumerate(_cooccur_levels(ctx))}  # top level first
    frame = frame.sort_values(["level", "c-coefficient", "n AB"], ascending=[True, False, False], kind="stable",
                              key=lambda col: col.map(order) if col.name == "level" else col)
    ctx.about.append(("Co-occurrence", "n AB: pairs of coded passages, one of each code (codings rolled "
                      "up to the level), that overlap by at least one character in the same source; "
                      "n A, n B: references of each code. c = n AB / (n A + n B − n AB) (ATLAS.ti), "
                      "clamped to 1 and marked 'out of range' when n AB > min(n A, n B). Strongest pairs "
                      f"first within each level, at most {MAX_PAIRS} per level (a note under the table says "
                      "when more exist); the Overview names the strongest at the finest level."))
    return table_from_frame("Co-occurrence", frame, formats={3: COUNT, 4: COUNT, 5: COUNT, 6: COEFF},
                            heat=(6, 6), label_cols=3, notes=notes)


def sheet_ccoef(ctx: ReportContext) -> Table:
    levels = _cooccur_levels(ctx)
    name, level = levels[min(1, len(levels) - 1)]  # the middle level: a readable square
    frame = cooccurrence_from(ctx.corpus, level=level, mode="overlap", value="c-coefficient")
    values = frame.to_numpy().tolist()
    for i, row in enumerate(values):  # the diagonal (a code with itself) is 1 by definition:
        row[i] = None                 # blank it, so the colour scale shows the real pairs
    rows: list[list[object]] = [[str(lab), *vals] for lab, vals in zip(frame.index, values, strict=True)]
    ctx.about.append(("C-coefficient", f"c-coefficient per pair of codes at level '{name}' (overlap mode); "
                      "the diagonal is left blank (a code with itself is 1 by definition) so the colours "
                      "compare real pairs."))
    n = len(frame.columns)
    return table_from_rows("C-coefficient", [name, *map(str, frame.columns)], rows,
                           formats=dict.fromkeys(range(1, n + 1), COEFF), heat=(1, n) if n else None)


def sheet_presence(ctx: ReportContext) -> Table | None:
    """Case × code presence: 1 when any passage of the code (or below it) is in the case."""
    if not ctx.project.cases or reported_counts(ctx.project) is not None:
        return None
    frame, level = code_matrix(ctx, "cases")
    present = (frame > 0).astype(int)
    present.attrs.update(frame.attrs)
    ctx.about.append(("Presence", f"1 when the case holds at least one coding of the code ({_level_words(ctx, level)}, "
                      "codings below it rolled up), else 0 — a 0/1 table for case-oriented analysis. "
                      "Cases column: cases holding the code; Codes row: codes present in the case."))
    table = _matrix_table(ctx, "Presence", present, level, total="Cases")
    table.columns[0][-1] = "Codes present"
    return table


def _pick_variable(ctx: ReportContext) -> str | None:
    import re

    hint = re.compile(r"gender|sex|性别", re.IGNORECASE)
    project = ctx.project
    for var in project.variables:
        if hint.search(var.name):
            return var.name
    for var in project.variables:
        values = {vv.value for c in project.cases for vv in c.variable_values if vv.variable == var.guid}
        if 2 <= len(values) <= 12:
            return var.name
    return None


def sheet_by_variable(ctx: ReportContext) -> Table | None:
    name = _pick_variable(ctx)
    if name is None:
        return None
    frame, level = code_matrix(ctx, f"variable:{name}")
    ctx.about.append((f"Matrix by {name}", f"Coding references per value of variable '{name}' (a source's "
                      "own value, else the values of the cases holding the coded passage), then each "
                      "count as a share of its column's total (NVivo's column percentage), so groups of "
                      "different sizes compare; n/a: a column without codings."))
    return _matrix_table(ctx, f"Matrix by {name}", frame, level, percent=True)


__all__ = ["code_matrix", "sheet_by_variable", "sheet_ccoef", "sheet_coverage",
           "sheet_matrix", "sheet_pairs", "sheet_presence", "strongest_pairs"]
