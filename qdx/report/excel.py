"""The qdx report workbook: one ``.xlsx`` with everything a qualitative study reports.

Sheets (docs/methods.md §D.4): Overview, Codebook, Matrix (concepts ×
sources, references, with totals), Coverage (% of each source's characters coded per main
category), Co-occurrence (pairs, counts and c-coefficient) and C-coefficient (matrix),
Segments (the quote table), Cases, Matrix by a variable, then Structure, Audit, Saturation
and Agreement when those analyses exist and apply, and About (how every number was made).

>>> write_report_file(qdx.read("study.qdpx"), "report.xlsx")   # doctest: +SKIP
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING

from qdx import __version__
from qdx.analysis._codings import Corpus, Tree, build_corpus, merge_ranges
from qdx.analysis.cooccurrence import cooccurrence_from, pairs_from
from qdx.analysis.matrix import matrix_from
from qdx.errors import UsageError
from qdx.model import CodeCount, Project, guid_key
from qdx.options import StepProgress
from qdx.report.frames import cases_frame, codes_frame, segment_columns
from qdx.report.levels import LevelNames, is_grounded
from qdx.report.optional import ReportOptions, headlines, optional_results, result_tables
from qdx.report.sheets import COEFF, COUNT, PERCENT, Book, Table, table_from_frame, table_from_rows
from qdx.safety import atomic_write

if TYPE_CHECKING:
    import pandas as pd

Progress = StepProgress  # called with each step's name as it starts
_VARIABLE_HINT = re.compile(r"gender|sex|性别", re.IGNORECASE)


@dataclass(slots=True)
class Report:
    """What was written: sheet names, the matrix grand total, and notes for the caller."""

    sheets: list[str] = field(default_factory=list)
    matrix_total: int = 0
    codings: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Ctx:
    project: Project
    corpus: Corpus
    names: LevelNames
    about: list[tuple[str, str]] = field(default_factory=list)
    report: Report = field(default_factory=Report)
    compare: Project | None = None
    results: list[tuple[str, object]] = field(default_factory=list)
    optional_about: list[tuple[str, str]] = field(default_factory=list)
    options: ReportOptions = field(default_factory=ReportOptions)


def _row_level(ctx: _Ctx) -> str | int | None:
    """The concept level of a grounded-theory tree that reaches it, else every code."""
    if not ctx.names.grounded:
        return None
    tree = ctx.corpus.tree
    try:
        depth = tree.depth("concepts")
    except Exception:  # a tree without the GT levels
        return None
    return "concepts" if tree.at_depth(depth) else None


def ancestor_columns(tree: Tree, names: LevelNames, keys: list[str],
                     level: str | int | None) -> tuple[list[str], list[list[str | None]]]:
    """Level columns (display names) and, per row key, its ancestors' names down to itself."""
    # The core is on every row: leave its column out, unless the core is itself a row.
    first = 1 if tree.has_core and len(tree.column_names()) > 1 and all(len(tree.paths[k]) > 1 for k in keys) else 0
    depth = tree.depth(level) if level is not None else len(tree.column_names()) - 1
    cols = [names.at(d) for d in range(first, depth + 1)]
    width = depth + 1 - first
    labels: list[list[str | None]] = [[tree.label(p) for p in tree.paths[k][first : depth + 1]] for k in keys]
    return cols, [[*lab, *[None] * (width - len(lab))] for lab in labels]  # a category row: blank below


def _matrix_table(ctx: _Ctx, title: str, frame: pd.DataFrame, level: str | int | None) -> Table:
    """A code × something count matrix with level columns, a Total column and a Total row."""
    keys = list(frame.attrs["row_keys"])
    cols, labels = ancestor_columns(ctx.corpus.tree, ctx.names, keys, level)
    values = frame.to_numpy().tolist()
    rows: list[list[object]] = [[*lab, *vals, sum(vals)] for lab, vals in zip(labels, values, strict=True)]
    col_totals = [int(v) for v in frame.sum(axis=0).tolist()]
    rows.append(["Total", *[None] * (len(cols) - 1), *col_totals, sum(col_totals)])
    width = len(cols) + len(frame.columns) + 1
    return table_from_rows(title, [*cols, *map(str, frame.columns), "Total"], rows,
                           formats=dict.fromkeys(range(len(cols), width), COUNT),
                           heat=(len(cols), len(cols) + len(frame.columns) - 1) if len(frame.columns) else None,
                           label_cols=len(cols), totals=1)


