"""The qdx report workbook: one ``.xlsx`` with everything a qualitative study reports.

Sheets (docs/methods.md §D.4): Overview, Codebook, Matrix (concepts ×
sources, references, with totals), Coverage (% of each source's characters coded per main
category), Co-occurrence (pairs, counts and c-coefficient) and C-coefficient (matrix),
Segments (the quote table), Cases, Presence (case × code, 0/1), Matrix by a variable (with
column percentages), Memos, then Structure, Audit, Saturation and Agreement when those
analyses exist and apply, and About (how every number was made). The count sheets are built
in :mod:`qdx.report.matrix_sheets`.

``qdx report --sheets`` chooses the sheets: ``full`` every sheet; ``thesis`` what a
thesis appendix prints (the summary tables, not the quote table, the raw case list, the
c-coefficient square, the memos or the quality checks); ``minimal`` Overview, Codebook, Matrix
and About.

>>> write_report_file(qdx.read("study.qdpx"), "report.xlsx")   # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO

from qdx import __version__
from qdx.analysis._codings import build_corpus
from qdx.errors import UsageError
from qdx.model import Project, guid_key
from qdx.options import REPORT_SHEETS, StepProgress
from qdx.report._report_ctx import Report, ReportContext, level_depth, reported_counts
from qdx.report.background import Background
from qdx.report.frames import cases_frame, codes_frame, segment_columns
from qdx.report.levels import LevelNames, ancestor_columns, is_grounded
from qdx.report.matrix_sheets import (
    sheet_by_variable,
    sheet_ccoef,
    sheet_coverage,
    sheet_matrix,
    sheet_pairs,
    sheet_presence,
    strongest_pairs,
)
from qdx.report.optional import ReportOptions, figures, headlines, optional_results, result_tables, shown
from qdx.report.sheets import COUNT, Book, Table, table_from_frame, table_from_rows
from qdx.safety import atomic_write

Progress = StepProgress  # called with each step's name as it starts
_Ctx = ReportContext

# The sheets of each set (--sheets), by the name of their builder (or analysis); None: every sheet.
SHEET_SETS: dict[str, frozenset[str] | None] = {
    "full": None,
    "thesis": frozenset({"Overview", "Codebook", "Matrix", "Coverage", "Co-occurrence", "Presence",
                         "Matrix by variable", "Saturation", "Agreement", "About"}),
    "minimal": frozenset({"Overview", "Codebook", "Matrix", "About"}),
}
_ALL_SHEETS = ("Overview", "Codebook", "Matrix", "Coverage", "Co-occurrence", "C-coefficient", "Segments",
               "Cases", "Presence", "Matrix by variable", "Memos", "Structure", "Audit", "Saturation",
               "Agreement", "About")


def _chosen(ctx: _Ctx, name: str) -> bool:
    chosen = SHEET_SETS[ctx.options.sheets]
    return chosen is None or name in chosen


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


def _level_row(ctx: _Ctx) -> list[object]:
    if ctx.depth is None:
        return ["Level", "each sheet's own: concepts in the matrices, main categories in Coverage"
                if ctx.names.grounded else "each sheet's own: every code in the matrices, Level 1 in Coverage"]
    return ["Level", f"{ctx.names.at(ctx.depth)}: matrices, coverage and co-occurrence count at this level "
            "(codings below it rolled up)"]


def _sheets_row(ctx: _Ctx) -> list[object]:
    chosen = SHEET_SETS[ctx.options.sheets]
    if chosen is None:
        return ["Sheets", "full: every sheet that applies"]
    left = [name for name in _ALL_SHEETS if name not in chosen]
    return ["Sheets", f"{ctx.options.sheets}: left out {', '.join(left)} (--sheets full writes them)"]


def _sheet_overview(ctx: _Ctx, input_name: str | None) -> Table:
    from qdx.report.overview import overview_rows

    # First on About as on the workbook, even when the Overview is filled in last (write_report).
    ctx.about.insert(0, ("Overview", "Facts about the project as read; codings = every Coding element "
                         "(REFI §3.13), the Matrix grand total counts the same codings. Then the headline "
                         "results: each analysis's verdict and the strongest co-occurring pairs."))
    levels = ("neutral names (Level 1, 2, ...): not a grounded-theory tree" if not ctx.names.grounded
              else "the study profile's names" if ctx.names.labels else "grounded-theory names")
    pairs = strongest_pairs(ctx) if len(ctx.corpus.codings) else []
    rows: list[list[object]] = [*overview_rows(ctx.project, ctx.corpus, input_name, ctx.names.columns(),
                                               ctx.validation),
            ["Level names", levels], _level_row(ctx), ["Filter", ctx.options.filters() or "none: every coding"],
            _sheets_row(ctx), *headlines(ctx.results), *pairs]
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
    """Each chosen sheet in turn, built when asked for: a writer drops one before the
    next is built."""
    progress("Overview")
    yield _sheet_overview(ctx, input_name)
    yield from _count_tables(ctx, progress)
    yield from _result_tables(ctx)


def _count_tables(ctx: _Ctx, progress: Progress) -> Iterator[Table]:
    """The sheets after the Overview that count the codings (Codebook to Memos): they need
    none of the analyses' results."""
    builders: list[tuple[str, Callable[[], Table | None]]] = [
        ("Codebook", lambda: _sheet_codebook(ctx)),
        ("Matrix", lambda: sheet_matrix(ctx)),
        ("Coverage", lambda: sheet_coverage(ctx)),
        ("Co-occurrence", lambda: sheet_pairs(ctx)),
        ("C-coefficient", lambda: sheet_ccoef(ctx)),
        ("Segments", lambda: _sheet_segments(ctx)),
        ("Cases", lambda: _sheet_cases(ctx)),
        ("Presence", lambda: sheet_presence(ctx)),
        ("Matrix by variable", lambda: sheet_by_variable(ctx)),
        ("Memos", lambda: _sheet_memos(ctx)),
    ]
    for name, build in builders:
        if not _chosen(ctx, name):
            continue
        progress(name)
        table = build()
        if table is not None:
            yield table
        table = None  # not kept alive while the next sheet is built
    if ctx.report.codings == 0:  # the Matrix was left out: the summary still counts the codings
        ctx.report.codings = ctx.report.matrix_total = len(ctx.corpus.codings)


