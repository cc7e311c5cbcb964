"""NVivo's exported Matrix Coding layout (docs/nvivo-exports.md §e.1) as plain rows, for CSV output.

::

          A                B                C
    1                      A : Trust        B : Distrust      ← A1 empty; "<letters> : <name>"
    2     1 : Nurse A      3                0                 ← "<n> : <name>"; numbers

The ``.xlsx`` form is written by :func:`qdx.formats.nvivo.matrix.write_matrix` (and read back
by :func:`qdx.formats.nvivo.matrix.read_matrix`); this module gives CSV the same grid.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qdx.formats.nvivo.matrix import column_letters

if TYPE_CHECKING:
    import pandas as pd


def nvivo_grid(frame: pd.DataFrame) -> list[list[object]]:
    """The matrix as NVivo's rows of cells (header row first; A1 empty)."""
    header: list[object] = [None, *(f"{column_letters(i)} : {c}" for i, c in enumerate(frame.columns))]
    rows = [header]
    for i, (label, values) in enumerate(zip(frame.index, frame.to_numpy().tolist(), strict=True), start=1):
        rows.append([f"{i} : {label}", *values])
    return rows