def _code_matrix(ctx: _Ctx, cols: str) -> tuple[pd.DataFrame, str | int | None]:
    """References of codes × ``cols`` that count every coding exactly once.

    Rows are the concepts (codings below them rolled up) and, in tree order among them, any
    code above the concept level that has codings of its own (GT6's "direct coding on a
    category"), so the grand total is always the number of codings. A tree that is not a
    grounded-theory tree gets one row per code that has codings or is a leaf.
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
    concepts = matrix_from(ctx.corpus, rows="codes", cols=cols, value="references", level=level)
    depth = tree.depth(level)
    concept_rows = dict(zip(concepts.attrs["row_keys"], concepts.to_numpy().tolist(), strict=True))
    keys = [k for k in tree.order if k in concept_rows
            or (len(tree.paths[k]) <= depth and sum(own_rows.get(k, ())) > 0)]
    frame = pd.DataFrame([concept_rows[k] if k in concept_rows else own_rows[k] for k in keys],
                         index=keys, columns=concepts.columns)
    frame.attrs.update(value="references", row_keys=keys, col_keys=concepts.attrs["col_keys"])
    return frame, level


def _sheet_matrix(ctx: _Ctx) -> Table:
    if reported_counts(ctx.project) is not None:
        # A matrix of zeros would contradict the reported counts: say what there is instead.
        note = ("no coding data: the input is a codebook export without sources, so there is no code x "
                "source matrix; the counts the export reports are on the Codebook sheet")
        ctx.about.append(("Matrix", note))
        ctx.report.notes.append(note)
        return Table("Matrix", ["note"], [[note]], wrap=(0,))
    frame, level = _code_matrix(ctx, "sources")
    total = int(frame.to_numpy().sum())
    ctx.report.matrix_total, ctx.report.codings = total, len(ctx.corpus.codings)
    rows = "each concept (codings of codes below it rolled up)" if level else "each code"
    ctx.about.append(("Matrix", f"Coding references: the number of codings of {rows} in each source; a "
                      "category coded directly (not through a concept) has its own row with the concept "
                      "column blank. Total column/row: sums. Grand total "
                      f"{total} = the {len(ctx.corpus.codings)} codings in the project."))
    table = _matrix_table(ctx, "Matrix", frame, level)
    if ctx.options.filters():
        table.caption = f"Coding references, {ctx.options.filters()}"
    return table


def _any_code_coverage(ctx: _Ctx, keys: list[str]) -> list[float | None]:
    char = ctx.corpus.codings[ctx.corpus.codings["unit"] == "char"]
    ranges: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for src, doc, a, b in zip(char["source"], char["doc"], char["start"], char["end"], strict=True):
        ranges.setdefault((src, doc), []).append((int(a), int(b)))
    coded: dict[str, int] = {}
    for (src, _), spans in ranges.items():
        coded[src] = coded.get(src, 0) + sum(b - a for a, b in merge_ranges(spans))
    chars = ctx.corpus.source_chars
    return [coded.get(k, 0) / chars[k] if chars.get(k) else None for k in keys]


def _sheet_coverage(ctx: _Ctx) -> Table:
    tree = ctx.corpus.tree
    level: str | int = "main" if ctx.names.grounded else 0
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


def _cooccur_levels(ctx: _Ctx) -> list[tuple[str, str | int]]:
    tree = ctx.corpus.tree
    wanted: list[str | int] = ["main", "subcategories"] if ctx.names.grounded else [0, 1]
    found: list[tuple[str, str | int]] = []
    for level in wanted:
        try:
            if tree.at_depth(tree.depth(level)):
                found.append((ctx.names.of(level), level))
        except Exception:
            continue
    return found or [("code", 0)]


def _sheet_pairs(ctx: _Ctx) -> Table:
    parts = []
    for name, level in _cooccur_levels(ctx):
        pairs = pairs_from(ctx.corpus, level=level, mode="overlap")
        pairs.insert(0, "level", name)
        parts.append(pairs)
    import pandas as pd

    frame = pd.concat(parts, ignore_index=True)
    frame["out_of_range"] = frame["out_of_range"].map({True: "yes", False: None})
    frame.columns = ["level", "code A", "code B", "n A", "n B", "n AB", "c-coefficient", "out of range"]
    frame = frame.sort_values(["level", "c-coefficient", "n AB"], ascending=[True, False, False], kind="stable")
    ctx.about.append(("Co-occurrence", "n AB: pairs of coded passages, one of each code (codings rolled "
                      "up to the level), that overlap by at least one character in the same source; "
                      "n A, n B: references of each code. c = n AB / (n A + n B − n AB) (ATLAS.ti), "
                      "clamped to 1 and marked 'out of range' when n AB > min(n A, n B). Strongest pairs "
                      "first within each level."))
    return table_from_frame("Co-occurrence", frame, formats={3: COUNT, 4: COUNT, 5: COUNT, 6: COEFF},
                            heat=(6, 6), label_cols=3)


def _sheet_ccoef(ctx: _Ctx) -> Table:
    name, level = _cooccur_levels(ctx)[-1]
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


def reported_counts(project: Project) -> dict[str, CodeCount] | None:
    """The per-code counts an export reported (NVivo's Codebook.docx References/Files columns)
    when the input holds no coding data of its own, else None. The audit (CB1/CB2/CB7) uses the
    same counts, so the report and the audit agree on how often a code was applied."""
    provenance = project.provenance
    if project.sources or provenance is None:
        return None
    counts = {guid_key(c.code): c for c in provenance.code_counts if c.references is not None}
    return counts or None


def _sheet_codebook(ctx: _Ctx) -> Table:
    codes = codes_frame(ctx.corpus)
    rows: list[list[object]] = []
    colours: list[str | None] = []
    depths = [int(d) for d in codes["depth"]]
    reported = reported_counts(ctx.project)
    for rec, depth in zip(codes.to_dict("records"), depths, strict=True):
        counts: list[object] = [rec["references"], rec["references_total"], rec["sources"], rec["sources_total"]]
        if reported is not None:  # no codings here: the producer's counts, totals not derivable
            count = reported.get(guid_key(rec["guid"]))
            counts = [count.references if count else None, None, count.files if count else None, None]
        rows.append([rec["name"], rec["path"], ctx.names.at(depth), rec["description"],
                     "yes" if rec["is_codable"] else "no", *counts, rec["color"]])
        colours.append(rec["color"] if isinstance(rec["color"], str) else None)
    header = ["code", "code path", "level", "definition", "codable", "references", "references incl. children",
              "sources", "sources incl. children", "colour"]
    how = ("One row per code in tree order, indented by its depth, with its full path (so a filtered or "
           "printed row still says where it sits; group buttons on the left fold the tree). references: codings "
           "of the code itself; incl. children: of the code and every code below it. sources: distinct sources "
           "coded. colour: the code's colour as a fill.")
    if reported is not None:
        how += (" This input holds no codings (a codebook export): references and sources are the counts "
                "the export reports (NVivo's References and Files columns); totals incl. children are "
                "left blank because they cannot be derived from those counts.")
    ctx.about.append(("Codebook", how))
    return table_from_rows("Codebook", header, rows, formats=dict.fromkeys(range(5, 9), COUNT), outline=depths,
                           label_cols=1, wrap=(1, 3), fills={9: colours}, indent={0: depths},
                           max_widths={0: 30.0, 1: 32.0, 3: 50.0})


def _sheet_segments(ctx: _Ctx) -> Table:
    data = segment_columns(ctx.corpus)  # plain lists: no DataFrame round trip for the largest sheet
    levels = ctx.corpus.tree.column_names()[1 if ctx.corpus.tree.has_core else 0 :]
    cols = ["source", "labels", *levels, "code", "coder", "start", "end", "characters", "words", "cases", "text"]
    rename = ctx.names.rename()
    ctx.about.append(("Segments", "One row per coding (a code applied to a passage), in document order. "
                      "start/end: code points, end exclusive (REFI §10.2). labels: the A-i-j line labels "
                      "the passage spans. words: letters/digits joined by apostrophes, hyphens and full stops "
                      "(\"don't\", \"2024-01-05\" are one word), one per CJK character (README, Words)."))
    width = len(cols)
    return Table("Segments", [rename.get(c, c) for c in cols], [data[c] for c in cols],
                 formats={width - 6: COUNT, width - 5: COUNT, width - 4: COUNT, width - 3: COUNT},
                 label_cols=2, wrap=(width - 1,))


def _sheet_cases(ctx: _Ctx) -> Table:
    frame = cases_frame(ctx.corpus)
    ordered = [c for c in frame.columns if c != "guid"] + (["guid"] if "guid" in frame.columns else [])
    ctx.about.append(("Cases", "One row per case with its sources and one column per variable."))
    return table_from_frame("Cases", frame[ordered])


def _pick_variable(project: Project) -> str | None:
    names = [v.name for v in project.variables]
    for name in names:
        if _VARIABLE_HINT.search(name):
            return name
    for var in project.variables:
        values = {vv.value for c in project.cases for vv in c.variable_values if vv.variable == var.guid}
        if 2 <= len(values) <= 12:
            return var.name
    return None


def _sheet_by_variable(ctx: _Ctx) -> Table | None:
    name = _pick_variable(ctx.project)
    if name is None:
        return None
    frame, level = _code_matrix(ctx, f"variable:{name}")
    ctx.about.append((f"Matrix by {name}", f"Coding references per value of variable '{name}' (a source's "
                      "own value, else the values of the cases holding the coded passage)."))
    return _matrix_table(ctx, f"Matrix by {name}", frame, level)


def _sheet_overview(ctx: _Ctx, input_name: str | None) -> Table:
    from qdx.report.overview import overview_rows

    ctx.about.append(("Overview", "Facts about the project as read; codings = every Coding element "
                      "(REFI §3.13), the Matrix grand total counts the same codings."))
    levels = ("grounded-theory names" if ctx.names.grounded
              else "neutral names (Level 1, 2, ...): not a grounded-theory tree")
    rows: list[list[object]] = [*overview_rows(ctx.project, ctx.corpus, input_name, ctx.names.columns()),
            ["Level names", levels], ["Filter", ctx.options.filters() or "none: every coding"],
            *headlines(ctx.results)]
    return table_from_rows("Overview", ["item", "value"], rows, label_cols=1, max_widths={1: 60.0})


def _sheet_memos(ctx: _Ctx) -> Table | None:
    notes = ctx.project.notes
    if not notes:
        return None
    users = {guid_key(u.guid): u.name for u in ctx.project.users}
    rows = [[n.name, n.text, users.get(guid_key(n.creating_user)) if n.creating_user else None,
             n.creation_datetime] for n in notes]
    ctx.about.append(("Memos", "The project's memos (REFI notes), whole, in the order stored."))
    return table_from_rows("Memos", ["memo", "text", "author", "created"], rows, wrap=(1,),
                           max_widths={0: 30.0, 1: 80.0})


def _about(ctx: _Ctx) -> Table:
    rows: list[list[object]] = [[sheet, how] for sheet, how in ctx.about]
    rows += [["All", f"Written by qdx {__version__} on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. Positions "
              "are Unicode code points of the text as stored (REFI §10.2). Text cells that could run as "
              "formulas (starting = + - @) are stored as text."]]
    return table_from_rows("About", ["sheet", "how the numbers were computed"], rows, wrap=(1,))


def _tables(ctx: _Ctx, input_name: str | None, progress: Progress) -> Iterator[Table]:
    """Each sheet in turn, built when asked for: a writer drops one before the next is built."""
    builders: list[tuple[str, Callable[[], Table | None]]] = [
        ("Overview", lambda: _sheet_overview(ctx, input_name)),
        ("Codebook", lambda: _sheet_codebook(ctx)),
        ("Matrix", lambda: _sheet_matrix(ctx)),
        ("Coverage", lambda: _sheet_coverage(ctx)),
        ("Co-occurrence", lambda: _sheet_pairs(ctx)),
        ("C-coefficient", lambda: _sheet_ccoef(ctx)),
        ("Segments", lambda: _sheet_segments(ctx)),
        ("Cases", lambda: _sheet_cases(ctx)),
        ("Matrix by variable", lambda: _sheet_by_variable(ctx)),
        ("Memos", lambda: _sheet_memos(ctx)),
    ]
    for name, build in builders:
        progress(name)
        table = build()
        if table is not None:
            yield table
        table = None  # not kept alive while the next sheet is built
    yield from result_tables(ctx.project, ctx.results, ctx.options)
    ctx.about.extend(ctx.optional_about)  # after the sheets built above, in sheet order
    yield _about(ctx)


def _context(project: Project, compare: Project | None, progress: Progress,
             options: ReportOptions | None = None) -> _Ctx:
    chosen = options or ReportOptions()
    if chosen.holdout_set is not None and chosen.holdout_set not in {s.name for s in project.sets}:
        known = ", ".join(sorted(s.name for s in project.sets)) or "none"
        raise UsageError(f"no set named {chosen.holdout_set!r} to hold out (sets: {known})")
    progress("Reading codings")
    corpus = build_corpus(project, set_name=chosen.set_name, coder=chosen.coder)
    # The analyses run first (their results are small): the Overview, written first, states them.
    progress("Structure, audit, saturation, agreement")
    coders = corpus.codings["coder"].value_counts()
    ranked = sorted(((str(c), int(n)) for c, n in coders.items() if isinstance(c, str) and c),
                    key=lambda cn: (-cn[1], cn[0]))
    about: list[tuple[str, str]] = []
    results = optional_results(project, about, compare, coders=[c for c, _ in ranked], options=chosen)
    structure = next((r for title, r in results if title == "Structure"), None)
    names = LevelNames(corpus.tree, is_grounded(project, structure))
    return _Ctx(project, corpus, names, compare=compare, results=results, optional_about=about, options=chosen)


def build_tables(project: Project, *, input_name: str | None = None, progress: Progress | None = None,
                 compare: Project | None = None, options: ReportOptions | None = None) -> tuple[list[Table], Report]:
    """The report's sheets as :class:`~qdx.report.sheets.Table` s (not yet written) and its :class:`Report`."""
    step = progress or (lambda _name: None)
    ctx = _context(project, compare, step, options)
    return list(_tables(ctx, input_name, step)), ctx.report


def write_report(project: Project, stream: IO[bytes], *, input_name: str | None = None,
                 progress: Progress | None = None, compare: Project | None = None,
                 options: ReportOptions | None = None) -> Report:
    """Write the report workbook to a binary stream, each sheet as soon as it is built.

    Args:
        project: the project (not modified).
        stream: a writable binary stream.
        input_name: the file the project came from (shown on Overview).
        progress: called with the name of each step (the CLI draws a progress bar).
        compare: a second coder's project of the same sources, for the Agreement sheet.
        options: filters (set, coder), the held-out set and the core category.

    Returns:
        A :class:`Report` with the sheet names and the Matrix grand total.

    Raises:
        UsageError: no set of that name.
    """
    step = progress or (lambda _name: None)
    ctx = _context(project, compare, step, options)
    with Book(stream, project=project.name or input_name or "", title=f"qdx report: {project.name or ''}") as book:
        for table in _tables(ctx, input_name, step):
            step(f"Writing {table.title}")
            ctx.report.sheets.append(book.add(table))
            del table  # the next sheet is built without this one in memory
        step("Saving")
    return ctx.report


def write_report_file(project: Project, path: str | os.PathLike[str], *, input_name: str | None = None,
                      progress: Progress | None = None, compare: Project | None = None,
                      options: ReportOptions | None = None) -> Report:
    """Write the report workbook to ``path`` atomically (see :func:`write_report`).

    Raises:
        WriteError: the file cannot be written (an existing file is left intact).
        UsageError: no set of that name.
    """
    result: list[Report] = []
    atomic_write(path, lambda stream: result.append(write_report(project, stream, input_name=input_name,
                                                                 progress=progress, compare=compare,
                                                                 options=options)))
    return result[0]


__all__ = ["Report", "ReportOptions", "ancestor_columns", "build_tables", "write_report", "write_report_file"]