def _result_tables(ctx: _Ctx, drawn: dict[str, bytes] | None = None) -> Iterator[Table]:
    """The analyses' sheets, then About; ``drawn``: their figures when drawn already."""
    results = [(title, result) for title, result in ctx.results if _chosen(ctx, title)]
    yield from result_tables(ctx.project, results, ctx.options, drawn)
    ctx.about.extend(a for a in ctx.optional_about if _chosen(ctx, a[0]))  # in sheet order
    yield _about(ctx)


def _context(project: Project, compare: Project | None, progress: Progress,
             options: ReportOptions | None = None, *, only_structure: bool = False) -> _Ctx:
    """The codings prepared and the analyses run (``only_structure``: only the structure check,
    which names the levels every sheet shows; :func:`_later` runs the rest)."""
    chosen = options or ReportOptions()
    if chosen.sheets not in REPORT_SHEETS:
        raise UsageError(f"unknown sheet set {chosen.sheets!r}; choose one of {', '.join(REPORT_SHEETS)}")
    if chosen.holdout_set is not None and chosen.holdout_set not in {s.name for s in project.sets}:
        known = ", ".join(sorted(s.name for s in project.sets)) or "none"
        raise UsageError(f"no set named {chosen.holdout_set!r} to hold out (sets: {known})")
    progress("Reading codings")
    corpus = build_corpus(project, set_name=chosen.set_name, coder=chosen.coder)
    depth = level_depth(corpus.tree, chosen.level)  # a level the tree lacks: refused before any analysis
    # The analyses run before the Overview, which states them (write_report runs all but the
    # structure check beside the count sheets, and fills the Overview in last).
    progress("Structure" if only_structure else "Structure, audit, saturation, agreement")
    coders = corpus.codings["coder"].value_counts()
    ranked = sorted(((str(c), int(n)) for c, n in coders.items() if isinstance(c, str) and c),
                    key=lambda cn: (-cn[1], cn[0]))
    about: list[tuple[str, str]] = []
    coder_names = [c for c, _ in ranked]
    results = optional_results(project, about, compare, coders=coder_names, options=chosen,
                               titles=("Structure",) if only_structure else None)
    structure = next((r for title, r in results if title == "Structure"), None)
    labels = chosen.profile.level_names if chosen.profile is not None else None
    names = LevelNames(corpus.tree, is_grounded(project, structure), labels)
    return _Ctx(project, corpus, names, compare=compare, results=results, optional_about=about, options=chosen,
                depth=depth, coders=coder_names)


@dataclass(frozen=True, slots=True)
class _Later:
    """What :func:`_later` hands back: the analyses' results and About lines, their figures,
    the Overview's validation line."""

    results: list[tuple[str, object]]
    about: list[tuple[str, str]]
    drawn: dict[str, bytes]
    validation: list[list[object]]


_LATER = ("Audit", "Saturation", "Agreement")  # the analyses the count sheets do not need


def _later(ctx: _Ctx) -> _Later:
    """The work only the Overview and the last sheets need, run beside the count sheets."""
    from qdx.report.overview import validation_rows

    about: list[tuple[str, str]] = []
    results = optional_results(ctx.project, about, ctx.compare, coders=ctx.coders, options=ctx.options,
                               titles=_LATER)
    drawn = figures([(title, result) for title, result in results if _chosen(ctx, title)])
    return _Later([(title, shown(result)) for title, result in results], about, drawn,
                  validation_rows(ctx.project))


def _take(ctx: _Ctx, later: _Later) -> None:
    ctx.results.extend(later.results)
    ctx.optional_about.extend(later.about)
    ctx.validation = later.validation


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

    Where the system can fork and the process may use a second core, the analyses the count
    sheets do not need run in a child process meanwhile (:mod:`qdx.report.background`); the
    workbook is the same either way.

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
    ctx = _context(project, compare, step, options, only_structure=True)
    # The other analyses, the validation and the figures need the project and these results
    # only: they run in a second process while the count sheets are written
    # (qdx.report.background), else here when the Overview is filled in. The Overview's sheet
    # is added first and filled last: each sheet streams rows to its own buffer.
    with (Background(lambda: _later(ctx)) as later,
          Book(stream, project=project.name or input_name or "", title=f"qdx report: {project.name or ''}") as book):
        overview = book.reserve("Overview")
        for table in _count_tables(ctx, step):
            step(f"Writing {table.title}")
            book.add(table)
            del table  # the next sheet is built without this one in memory
        step("Audit, saturation, agreement")
        done = later.result()
        _take(ctx, done)
        step("Overview")
        book.fill(overview, _sheet_overview(ctx, input_name))
        for table in _result_tables(ctx, done.drawn):
            step(f"Writing {table.title}")
            book.add(table)
        step("Saving")
    ctx.report.sheets.extend(book.sheets)
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


__all__ = ["SHEET_SETS", "Report", "ReportOptions", "ancestor_columns", "build_tables", "reported_counts",
           "write_report", "write_report_file"]
