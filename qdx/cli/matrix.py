"""``qdx matrix PATH``: a coding matrix (codes × sources/cases/variable values/codes)."""

from __future__ import annotations

import click

from qdx.cli._common import (
    echo,
    emit_json,
    handle_errors,
    json_option,
    limits_options,
    load,
    make_limits,
    progress_enabled,
    require_option,
    terminal_text,
)
from qdx.cli.report import progress_steps

VALUE_CHOICES = ["references", "sources", "cases", "words", "characters", "coverage", "presence",
                 "row-pct", "col-pct", "c-coefficient"]


@click.command()
@click.argument("path", type=click.Path())
@click.option("--rows", default="codes", show_default=True, help="codes | sources | cases | variable:NAME")
@click.option("--cols", default="sources", show_default=True,
              help="codes | sources | cases | variable:NAME (codes × codes = co-occurrence)")
@click.option("--value", type=click.Choice(VALUE_CHOICES), default="references", show_default=True,
              help="Cell content (NVivo's options; coverage = % of characters; c-coefficient: codes × codes).")
@click.option("--level", type=click.Choice(["concepts", "subcategories", "main", "core"]), default=None,
              help="Only codes at this level, with their children's codings rolled up.")
@click.option("--set", "set_name", default=None, help="Only codings in this set (member codes/sources).")
@click.option("--coder", default=None, help="Only this user's codings.")
@click.option("--cooccur", type=click.Choice(["overlap", "document"]), default="overlap", show_default=True,
              help="Codes × codes: overlapping passages (pairs) or same document.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write .xlsx, .csv or .parquet instead of printing a table.")
@click.option("--layout", type=click.Choice(["qdx", "nvivo"]), default="qdx", show_default=True,
              help="nvivo: NVivo's Matrix Coding export layout ('A : name' / '1 : name').")
@click.option("--bom/--no-bom", default=True, show_default=True,
              help="Start a .csv with a UTF-8 byte-order mark (Excel on Windows then reads CJK text).")
@json_option
@limits_options
@handle_errors
def matrix(path: str, rows: str, cols: str, value: str, level: str | None, set_name: str | None,
           coder: str | None, cooccur: str, output: str | None, layout: str, bom: bool, as_json: bool,
           max_member_size: int, max_ratio: float) -> None:
    """Coding matrix of PATH: ROWS × COLS, one number per cell.

    --json prints {"rows": [...], "cols": [...], "values": [[...]]} (plus "value").
    """
    from qdx.analysis._codings import build_corpus
    from qdx.analysis.matrix import matrix_from
    from qdx.cli._common import refuse_overwriting_input
    from qdx.report.output import MatrixSpec, write_matrix

    require_option("-o/--output", output is not None, layout="--layout")
    require_option("--rows codes --cols codes", rows == cols == "codes", cooccur="--cooccur")
    with progress_steps("qdx matrix", 3, progress_enabled(as_json)) as step:
        step("Reading")
        project = load(path, limits=make_limits(max_member_size, max_ratio))
        step("Counting")
        corpus = build_corpus(project, set_name=set_name, coder=coder)
        # Without a level every code is a row, and a category counts its whole subtree (a
        # category row of zeros would say "never coded" about a theme coded throughout).
        spec = MatrixSpec(rows=rows, cols=cols, value=value, level=level, cooccur=cooccur, set_name=set_name,
                          coder=coder, rollup=level is None)
        frame = matrix_from(corpus, rows=rows, cols=cols, value=value, level=level, cooccur=cooccur,
                            rollup=spec.rollup)
        step("Writing")
        if output:
            refuse_overwriting_input(output, path)
            write_matrix(frame, output, layout=layout, description=_describe(rows, cols, value, level, cooccur),
                         corpus=corpus, spec=spec, bom=bom)
    if as_json:
        emit_json(_as_json(frame))
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
