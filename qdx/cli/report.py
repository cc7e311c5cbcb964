"""``qdx report PATH -o report.xlsx``: the full Excel report workbook (qdx's main job)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, cast

import click

from qdx.cli._common import (
    archive_limits,
    choice,
    echo,
    emit_json,
    handle_errors,
    json_option,
    load,
    progress_enabled,
    refuse_overwriting_input,
    require_option,
)
from qdx.options import ReportLevel, ReportSheets, StepProgress
from qdx.safety import Limits

if TYPE_CHECKING:
    from click._termui_impl import ProgressBar

    from qdx.validation.structure import Profile

# Roughly one step per sheet built and per sheet written (the bar is a guide, not a promise).
REPORT_STEPS = 28
REPORT_SUFFIXES = (".xlsx", ".html")


@contextmanager
def progress_steps(label: str, total: int, enabled: bool) -> Iterator[StepProgress]:
    """A click progress bar on stderr advanced by name, or a no-op when disabled."""
    if not enabled:
        yield lambda _name: None
        return
    ctx = click.get_current_context(silent=True)
    if ctx is not None:  # this bar covers reading too: load() must not draw a second one
        ctx.meta["qdx.progress"] = True
    bar = cast("ProgressBar[str]", click.progressbar(
        length=total, label=label, file=sys.stderr, item_show_func=lambda item: str(item) if item else None))
    with bar:
        yield lambda name: bar.update(1, name)


@click.command()
@click.argument("path", type=click.Path())
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="The workbook to write (.xlsx), or a self-contained web page (.html).")
@click.option("--compare", type=click.Path(), default=None,
              help="A second coder's project of the same sources: adds an Agreement sheet.")
@click.option("--set", "set_name", default=None, help="Count only codings in this set (stated on the Overview).")
@click.option("--coder", default=None, help="Count only this user's codings.")
@click.option("--holdout-set", default=None,
              help="Saturation: hold out the sources of this set (default: a set named like 'Saturation sample').")
@click.option("--core", default=None, help="Name of the core category when the code tree has several roots.")
@click.option("--level", type=choice(ReportLevel), default=None,
              help="Count the matrices, coverage and co-occurrence at this level of the code tree (codings "
              "below it rolled up): a grounded-theory level, or 1, 2, ... from the top (Level 1 = the top).")
@click.option("--sheets", type=choice(ReportSheets), default="full", show_default=True,
              help="Which sheets: full (every sheet), thesis (the summary tables an appendix prints: no quote "
              "table, case list, c-coefficient square, memos or quality checks), minimal (Overview, Codebook, "
              "Matrix, About).")
@click.option("--profile", type=click.Path(exists=True, dir_okay=False), default=None,
              help="The study's TOML profile, as qdx validate --profile reads it: core, level names, expected "
              "counts and rules to skip, applied by the Structure sheet; its level names label every sheet.")
@json_option
@archive_limits
@handle_errors
def report(path: str, output: str, compare: str | None, set_name: str | None, coder: str | None,
           holdout_set: str | None, core: str | None, level: ReportLevel | None, sheets: ReportSheets,
           profile: str | None,
           as_json: bool, limits: Limits) -> None:
    """Write the report workbook for PATH: Overview, Codebook, Matrix, Coverage,
    Co-occurrence, C-coefficient, Segments, Cases, Presence, by-variable Matrix, Memos,
    Structure/Audit/Saturation/Agreement (when they apply) and About (how each number was
    computed); --sheets thesis or minimal writes fewer.

    With --json prints {"output", "sheets", "matrix_total", "codings", "notes"}. With -o
    report.html writes one self-contained, offline web page instead (model figure, codebook
    tree, searchable quotes, matrix, co-occurrence, agreement, saturation, findings, memos).
    """
    from qdx.report.excel import ReportOptions, write_report_file
    from qdx.report.output import require_suffix
    from qdx.safety import output_plan

    # A device or FIFO (-o /dev/stdout, a pipe) is written into whatever its name; the summary
    # then goes to stderr, so that it cannot end up inside the workbook's bytes.
    into_stream = not output_plan(output).replace
    if not into_stream and output.lower().endswith(".html"):  # the self-contained HTML report
        from qdx.cli._report_html import write_html_report

        # The page has its own fixed sections: these workbook options would be ignored there.
        require_option("-o report.xlsx", False, level="--level", sheets="--sheets", profile="--profile")

        return write_html_report(path, output, compare, as_json, limits)
    if not into_stream:
        require_suffix(output, REPORT_SUFFIXES, "the report")
    refuse_overwriting_input(output, path)
    study_profile = _load_profile(profile)  # a malformed profile is refused before any work
    with progress_steps("qdx report", REPORT_STEPS, progress_enabled(as_json)) as step:
        step("Reading")
        project = load(path, limits=limits)
        other = load(compare, limits=limits) if compare else None
        options = ReportOptions(set_name=set_name, coder=coder, holdout_set=holdout_set, core=core, level=level,
                                sheets=sheets, profile=study_profile)
        result = write_report_file(project, output, input_name=click.format_filename(path), progress=step,
                                   compare=other, options=options)
    if as_json:
        emit_json({"output": output, "sheets": result.sheets, "matrix_total": result.matrix_total,
                   "codings": result.codings, "notes": result.notes})
        return
    echo(f"wrote {output}: {len(result.sheets)} sheets ({', '.join(result.sheets)})", err=into_stream)
    echo(f"Matrix total {result.matrix_total} of {result.codings} codings", err=into_stream)
    for note in result.notes:
        echo(f"note: {note}", err=into_stream)


def _load_profile(path: str | None) -> Profile | None:
    from pathlib import Path

    from qdx.validation.structure import load_profile

    return load_profile(Path(path).read_bytes()) if path else None
