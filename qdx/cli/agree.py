"""``qdx agree A [B]``: intercoder agreement (NVivo Coding Comparison, α, segment measures).

Exit status: 0 when computed (agreement is a measurement, not a verdict); 1 when there is
nothing to compare (the sides share no coded source: no number is made up, ``--json`` gives
null values and the reason); 2 for usage errors, including a coder that is no user.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from qdx.cli._common import (
    HiddenAlias,
    archive_limits,
    choice,
    echo,
    emit_json,
    fail,
    handle_errors,
    json_option,
    load,
    refuse_overwriting_input,
)
from qdx.errors import NoDataError, UsageError
from qdx.options import AgreeUnit, OverlapMeasure
from qdx.safety import Limits

if TYPE_CHECKING:
    from qdx.analysis.agreement import Aggregate, AgreementResult
    from qdx.model import Project


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _cell(text: str, width: int) -> str:
    if _width(text) > width:
        while _width(text) > width - 1:
            text = text[:-1]
        text += "…"
    return text + " " * (width - _width(text))


def _numbers(agg: Aggregate) -> str:
    return (
        f"{agg.rows:>4} {agg.kappa_mean:>7.3f} {agg.kappa_weighted:>7.3f} {agg.kappa_pooled:>7.3f} "
        f"{100 * agg.agreement:>7.2f} {agg.alpha:>7.3f} {agg.u_alpha:>7.3f} {100 * agg.segment_agreement:>7.1f}"
    )


def _print_table(result: AgreementResult, detail: bool) -> None:
    echo(f"Agreement of A = {result.label_a} and B = {result.label_b}, unit = {result.unit}")
    if detail:
        echo(f"{_cell('code', 30)} {_cell('source', 24)} {'units':>8} {'kappa':>7} {'agree%':>7}")
        for r in result.per_code_source:
            echo(
                f"{_cell(r.code, 30)} {_cell(r.source, 24)} {r.units:>8} {r.kappa:>7.3f} {100 * r.agreement:>7.2f}"
            )
        echo("")
    echo(
        f"{_cell('code', 30)} {'src':>4} {'k mean':>7} {'k wtd':>7} {'k pool':>7} "
        f"{'agree%':>7} {'alpha':>7} {'u-alpha':>7} {'seg%':>7}"
    )
    for c in result.per_code:
        echo(f"{_cell(c.code, 30)} {_numbers(c.summary)}")
    echo(f"{_cell('OVERALL', 30)} {_numbers(result.overall)}")
    o = result.overall
    legend = (
        "k mean = simple mean over sources; k wtd = mean weighted by source size; k pool = pooled over all units",
        "alpha = Krippendorff (binary, over units); u-alpha = Krippendorff unitizing |u-alpha (coded runs and gaps)",
        f"seg% = segments matched at >= {result.overlap:.0%} overlap ({result.overlap_measure}, MAXQDA-style)",
        f"Brennan-Prediger kappa {o.bp_kappa:.3f} (k = {len(result.per_code)} codes), Holsti {o.holsti:.3f}",
    )
    for line in legend:
        echo(line)
    for warning in result.warnings:
        # The library names its keyword argument; on the command line it is the option.
        echo(f"warning: {warning.replace('all_sources', '--all-sources')}", err=True)


def _sides(
    paths: Sequence[str], coders: tuple[str, ...], coder_a: tuple[str, ...], coder_b: tuple[str, ...]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if coders and (coder_a or coder_b):
        raise UsageError("use either --coders A B or --coder-a/--coder-b, not both")
    side_a, side_b = (coders[:1], coders[1:]) if coders else (coder_a, coder_b)
    if len(paths) == 1 and not (side_a and side_b):
        raise UsageError("one project needs two coders: --coders 'Researcher A' 'Researcher B'")
    return side_a, side_b


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--coders", nargs=2, default=None, help="Side A and side B users (name, id or GUID).")
@click.option("--coder-a", multiple=True, help="A user of side A (repeat for a group: union of their coding).")
@click.option("--coder-b", multiple=True, help="A user of side B (repeat for a group).")
@click.option(
    "--agree-unit",
    "--unit",
    "unit",
    cls=HiddenAlias,
    type=choice(AgreeUnit),
    default="char",
    show_default=True,
    help="Units of the 2x2 table (sentence: the A-i-j lines when the text has them).",
)
@click.option(
    "--overlap",
    type=click.FloatRange(0.0, 1.0, min_open=True),
    default=0.9,
    show_default=True,
    help="Minimum overlap for two segments to agree (segment measures).",
)
@click.option(
    "--overlap-measure",
    type=choice(OverlapMeasure),
    default="iou",
    show_default=True,
    help="Overlap relative to both segments' combined extent (iou) or to the shorter one.",
)
@click.option("--all-pairs", is_flag=True, help="Report every code x source pair (uncoded pairs count as kappa 1).")
@click.option("--all-sources", is_flag=True, help="Include sources only one side has (or coded).")
@click.option("--detail", is_flag=True, help="Also print one row per code and source.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None, help="Write an .xlsx workbook.")
@json_option
@archive_limits
@handle_errors
def agree(
    paths: tuple[str, ...],
    coders: tuple[str, str] | None,
    coder_a: tuple[str, ...],
    coder_b: tuple[str, ...],
    unit: AgreeUnit,
    overlap: float,
    overlap_measure: OverlapMeasure,
    all_pairs: bool,
    all_sources: bool,
    detail: bool,
    output: str | None,
    as_json: bool,
    limits: Limits,
) -> None:
    """Intercoder agreement between two projects A B, or two coders of one project A.

    Per code and source: NVivo's percent agreement and Cohen's kappa; per code and overall:
    simple mean, size-weighted mean and pooled kappa, Krippendorff's alpha, segment agreement,
    Holsti and Brennan-Prediger. --json prints {"per_code_source", "per_code", "overall", ...}.
    """
    from qdx.report.agreement_book import write_agreement_xlsx
    from qdx.report.output import require_suffix

    if len(paths) > 2:
        raise UsageError(f"give one or two projects, not {len(paths)}")
    side_a, side_b = _sides(paths, tuple(coders or ()), coder_a, coder_b)
    if output is not None:
        require_suffix(output, (".xlsx",), "the agreement workbook")
        refuse_overwriting_input(output, *paths)
    projects = [load(p, limits=limits) for p in paths]
    label_a = ", ".join(side_a) if side_a else Path(paths[0]).name
    label_b = ", ".join(side_b) if side_b else Path(paths[-1]).name
    try:
        result = _compute(projects, side_a, side_b, unit, overlap, overlap_measure, all_pairs, all_sources,
                          output is not None, label_a, label_b)  # fmt: skip
    except NoDataError as exc:  # under --json a script still gets a document: every value null, and why
        fail(exc, 1, _no_result(unit, label_a, label_b, exc.message))
    if output is not None:
        write_agreement_xlsx(result, output)
    if as_json:
        emit_json(result.as_dict())
    else:
        _print_table(result, detail)
        if output is not None:
            echo(f"wrote {output}")


NULL_OVERALL = ("kappa_mean", "kappa_weighted", "kappa_pooled", "agreement", "agreement_mean", "alpha", "u_alpha",
                "segment_agreement", "holsti", "bp_kappa")  # fmt: skip


def _no_result(unit: str, label_a: str, label_b: str, reason: str) -> dict[str, object]:
    """The --json document when there is nothing to compare: null values and the reason."""
    return {
        "unit": unit,
        "coder_a": label_a,
        "coder_b": label_b,
        "computed": False,
        "reason": reason,
        "per_code_source": [],
        "per_code": [],
        "overall": dict.fromkeys(NULL_OVERALL),
    }


def _compute(
    projects: list[Project],
    side_a: tuple[str, ...],
    side_b: tuple[str, ...],
    unit: AgreeUnit,
    overlap: float,
    overlap_measure: OverlapMeasure,
    all_pairs: bool,
    all_sources: bool,
    passages: bool,
    label_a: str,
    label_b: str,
) -> AgreementResult:
    from qdx.analysis.agreement import agree as compute

    return compute(
        projects[0],
        projects[1] if len(projects) == 2 else None,
        coders_a=side_a,
        coders_b=side_b,
        unit=unit,
        overlap=overlap,
        overlap_measure=overlap_measure,
        all_pairs=all_pairs,
        all_sources=all_sources,
        passages=passages,
        label_a=label_a,
        label_b=label_b,
    )
