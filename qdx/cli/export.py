"""``qdx export PATH --to parquet DIR``: the tidy tables for pandas, DuckDB or Spark."""

from __future__ import annotations

import click

from qdx.cli._common import (
    emit_json,
    handle_errors,
    json_option,
    limits_options,
    load,
    make_limits,
    progress_enabled,
)
from qdx.cli.report import progress_steps


@click.command()
@click.argument("path", type=click.Path())
@click.argument("folder", type=click.Path(file_okay=False))
@click.option("--to", "to", type=click.Choice(["parquet", "csv"]), default="parquet", show_default=True,
              help="File format of the tables.")
@click.option("--set", "set_name", default=None, help="Only codings in this set.")
@click.option("--coder", default=None, help="Only this user's codings.")
@click.option("--bom/--no-bom", default=True, show_default=True,
              help="Start each .csv with a UTF-8 byte-order mark (Excel on Windows then reads CJK text).")
@json_option
@limits_options
@handle_errors
def export(path: str, folder: str, to: str, set_name: str | None, coder: str | None, bom: bool, as_json: bool,
           max_member_size: int, max_ratio: float) -> None:
    """Write codes, sources, cases, segments and codings tables of PATH into FOLDER.

    One file per table (codes.parquet, ...); with --json prints {"files": [...], "rows": {...}}.
    """
    from qdx.report.frames import frames
    from qdx.report.output import export_tables

    with progress_steps("qdx export", 3, progress_enabled(as_json)) as step:
        step("Reading")
        project = load(path, limits=make_limits(max_member_size, max_ratio))
        step("Tables")
        tables = frames(project, set_name=set_name, coder=coder)
        step("Writing")
        written = export_tables(tables, folder, to=to, bom=bom)
    rows = {name: len(frame) for name, frame in tables.tables().items()}
    if as_json:
        emit_json({"files": [str(p) for p in written], "rows": rows})
        return
    for file, (name, n) in zip(written, rows.items(), strict=True):
        click.echo(f"{file}: {n} {name}")
