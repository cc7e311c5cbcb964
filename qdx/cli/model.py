"""``qdx model PATH -o model.svg|.pdf|.png``: the grounded-theory model as a figure."""

from __future__ import annotations

import click

from qdx.cli._common import (
    archive_limits,
    echo,
    emit_json,
    handle_errors,
    json_option,
    load,
)
from qdx.safety import Limits


@click.command()
@click.argument("path", type=click.Path())
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="The figure to write: .svg, .pdf or .png.")
@click.option("--depth", type=click.IntRange(min=1), default=3, show_default=True,
              help="Tree levels to draw, the core being 1: 3 = core, main categories, subcategories; "
                   "4 adds the concepts.")
@json_option
@archive_limits
@handle_errors
def model(path: str, output: str, depth: int, as_json: bool, limits: Limits) -> None:
    """Draw PATH's grounded-theory model: the core category on top, the main categories below
    it, their subcategories (and concepts with --depth 4) in columns; line weights and box
    borders by coded references, the project's Links as labelled arrows, codebook colours.

    The layout is computed by qdx (no graph engine or external program). With --json prints
    {"output", "boxes", "levels"}.
    """
    from qdx.cli._common import refuse_overwriting_input
    from qdx.report.codebook_data import codebook_data
    from qdx.report.codebook_doc import write_bytes
    from qdx.report.model_figure import MODEL_SUFFIXES, figure_from
    from qdx.report.output import require_suffix

    suffix = require_suffix(output, MODEL_SUFFIXES, "the model")
    refuse_overwriting_input(output, path)
    figure = figure_from(codebook_data(load(path, limits=limits)), depth)
    write_bytes(output, figure.to_bytes(suffix))
    levels = [figure.scene.counts[d] for d in sorted(figure.scene.counts)]
    if as_json:
        emit_json({"output": output, "boxes": len(figure.scene.boxes), "levels": levels})
        return
    echo(f"wrote {output}: {' → '.join(map(str, levels))} codes by level, "
               f"{sum(1 for line in figure.scene.lines if line.label)} links drawn")
