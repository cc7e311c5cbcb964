"""``qdx matrix PATH``: a coding matrix (codes × sources/cases/variable values/codes)."""

from __future__ import annotations

import json

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
    require_option,
    stdout_format,
    terminal_text,
    write_stdout,
)
from qdx.cli.report import progress_steps
from qdx.errors import UsageError
from qdx.options import CellValue, CooccurMode, Level, MatrixLayout, choices
from qdx.safety import Limits

VALUE_CHOICES = choices(CellValue)


@click.command()
@click.argument("path", type=click.Path())
@click.option("--rows", default="codes", show_default=True, help="codes | sources | cases | variable:NAME")
@click.option("--cols", default="sources", show_default=True,
              help="codes | sources | cases | variable:NAME (codes × codes = co-occurrence)")
@click.option("--value", type=click.Choice(VALUE_CHOICES), default="references", show_default=True,
              help="Cell content (NVivo's options; coverage = % of characters; c-coefficient: codes × codes).")
@click.option("--level", type=choice(Level), default=None,
              help="Only codes at this level, with their children's codings rolled up.")
@click.option("--set", "set_name", default=None, help="Only codings in this set (member codes/sources).")
@click.option("--coder", default=None, help="Only this user's codings.")
@click.option("--cooccur", type=choice(CooccurMode), default="overlap", show_default=True,
              help="Codes × codes: overlapping passages (pairs) or same document.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write .xlsx, .csv or .parquet instead of printing a table; - writes to standard output "
              "(with --to).")
@click.option("--to", type=click.Choice(["csv", "json"]), default=None, help="The format of -o - (standard output).")
@click.option("--layout", type=choice(MatrixLayout), default="qdx", show_default=True,
              help="nvivo: NVivo's Matrix Coding export layout ('A : name' / '1 : name').")
@click.option("--bom/--no-bom", default=True, show_default=True,
              help="Start a .csv file with a UTF-8 byte-order mark (Excel on Windows then reads CJK text); "
              "standard output never gets one.")
@json_option
@archive_limits
@handle_errors
def matrix(path: str, rows: str, cols: str, value: CellValue, level: Level | None, set_name: str | None,
           coder: str | None, cooccur: CooccurMode, output: str | None, to: str | None, layout: MatrixLayout,
           bom: bool, as_json: bool, limits: Limits) -> None:
    """Coding matrix of PATH: ROWS × COLS, one number per cell.

    --json prints {"rows": [...], "cols": [...], "values": [[...]]} (plus "value").
    """
    from qdx.analysis._codings import build_corpus
    from qdx.analysis.matrix import matrix_from
    from qdx.cli._common import refuse_overwriting_input
    from qdx.report.output import MATRIX_SUFFIXES, MatrixSpec, matrix_csv, require_suffix, write_matrix

    require_option("-o/--output", output is not None, layout="--layout")
    require_option("--rows codes --cols codes", rows == cols == "codes", cooccur="--cooccur")
    fmt = stdout_format(output, to)
    if output is not None and fmt is None:
        require_suffix(output, MATRIX_SUFFIXES, "the matrix")  # before any work
    if fmt is not None and layout != "qdx":
        raise UsageError("--layout nvivo writes a file (.xlsx or .csv), not standard output")
    with progress_steps("qdx matrix", 3, progress_enabled(as_json)) as step:
        step("Reading")
        project = load(path, limits=limits)
        step("Counting")
        corpus = build_corpus(project, set_name=set_name, coder=coder)
        # Without a level every code is a row, and a category counts its whole subtree (a
        # category row of zeros would say "never coded" about a theme coded throughout).
        spec = MatrixSpec(rows=rows, cols=cols, value=value, level=level, cooccur=cooccur, set_name=set_name,
                          coder=coder, rollup=level is None)
        frame = matrix_from(corpus, rows=rows, cols=cols, value=value, level=level, cooccur=cooccur,
                            rollup=spec.rollup)
        step("Writing")
        if fmt is not None:
            text = matrix_csv(frame) if fmt == "csv" else json.dumps(_as_json(frame), ensure_ascii=False, indent=2)
            write_stdout(lambda stream: stream.write(text.encode("utf-8")))
        elif output:
            refuse_overwriting_input(output, path)
            write_matrix(frame, output, layout=layout, description=_describe(rows, cols, value, level, cooccur),
                         corpus=corpus, spec=spec, bom=bom)
    if as_json:
        emit_json(_as_json(frame))
    elif fmt is not None:
        return
    elif output:
        echo(f"wrote {output}: {len(frame.index)} rows × {len(frame.columns)} columns of {value}")
    else:
        for line in _table(frame).splitlines():
            echo(line)


def _describe(rows: str, cols: str, value: str, level: str | None, cooccur: str) -> str:
    text = f"{rows} × {cols}, cell = {value}"
    if level:
        text += f", codes at level {level} (descendants rolled up)"
    if rows == cols == "codes":
        text += f", co-occurrence by {cooccur}"
    return text


def _as_json(frame: object) -> dict[str, object]:
    import pandas as pd

    assert isinstance(frame, pd.DataFrame)
    values = [[None if pd.isna(v) else (v.item() if hasattr(v, "item") else v) for v in row]
              for row in frame.to_numpy().tolist()]
    return {"rows": [str(r) for r in frame.index], "cols": [str(c) for c in frame.columns],
            "values": values, "value": frame.attrs.get("value")}


def _table(frame: object) -> str:
    import pandas as pd

    assert isinstance(frame, pd.DataFrame)
    if frame.empty:
        return "(empty matrix)"
    floats = frame.dtypes.map(lambda d: d.kind == "f").any()
    # Labels are names from the file: escaped before the layout, so a newline in one cannot
    # break a row (echo escapes again what is left, i.e. nothing).
    frame = frame.rename(index=lambda x: terminal_text(str(x)), columns=lambda x: terminal_text(str(x)))
    with pd.option_context("display.max_rows", None, "display.max_columns", None, "display.width", 200):
        return frame.to_string(float_format=(lambda v: f"{v:.3f}" if floats else str(v)))
