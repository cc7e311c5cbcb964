"""``qdx export PATH DIR``: the tidy tables for pandas, DuckDB or Spark.

``qdx export PROJECT... DIR`` (several projects, or folders of them) writes one Hive-partitioned
Parquet dataset instead (qdx/report/dataset.py, docs/dataset.md).
"""

from __future__ import annotations

import sys
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, cast

import click

from qdx.cli._common import (
    archive_limits,
    echo,
    emit_json,
    handle_errors,
    json_option,
    load,
    progress_enabled,
)
from qdx.cli.report import progress_steps
from qdx.errors import UsageError
from qdx.safety import Limits

if TYPE_CHECKING:
    from click._termui_impl import ProgressBar


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(), metavar="PATH...")
@click.argument("folder", type=click.Path(file_okay=False))
@click.option("--to", "to", type=click.Choice(["parquet", "csv"]), default="parquet", show_default=True,
              help="File format of the tables.")
@click.option("--set", "set_name", default=None, help="Only codings in this set (one project).")
@click.option("--coder", default=None, help="Only this user's codings (one project).")
@click.option("--bom/--no-bom", default=True, show_default=True,
              help="Start each .csv with a UTF-8 byte-order mark (Excel on Windows then reads CJK text).")
@click.option("--dataset", "as_dataset", is_flag=True,
              help="Write a partitioned dataset even for one project "
                   "(implied by several projects or a folder of them).")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None,
              help="Worker processes for a dataset [default: one per core].")
@json_option
@archive_limits
@handle_errors
def export(paths: tuple[str, ...], folder: str, to: str, set_name: str | None, coder: str | None, bom: bool,
           as_dataset: bool, jobs: int | None, as_json: bool, limits: Limits) -> None:
    """Write codes, sources, cases, segments and codings tables of PATH into FOLDER.

    One file per table (codes.parquet, ...); with --json prints {"files": [...], "rows": {...}}.

    Several projects, or folders of .qdpx/.qde files, make one dataset instead:
    FOLDER/project=<name>/<table>.parquet, re-exporting only projects whose content changed
    (docs/dataset.md); with --json prints {"folder", "projects": [...], "exported", "unchanged",
    "failed", "removed"}. A project that fails is reported on its own line and the others are
    written; the exit status is then 1.
    """
    if as_dataset or len(paths) > 1 or _is_corpus_folder(paths[0]):
        if to != "parquet" or set_name is not None or coder is not None:
            raise UsageError("a dataset of several projects is parquet only, without --set or --coder")
        _export_dataset(paths, folder, limits, jobs, as_json)
        return
    from qdx.report.dataset_schema import MANIFEST

    if (Path(folder) / MANIFEST).exists():
        raise UsageError(f"{folder} is a dataset of several projects: give all of its projects (or --dataset)")
    _export_one(paths[0], folder, to, set_name, coder, limits, as_json, bom)


def _is_corpus_folder(path: str) -> bool:
    from qdx.api import find_projects

    return Path(path).is_dir() and find_projects([path]) != [Path(path)]


def _export_one(path: str, folder: str, to: str, set_name: str | None, coder: str | None, limits: Limits,
                as_json: bool, bom: bool = True) -> None:
    from qdx.report.arrow_tables import require_parquet

    if to == "parquet":
        require_parquet()  # before reading: a missing extra is a one-line error at once
    with progress_steps("qdx export", 3, progress_enabled(as_json)) as step:
        step("Reading")
        project = load(path, limits=limits)
        step("Tables")
        if to == "parquet":
            from qdx.report.tidy_parquet import export_parquet

            # Tables built and written in one step, without a corpus or DataFrames (tidy_parquet.py).
            step("Writing")
            written, rows = export_parquet(project, folder, set_name=set_name, coder=coder)
        else:
            from qdx.analysis._codings import build_corpus
            from qdx.report.frames import frames_from
            from qdx.report.output import export_tables

            tables = frames_from(build_corpus(project, set_name=set_name, coder=coder))
            step("Writing")
            written = export_tables(tables, folder, to=to, bom=bom)
            rows = {name: len(frame) for name, frame in tables.tables().items()}
    if as_json:
        emit_json({"files": [str(p) for p in written], "rows": rows})
        return
    for file, (name, n) in zip(written, rows.items(), strict=True):
        echo(f"{file}: {n} {name}")


def _export_dataset(paths: tuple[str, ...], folder: str, limits: Limits, jobs: int | None, as_json: bool) -> None:
    from qdx.report.dataset import export_dataset

    with ExitStack() as stack:
        bars: list[ProgressBar[str]] = []

        def advance(done: int, total: int, name: str) -> None:
            if not bars:
                bars.append(stack.enter_context(cast("ProgressBar[str]", click.progressbar(
                    length=total, label="qdx export", file=sys.stderr,
                    item_show_func=lambda item: str(item) if item else None))))
            bars[0].update(done - bars[0].pos, name)

        result = export_dataset(paths, folder, limits=limits, workers=jobs,
                                progress=advance if progress_enabled(as_json) else None)
    counts = {status: result.count(status) for status in ("exported", "unchanged", "failed")}
    if as_json:
        emit_json({"folder": str(result.folder), **counts, "removed": list(result.removed),
                   "projects": [{"path": p.path, "project": p.project, "status": p.status, "rows": dict(p.rows),
                                 "error": p.error} for p in result.projects]})
    else:
        echo(f"{folder}: {len(result.projects)} projects, {counts['exported']} exported, "
                   f"{counts['unchanged']} unchanged, {counts['failed']} failed, {len(result.removed)} removed")
    for failed in result.failed:
        echo(f"qdx: error: {failed.path}: {failed.error}", err=True)
    if result.failed:
        sys.exit(1)
