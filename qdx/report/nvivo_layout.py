"""NVivo's exported Matrix Coding layout (EXPORTS.md §e.1), written and read back.

::

          A                B                C
    1                      A : Trust        B : Distrust      ← A1 empty; "<letters> : <name>"
    2     1 : Nurse A      3                0                 ← "<n> : <name>"; numbers
    3     2 : Nurse B      2                5

Column ids are spreadsheet letters (A … Z, AA …), row ids 1-based integers, each followed by
``" : "``. NVivo does not say which cell mode it used, so the reader returns numbers only.
"""

from __future__ import annotations

import re
from typing import IO, TYPE_CHECKING

from qdx.errors import ReadError
from qdx.report.safe import is_risky, xlsx_text

if TYPE_CHECKING:
    import pandas as pd

_LABEL = re.compile(r"^\s*([A-Z]+|\d+)\s:\s(.*)$", re.DOTALL)


def letters(n: int) -> str:
    """Spreadsheet column letters for 1-based ``n`` (1 → A, 27 → AA)."""
    out = ""
    while n > 0:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


def nvivo_grid(frame: pd.DataFrame) -> list[list[object]]:
    """The matrix as NVivo's rows of cells (header row first)."""
    header: list[object] = [None, *(f"{letters(i)} : {c}" for i, c in enumerate(frame.columns, start=1))]
    rows = [header]
    for i, (label, values) in enumerate(zip(frame.index, frame.to_numpy().tolist(), strict=True), start=1):
        rows.append([f"{i} : {label}", *values])
    return rows


def write_nvivo_xlsx(frame: pd.DataFrame, stream: IO[bytes]) -> None:
    """Write ``frame`` in NVivo's Matrix Coding export layout as ``.xlsx``."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import Cell

    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.title = "Matrix"
    for row in nvivo_grid(frame):
        cells: list[object] = []
        for value in row:
            if isinstance(value, str):
                value = xlsx_text(value)
                if is_risky(value):  # labels are "<id> : name", so never a formula, but be sure
                    cell = Cell(ws, row=1, column=1, value=None)  # append() places it
                    cell.value, cell.data_type = value, "s"
                    value = cell
            cells.append(value)
        ws.append(cells)
    book.save(stream)


def _strip(label: object, where: str) -> tuple[str, str]:
    match = _LABEL.match(str(label)) if label is not None else None
    if match is None:
        raise ReadError(f"not an NVivo matrix label: {label!r}", location=where)
    return match.group(1), match.group(2)


def read_nvivo_xlsx(stream: IO[bytes]) -> pd.DataFrame:
    """Read an NVivo-layout matrix back into a DataFrame (ids stripped from labels).

    Raises:
        ReadError: the sheet does not have the layout.
    """
    import pandas as pd
    from openpyxl import load_workbook

    ws = load_workbook(stream, read_only=True, data_only=True).worksheets[0]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    if not rows or rows[0][0] not in (None, ""):
        raise ReadError("cell A1 of an NVivo matrix is empty", location="A1")
    cols = [_strip(v, f"{letters(i)}1")[1] for i, v in enumerate(rows[0][1:], start=2)]
    index = [_strip(r[0], f"A{n}")[1] for n, r in enumerate(rows[1:], start=2)]
    data = [[0 if v is None else v for v in r[1:]] for r in rows[1:]]
    return pd.DataFrame(data, index=index, columns=cols)
