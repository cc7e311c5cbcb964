"""``qdx export PATH --to parquet DIR``: the tidy tables for pandas, DuckDB or Spark."""

from __future__ import annotations

import click

from qdx.cli._common import (
    archive_limits,
    emit_json,
    handle_errors,
    json_option,
    load,
    progress_enabled,
)
from qdx.cli.report import progress_steps
from qdx.safety import Limits


@click.command()
@click.argument("path", type=click.Path())
@click.argument("folder", type=click.Path(file_okay=False))
@click.option("--to", "to", type=click.Choice(["parquet", "csv"]), default="parquet", show_default=True,
              help="File format of the tables.")
@click.option("--set", "set_name", default=None, help="Only codings in this set.")
@click.option("--coder", default=None, help="Only this user's codings.")
@json_option
@archive_limits
@handle_errors
def export(path: str, folder: str, to: str, set_name: str | None, coder: str | None, as_json: bool,
           limits: Limits) -> None:
    """Write codes, sources, cases, segments and codings tables of PATH into FOLDER.

    One file per table (codes.parquet, ...); with --json prints {"files": [...], "rows": {...}}.
    """
    from qdx.report.frames import frames
    from qdx.report.output import export_tables

    with progress_steps("qdx export", 3, progress_enabled(as_json)) as step:
        step("Reading")
        project = load(path, limits=limits)
        step("Tables")
        tables = frames(project, set_name=set_name, coder=coder)
        step("Writing")
        written = export_tables(tables, folder, to=to)
    rows = {name: len(frame) for name, frame in tables.tables().items()}
    if as_json:
        emit_json({"files": [str(p) for p in written], "rows": rows})
        return
    for file, (name, n) in zip(written, rows.items(), strict=True):
        click.echo(f"{file}: {n} {name}")
