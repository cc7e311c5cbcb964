"""Writing matrices and tidy tables to files: ``.xlsx``, ``.csv`` and ``.parquet``.

Every write goes through :func:`qdx.safety.atomic_write`; every CSV has formula-like text
neutralised (:mod:`qdx.report.safe`). Matrix CSVs are UTF-8 with a BOM so spreadsheet
programs detect the encoding (CJK names); table exports are plain UTF-8 for DuckDB/Spark.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, BinaryIO

from qdx.errors import UsageError
from qdx.options import MatrixLayout
from qdx.report.safe import frame_csv
from qdx.report.sheets import COEFF, COUNT, DECIMAL, Table, write_table
from qdx.safety import atomic_folder, atomic_write

if TYPE_CHECKING:
    import pandas as pd

    from qdx.report.frames import Frames

MATRIX_SUFFIXES = (".xlsx", ".csv", ".parquet")
# NVivo's names for the cell content (docs/nvivo-exports.md §e.1); the last three are qdx's own measures.
NVIVO_MEASURES = {
    "references": "Coding References", "sources": "Files Coded", "cases": "Cases Coded",
    "words": "Words Coded", "presence": "Coding Presence", "row-pct": "Row Percentage",
    "col-pct": "Column Percentage", "characters": "Characters Coded", "coverage": "Coverage (%)",
    "c-coefficient": "c-coefficient",
}
_FORMATS = {"coverage": DECIMAL, "row-pct": DECIMAL, "col-pct": DECIMAL, "c-coefficient": COEFF}


def require_parquet() -> None:
    """Parquet needs pyarrow, an optional extra (``qdx[parquet]``): say so in one line.

    Raises:
        UsageError: pyarrow cannot be imported.
    """
    try:
        import pyarrow  # noqa: F401
    except ImportError as exc:
        raise UsageError(
            "writing parquet needs pyarrow, which is not installed: pip install 'qdx[parquet]'"
            " (or write csv instead)"
        ) from exc


def _suffix(path: str | os.PathLike[str], allowed: tuple[str, ...]) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in allowed:
        raise UsageError(f"cannot write {suffix or 'a file without extension'}; use {', '.join(allowed)}")
    return suffix


def matrix_table(frame: pd.DataFrame, description: str = "") -> list[Table]:
    """The matrix sheet (heat map, frozen labels) and an About sheet."""
    value = str(frame.attrs.get("value", "references"))
    corner = f"{frame.index.name or ''} \\ {frame.columns.name or ''}".strip()
    rows = [[str(lab), *vals] for lab, vals in zip(frame.index, frame.to_numpy().tolist(), strict=True)]
    n = len(frame.columns)
    sheet = Table("Matrix", [corner, *map(str, frame.columns)], rows,
                  formats=dict.fromkeys(range(1, n + 1), _FORMATS.get(value, COUNT)),
                  heat=(1, n) if n else None)
    about = Table("About", ["item", "value"], [["cell value", value], ["what", description]], wrap=(1,))
    return [sheet, about]


def _write_xlsx(frame: pd.DataFrame, stream: IO[bytes], description: str) -> None:
    from openpyxl import Workbook

    book = Workbook()
    if book.active is not None:
        book.remove(book.active)
    taken: set[str] = set()
    for table in matrix_table(frame, description):
        write_table(book, table, taken)
    book.save(stream)


def _flat(frame: pd.DataFrame) -> pd.DataFrame:
    """The matrix with its row labels as the first column (named after the row kind)."""
    out = frame.copy()
    out.columns = [str(c) for c in out.columns]
    out.index.name = str(frame.index.name or "row")
    return out.reset_index()


def write_matrix(frame: pd.DataFrame, path: str | os.PathLike[str], *, layout: MatrixLayout = "qdx",
                 description: str = "") -> None:
    """Write a matrix to ``.xlsx``, ``.csv`` or ``.parquet`` atomically.

    Args:
        frame: a matrix from :func:`qdx.matrix` (labels on both axes).
        path: the output file; its extension picks the format.
        layout: ``qdx`` (a labelled table) or ``nvivo`` (NVivo's export layout, docs/nvivo-exports.md
            §e.1; ``.xlsx`` and ``.csv`` only).
        description: what the matrix shows (written to the workbook's About sheet).

    Raises:
        UsageError: an unsupported extension or layout. WriteError: the file cannot be written.
    """
    suffix = _suffix(path, MATRIX_SUFFIXES)
    if layout not in ("qdx", "nvivo"):
        raise UsageError(f"unknown layout {layout!r}; choose qdx or nvivo")
    if layout == "nvivo":
        _write_nvivo(frame, path, suffix)
    elif suffix == ".xlsx":
        atomic_write(path, lambda s: _write_xlsx(frame, s, description))
    elif suffix == ".csv":
        atomic_write(path, lambda s: _put(s, matrix_csv(frame), "utf-8-sig"))
    else:
        require_parquet()
        atomic_write(path, lambda s: arrow_ready(_flat(frame)).to_parquet(s, index=False))


def matrix_csv(frame: pd.DataFrame) -> str:
    """The text of a matrix's ``.csv`` (labels in the first columns, cells defused)."""
    return frame_csv(_flat(frame))


def _put(stream: IO[bytes], text: str, encoding: str) -> None:
    stream.write(text.encode(encoding))


def _write_nvivo(frame: pd.DataFrame, path: str | os.PathLike[str], suffix: str) -> None:
    import pandas as pd

    from qdx.formats.nvivo.matrix import write_matrix as write_nvivo_xlsx
    from qdx.report.nvivo_layout import nvivo_grid

    if suffix == ".xlsx":
        # The NVivo package's writer (docs/nvivo-exports.md §e.1) records the cell measure in the workbook
        # subject, since NVivo's layout itself does not say which one was used.
        measure = NVIVO_MEASURES.get(str(frame.attrs.get("value", "references")), "Coding References")
        atomic_write(path, lambda s: write_nvivo_xlsx(frame, s, measure=measure))
    elif suffix == ".csv":
        grid = pd.DataFrame(nvivo_grid(frame))
        atomic_write(path, lambda s: _put(s, frame_csv(grid, header=False), "utf-8-sig"))
    else:
        raise UsageError("--layout nvivo writes .xlsx or .csv (NVivo exports spreadsheets)")


def arrow_ready(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with mixed-type text columns (e.g. a variable's odd values) made all-text."""
    from pandas.api.types import is_numeric_dtype

    out = frame.copy()
    for col in out.columns:
        if not is_numeric_dtype(out[col]):
            kinds = {type(v) for v in out[col] if v is not None}
            if len(kinds) > 1:
                out[col] = out[col].map(lambda v: None if v is None else str(v))
    return out


def export_tables(tables: Frames, folder: str | os.PathLike[str], *, to: str) -> list[Path]:
    """Write each tidy table to ``folder/<name>.parquet`` (or ``.csv``) atomically.

    Args:
        tables: from :func:`qdx.frames`.
        folder: an existing or new folder.
        to: ``parquet`` or ``csv``.

    Returns:
        The files written.

    Raises:
        UsageError: an unknown format. WriteError: a file cannot be written.
    """
    if to not in ("parquet", "csv"):
        raise UsageError(f"unknown export format {to!r}; choose parquet or csv")
    if to == "parquet":
        require_parquet()
    producers: dict[str, Callable[[BinaryIO], None]] = {}
    for name, frame in tables.tables().items():
        if to == "parquet":
            producers[f"{name}.{to}"] = lambda s, f=frame: arrow_ready(f).to_parquet(s, index=False)  # type: ignore[misc]
        else:
            producers[f"{name}.{to}"] = lambda s, f=frame: _put(s, frame_csv(f), "utf-8")  # type: ignore[misc]
    # One step: a failure (disk full, Ctrl-C) leaves no half-exported folder.
    return atomic_folder(folder, producers)
