"""Cell text that a spreadsheet can never run as a formula (CSV/formula injection, OWASP).

A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is taken as a
formula by Excel/LibreOffice when a CSV is opened, so qdx writes such text:

* in ``.xlsx`` as a string cell with the quote-prefix style (``'``), never a formula cell;
* in ``.csv`` with a leading apostrophe, the mitigation spreadsheet programs understand, and
  every text cell quoted, so a line break or a list separator (``,`` or ``;``) inside a
  text can never start a new cell or row.

XML 1.0 cannot hold most C0 control characters, so they become U+FFFD in ``.xlsx``; Excel
cells hold at most 32,767 characters, so longer text is cut with a visible marker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

# The rule lives in qdx.cells, shared by every writer; re-exported here for qdx.report.
from qdx.cells import CSV_QUOTING, EXCEL_MAX_CHARS, RISKY_START, csv_text, is_risky, xlsx_text

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["EXCEL_MAX_CHARS", "RISKY_START", "csv_frame", "csv_text", "frame_csv", "is_risky", "xlsx_text"]


def csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells (values, index and headers) are CSV-safe."""
    import pandas as pd
    from pandas.api.types import is_numeric_dtype

    out = frame.copy()
    for col in out.columns:
        if not is_numeric_dtype(out[col]):
            out[col] = out[col].map(csv_text)
    out.columns = pd.Index([csv_text(str(c)) for c in out.columns], name=frame.columns.name)
    if not is_numeric_dtype(out.index):
        out.index = pd.Index([csv_text(v) for v in out.index], name=frame.index.name)
    return out


def frame_csv(frame: pd.DataFrame, *, header: bool = True) -> str:
    """``frame`` as CSV text, safe to open in a spreadsheet: :func:`csv_frame`'s cells with
    every text cell quoted (:data:`qdx.cells.CSV_QUOTING`). The only way qdx turns a frame
    into CSV."""
    return csv_frame(frame).to_csv(index=False, header=header, quoting=CSV_QUOTING)
