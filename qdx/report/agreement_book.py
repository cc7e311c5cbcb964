"""The agreement workbook (``qdx agree -o``): NVivo's Coding Comparison layout and qdx's own.

Sheets: ``Coding Comparison`` (one row per code and source, NVivo's columns, docs/methods.md §A.1
"Output columns"), ``Per node`` (every labelled aggregate per code and an Overall row, the
same layout as the report's Agreement sheet), ``Disagreements`` (whole passages, A's text
beside B's) and ``README`` (the definitions). Written through :mod:`qdx.report.sheets`, so it
prints like every other qdx workbook.

>>> write_agreement_xlsx(qdx.agree(a, b), "agreement.xlsx")   # doctest: +SKIP
"""

from __future__ import annotations

import os
from typing import IO, TYPE_CHECKING

from qdx import __version__
from qdx.report.analysis_sheets import (
    PATH_SEP,
    agreement_table,
    comparison_table,
    disagreement_table,
)
from qdx.report.sheets import Table, table_from_rows, write_tables
from qdx.safety import atomic_write

if TYPE_CHECKING:
    from qdx.analysis.agreement import AgreementResult

# NVivo's own column names for the Coding Comparison export (docs/methods.md §A.1).
COMPARISON_HEADER = ["Node", "Source", "Source Size", "Kappa", "Agreement (%)", "A and B (%)",
                     "Not A and Not B (%)", "Disagreement (%)", "A and Not B (%)", "B and Not A (%)", "Node path"]


def _readme(result: AgreementResult) -> Table:
    rows = [
        ["qdx version", __version__], ["Coder A", result.label_a], ["Coder B", result.label_b],
        ["Unit", result.unit],
        ["Rows", "all code × source pairs" if result.all_pairs else "code × source pairs coded by A or B"],
        ["Kappa", "Cohen's kappa per code and source, NVivo's count form; 1 when nobody coded"],
        ["Simple mean", "unweighted mean of the per-source values"],
        ["Weighted mean", "mean weighted by source size in units"],
        ["Pooled", "one 2×2 table over all units of all sources of the code"],
        ["Alpha", "Krippendorff's alpha, nominal, binary per code over units (not ATLAS.ti's continuum alpha)"],
        ["|u-alpha", "Krippendorff's unitizing alpha, binary: coded runs and gaps on the continuum (ATLAS.ti-style)"],
        ["Segments", f"MAXQDA-style: same code overlapping ≥ {result.overlap:.0%} ({result.overlap_measure})"],
        ["Brennan-Prediger", "free-marginal kappa, chance = 1 / number of codes in the analysis"],
        ["n/a", "a measure that is undefined for the row (no segments to compare, no variation)"],
        *(["Warning", w] for w in result.warnings),
    ]
    return table_from_rows("README", ["item", "definition"], rows, wrap=(1,))


def agreement_tables(result: AgreementResult) -> list[Table]:
    """The four sheets of the agreement workbook."""
    comparison = comparison_table(result)
    comparison.header = list(COMPARISON_HEADER)
    passages = [[PATH_SEP.join(p.code_path), p.source, p.start, p.end, p.text_a or None, p.text_b or None]
                for p in result.passages]
    return [comparison, agreement_table(result, "Per node"),
            disagreement_table(passages, result.label_a, result.label_b), _readme(result)]


def write_agreement(result: AgreementResult, stream: IO[bytes]) -> None:
    """Write the agreement workbook to a binary stream."""
    write_tables(stream, agreement_tables(result), project=f"{result.label_a} vs {result.label_b}",
                 title="qdx agreement")


def write_agreement_xlsx(result: AgreementResult, path: str | os.PathLike[str]) -> None:
    """Write ``result`` as an Excel workbook (atomically; see the module docstring).

    Args:
        result: what :func:`qdx.analysis.agreement.agree` returned.
        path: the ``.xlsx`` to write; replaced only when the write succeeds.

    Raises:
        WriteError: the file cannot be written.
    """
    atomic_write(path, lambda stream: write_agreement(result, stream))
