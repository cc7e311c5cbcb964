"""``qdx saturation PATH``: code-discovery curve, held-out test, Guest 2020 and Francis 2010.

Exit status: 1 when the held-out test finds a new code or category (a data result), else 0;
2 for usage errors.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from qdx.cli._common import (
    archive_limits,
    echo,
    emit_json,
    handle_errors,
    json_option,
    load,
    refuse_overwriting_input,
)
from qdx.safety import Limits

if TYPE_CHECKING:
    from qdx.analysis.saturation import SaturationResult


def _print(result: SaturationResult) -> None:
    levels = result.levels
    short = {"concept": "concepts", "subcategory": "subcats", "main category": "main cats"}
    head = "".join(f" {short.get(lvl, lvl)[:11]:^11}" for lvl in levels)
    echo(f"{'#':>3} {'document':<28} {'new':>4} {'cum':>4}{head}  new codes")
    for i, p in enumerate(result.curve, start=1):
        cells = "".join(f" {p.levels[lvl].new:>5}/{p.levels[lvl].cumulative:<5}" for lvl in levels)
        mark = "*" if p.held_out else " "
        echo(f"{i:>3}{mark}{p.document[:28]:<28} {p.new:>4} {p.cumulative:>4}{cells}  {', '.join(p.new_codes)}")
    echo(f"level columns: new/cumulative; * = held out; order: {result.order}")
    g = result.guest2020
    echo(
        f"Guest, Namey & Chen 2020 (base {g.base}, run {g.run}, threshold {g.threshold:.0%}, "
        f"{g.base_codes} base codes): {g.point}"
    )
    f = result.francis
    where = f"stop at document {f.point}" if f.point is not None else "not reached"
    echo(f"Francis et al. 2010 ({f.initial}+{f.stop}): {where}")
    _print_holdout(result)


def _print_holdout(result: SaturationResult) -> None:
    h = result.holdout
    if h is None:
        return
    echo(f"held-out test on {len(h.documents)} document(s): {'PASSED' if h.saturated else 'FAILED'}")
    for label, items in (("new concept", h.new_codes), ("new category", h.new_categories)):
        for item in items:
            echo(f"  {label}: {item.name}  [{' / '.join(item.path)}]  in {', '.join(item.documents)}")
    for item in h.uncovered_categories:
        echo(f"  note: main category not referenced in the held-out documents: {item.name}")


@click.command()
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--order", default="name", show_default=True, help="name | created | set:NAME | variable:NAME")
@click.option("--holdout-set", default=None, help="Hold out the sources of this set (e.g. 'Saturation sample').")
@click.option("--holdout", type=click.IntRange(min=1), default=None, help="Hold out the last N documents.")
@click.option("--base", type=click.IntRange(min=1), default=4, show_default=True, help="Guest 2020 base size.")
@click.option("--run", type=click.IntRange(min=1), default=2, show_default=True, help="Guest 2020 run length.")
@click.option(
    "--threshold",
    type=click.FloatRange(min=0.0),
    default=0.05,
    show_default=True,
    help="Guest 2020 new-information threshold (fraction of base codes).",
)
@click.option(
    "--initial", type=click.IntRange(min=0), default=10, show_default=True, help="Francis 2010 initial analysis sample."
)
@click.option(
    "--stop",
    type=click.IntRange(min=1),
    default=3,
    show_default=True,
    help="Francis 2010 stopping criterion (documents in a row with nothing new).",
)
@click.option("--plot", type=click.Path(dir_okay=False), default=None,
              help="Draw the curve to this file: .png, .svg or .pdf.")
@json_option
@archive_limits
@handle_errors
def saturation(
    path: str,
    order: str,
    holdout_set: str | None,
    holdout: int | None,
    base: int,
    run: int,
    threshold: float,
    initial: int,
    stop: int,
    plot: str | None,
    as_json: bool,
    limits: Limits,
) -> None:
    """Code-discovery curve of PATH per level, held-out saturation test and stopping rules.

    --json prints {"curve", "holdout", "guest2020", "francis2010", ...}.
    """
    from qdx.analysis.saturation import saturation as compute
    from qdx.report.plots import plot_format, plot_saturation

    if plot is not None:
        plot_format(plot)  # an unsupported suffix is refused before any work
        refuse_overwriting_input(plot, path)
    project = load(path, limits=limits)
    result = compute(
        project,
        order=order,
        holdout_set=holdout_set,
        holdout=holdout,
        base=base,
        run=run,
        threshold=threshold,
        initial=initial,
        stop=stop,
    )
    if plot is not None:
        plot_saturation(result, plot)
    if as_json:
        emit_json(result.as_dict())
    else:
        _print(result)
        if plot is not None:
            echo(f"wrote {plot}")
    sys.exit(1 if result.failed else 0)
