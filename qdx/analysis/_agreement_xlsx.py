"""The agreement workbook: NVivo's Coding Comparison layout plus qdx's labelled aggregates.

Columns of the first sheet follow NVivo's export (docs/methods.md §A.1 "Output columns"): node,
source, source size, Kappa, Agreement (%) = A and B + Not A and Not B, Disagreement (%) =
A and Not B + B and Not A; summary rows below it (simple mean, size-weighted mean, pooled, as
docs/methods.md §D.4 describes). Numbers are stored as numbers; passage text is always a
string cell, quote-prefixed when it starts like a formula.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, BinaryIO

from qdx import __version__
from qdx.cells import set_text

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

    from qdx.analysis.agreement import Aggregate, AgreementResult, CodeSourceAgreement

COMPARISON_HEADER = (
    "Node",
    "Source",
    "Source Size",
    "Kappa",
    "Agreement (%)",
    "A and B (%)",
    "Not A and Not B (%)",
    "Disagreement (%)",
    "A and Not B (%)",
    "B and Not A (%)",
    "Node path",
)
PER_CODE_HEADER = (
    "Node",
    "Node path",
    "Sources",
    "Units",
    "Kappa (simple mean over sources)",
    "Kappa (mean weighted by source size)",
    "Kappa (pooled over all units)",
    "Agreement (%) (pooled)",
    "Agreement (%) (simple mean)",
    "Krippendorff alpha (binary, over units)",
    "Krippendorff |u-alpha (continuum, ATLAS.ti-style)",
    "Segments (both coders)",
    "Segment agreement (%) (MAXQDA-style)",
    "Holsti",
    "Brennan-Prediger kappa",
)
DISAGREEMENT_HEADER = ("Node", "Node path", "Source", "Start", "End", "Units", "Coded by", "Text")

def _text(ws: Worksheet, row: int, col: int, value: str) -> None:
    """A string cell that no spreadsheet will run as a formula (OWASP CSV injection; XML 1.0
    cannot hold C0 controls; an Excel cell holds at most 32,767 characters: :mod:`qdx.cells`)."""
    set_text(ws.cell(row=row, column=col), value)


def _row(ws: Worksheet, row: int, values: Sequence[object]) -> None:
    for col, value in enumerate(values, start=1):
        if isinstance(value, str):
            _text(ws, row, col, value)
        elif isinstance(value, int | float) or value is None:
            ws.cell(row=row, column=col, value=value)
        else:
            raise TypeError(f"unexpected cell value {value!r}")


def _pct(part: int, whole: int) -> float:
    return 100.0 * part / whole if whole else 0.0


def _comparison_row(r: CodeSourceAgreement) -> list[object]:
    t = r.table
    return [
        r.code,
        r.source,
        t.units,
        r.kappa,
        100.0 * r.agreement,
        _pct(t.both, t.units),
        _pct(t.neither, t.units),
        100.0 - 100.0 * r.agreement,
        _pct(t.a_only, t.units),
        _pct(t.b_only, t.units),
        " / ".join(r.code_path),
    ]


def _aggregate_cells(agg: Aggregate) -> list[object]:
    return [
        agg.rows,
        agg.table.units,
        agg.kappa_mean,
        agg.kappa_weighted,
        agg.kappa_pooled,
        100.0 * agg.agreement,
        100.0 * agg.agreement_mean,
        agg.alpha,
        agg.u_alpha,
        agg.segments,
        100.0 * agg.segment_agreement,
        agg.holsti,
        agg.bp_kappa,
    ]


def _header(ws: Worksheet, names: Sequence[str]) -> None:
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    _row(ws, 1, names)
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for col in range(1, len(names) + 1):
        ws.column_dimensions[get_column_letter(col)].width = 13
    # Wrapped headers need a taller row: about 12 characters fit a 13-wide column per line.
    ws.row_dimensions[1].height = 15 * max(-(-len(name) // 12) for name in names)
    ws.freeze_panes = "A2"


def _comparison_sheet(ws: Worksheet, result: AgreementResult) -> None:
    ws.title = "Coding Comparison"
    _header(ws, COMPARISON_HEADER)
    for i, r in enumerate(result.per_code_source, start=2):
        _row(ws, i, _comparison_row(r))
    ws.auto_filter.ref = f"A1:K{max(len(result.per_code_source) + 1, 2)}"
    base = len(result.per_code_source) + 3
    o = result.overall
    summaries = (
        ("All nodes and sources: simple mean", o.kappa_mean, 100.0 * o.agreement_mean),
        ("All nodes and sources: mean weighted by source size", o.kappa_weighted, 100.0 * o.agreement),
        ("All nodes and sources: pooled over all units", o.kappa_pooled, 100.0 * o.agreement),
    )
    for i, (label, kappa, pa) in enumerate(summaries):
        _row(ws, base + i, [label, "", o.table.units, kappa, pa])
    _formats(ws, {"D": "0.0000", **dict.fromkeys("EFGHIJ", "0.00")})
    ws.column_dimensions["B"].width = 16
    ws.column_dimensions["K"].width = 60


def _per_code_sheet(ws: Worksheet, result: AgreementResult) -> None:
    _header(ws, PER_CODE_HEADER)
    for i, c in enumerate(result.per_code, start=2):
        _row(ws, i, [c.code, " / ".join(c.code_path), *_aggregate_cells(c.summary)])
    _row(ws, len(result.per_code) + 2, ["Overall", "", *_aggregate_cells(result.overall)])
    four = "0.0000"
    # E-G kappas, H-I agreement %, J-K alphas, L segments, M segment %, N Holsti, O BP kappa
    _formats(ws, {**dict.fromkeys("EFGJKNO", four), **dict.fromkeys("HIM", "0.00")})


def _disagreement_sheet(ws: Worksheet, result: AgreementResult) -> None:
    _header(ws, DISAGREEMENT_HEADER)
    who = {"A": f"A only ({result.label_a})", "B": f"B only ({result.label_b})"}
    for i, d in enumerate(result.disagreements, start=2):
        _row(ws, i, [d.code, " / ".join(d.code_path), d.source, d.start, d.end, d.units, who[d.coded_by], d.text])
    ws.column_dimensions["A"].width = 30
    ws.column_dimensions["B"].width = 30
    ws.column_dimensions["C"].width = 16
    ws.column_dimensions["G"].width = 24
    ws.column_dimensions["H"].width = 80
    _landscape(ws)


def _readme_sheet(ws: Worksheet, result: AgreementResult) -> None:
    lines = [
        ("qdx version", __version__),
        ("Coder A", result.label_a),
        ("Coder B", result.label_b),
        ("Unit", result.unit),
        ("Rows", "all node x source pairs" if result.all_pairs else "node x source pairs coded by A or B"),
        ("Kappa", "Cohen's kappa per node and source, NVivo's count form; 1 when nobody coded"),
        ("Simple mean", "unweighted mean of the per-source values"),
        ("Weighted mean", "mean weighted by source size in units"),
        ("Pooled", "one 2x2 table over all units of all sources of the node"),
        ("Alpha", "Krippendorff's alpha, nominal, binary per node over units (not ATLAS.ti's continuum alpha)"),
        ("|u-alpha", "Krippendorff's unitizing alpha, binary: coded runs and gaps on the continuum (ATLAS.ti-style)"),
        ("Segments", f"MAXQDA-style: same code overlapping >= {result.overlap:.0%} ({result.overlap_measure})"),
        ("Brennan-Prediger", "free-marginal kappa, chance = 1 / number of nodes in the analysis"),
        *(("Warning", w) for w in result.warnings),
    ]
    for i, (key, value) in enumerate(lines, start=1):
        _row(ws, i, [key, value])
    ws.column_dimensions["A"].width = 18
    ws.column_dimensions["B"].width = 90


def _formats(ws: Worksheet, formats: dict[str, str]) -> None:
    for col, fmt in formats.items():
        for cell in ws[col][1:]:
            if isinstance(cell.value, float):
                cell.number_format = fmt
    ws.column_dimensions["A"].width = 30
    ws.column_dimensions["B"].width = 40
    _landscape(ws)


def _landscape(ws: Worksheet) -> None:
    """Print one page wide (and open readably when converted to PDF)."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    from openpyxl.worksheet.properties import PageSetupProperties

    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)


def write_xlsx(result: AgreementResult, stream: BinaryIO) -> None:
    """Write the agreement workbook (sheets: Coding Comparison, Per node, Disagreements, README)."""
    from openpyxl import Workbook

    wb = Workbook()
    first = wb.active
    assert first is not None
    _comparison_sheet(first, result)
    _per_code_sheet(wb.create_sheet("Per node"), result)
    _disagreement_sheet(wb.create_sheet("Disagreements"), result)
    _readme_sheet(wb.create_sheet("README"), result)
    wb.save(stream)
