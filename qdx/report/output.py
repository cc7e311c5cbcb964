"""Writing matrices and tidy tables to files: ``.xlsx``, ``.csv`` and ``.parquet``.

Every write goes through :func:`qdx.safety.atomic_write`; every CSV has formula-like text
neutralised (:mod:`qdx.report.safe`). CSVs are UTF-8 with a byte-order mark by default, so
Excel on Windows detects the encoding (CJK names); ``bom=False`` leaves it out. The ``.xlsx``
matrix uses the report's sheet builders (:mod:`qdx.report.sheets`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, BinaryIO

from qdx import __version__
from qdx.errors import UsageError
from qdx.options import MatrixLayout
from qdx.report.arrow_tables import require_parquet
from qdx.report.safe import frame_csv
from qdx.report.sheets import COEFF, COUNT, PERCENT, Table, table_from_rows, write_tables
from qdx.safety import atomic_folder, atomic_write

if TYPE_CHECKING:
    import pandas as pd

    from qdx.analysis._codings import Corpus
    from qdx.report.frames import Frames

MATRIX_SUFFIXES = (".xlsx", ".csv", ".parquet")
# NVivo's names for the cell content (docs/nvivo-exports.md §e.1); the last three are qdx's own measures.
NVIVO_MEASURES = {
    "references": "Coding References", "sources": "Files Coded", "cases": "Cases Coded",
    "words": "Words Coded", "presence": "Coding Presence", "row-pct": "Row Percentage",
    "col-pct": "Column Percentage", "characters": "Characters Coded", "coverage": "Coverage (%)",
    "c-coefficient": "c-coefficient",
}
_FORMATS = {"coverage": PERCENT, "row-pct": PERCENT, "col-pct": PERCENT, "c-coefficient": COEFF}


def require_suffix(path: str | os.PathLike[str], allowed: tuple[str, ...], what: str = "") -> str:
    """``path``'s suffix (lower case) when it is one of ``allowed``, checked before any work.

    Raises:
        UsageError: another suffix, or none; ``what`` names the output in the message.
    """
    suffix = Path(path).suffix.lower()
    if suffix not in allowed:
        written = f"{what} as " if what else ""
        raise UsageError(f"cannot write {written}{suffix or 'a file without extension'}; use {', '.join(allowed)}")
    return suffix


@dataclass(frozen=True, slots=True)
class MatrixSpec:
    """How a matrix was asked for: its axes, cell value, level and filters (stated on the sheet)."""

    rows: str = "codes"
    cols: str = "sources"
    value: str = "references"
    level: str | None = None
    cooccur: str = "overlap"
    set_name: str | None = None
    coder: str | None = None
    rollup: bool = False

    def caption(self) -> str:
        """One line naming the measure, the axes and every filter."""
        measure = NVIVO_MEASURES.get(self.value, self.value)
        parts = [f"{measure}: {self.rows} × {self.cols}"]
        if self.level:
            parts.append(f"codes at level {self.level} (codings below rolled up)")
        elif self.rollup and "codes" in (self.rows, self.cols):
            parts.append("every code, a category counting its whole subtree")
        if self.rows == self.cols == "codes":
            parts.append(f"co-occurrence by {self.cooccur}")
        filters = [f"set '{self.set_name}'" if self.set_name else "", f"coder '{self.coder}'" if self.coder else ""]
        chosen = " and ".join(f for f in filters if f)
        parts.append(f"filter: only codings of {chosen}; columns outside it dropped" if chosen else "no filter")
        return " · ".join(parts)


def _scaled(value: str) -> float:
    """Matrix percentages are 0–100; a workbook shows them as 0–1 under a percent format."""
    return 0.01 if value in ("coverage", "row-pct", "col-pct") else 1.0


def _value(number: float, scale: float) -> float | int:
    """A total as the matrix shows it: scaled for percentages, a whole count as an integer."""
    if scale != 1.0:
        return number * scale
    return int(number) if float(number).is_integer() else number


def _labels(frame: pd.DataFrame, corpus: Corpus | None, spec: MatrixSpec) -> tuple[list[str], list[list[Any]]]:
    """Row label columns: the code's level columns for code rows, else one column."""
    if spec.rows == "codes" and corpus is not None:
        from qdx.report.levels import LevelNames, ancestor_columns, is_grounded

        names = LevelNames(corpus.tree, is_grounded(corpus.project))
        cols, labels = ancestor_columns(corpus.tree, names, list(frame.attrs["row_keys"]), spec.level)
        return cols, [list(lab) for lab in labels]
    corner = f"{frame.index.name or ''} \\ {frame.columns.name or ''}".strip()
    return [corner], [[str(lab)] for lab in frame.index]


def matrix_table(frame: pd.DataFrame, description: str = "", *, corpus: Corpus | None = None,
                 spec: MatrixSpec | None = None) -> list[Table]:
    """The matrix sheet (level columns, totals, heat map, filters stated) and an About sheet.

    With the ``corpus`` the matrix came from, code rows get their level columns and every
    matrix except code × code gets a Total column and row (the measure over the pooled
    codings, :func:`qdx.analysis.matrix.matrix_totals`).
    """
    spec = spec or MatrixSpec(value=str(frame.attrs.get("value", "references")))
    value, scale = spec.value, _scaled(spec.value)
    label_names, labels = _labels(frame, corpus, spec)
    values = (frame.to_numpy() * scale).tolist() if scale != 1.0 else frame.to_numpy().tolist()
    if spec.rows == spec.cols == "codes" and value == "c-coefficient":
        for i, row in enumerate(values):  # the diagonal is 1 by definition: blank it before colouring
            if i < len(row):
                row[i] = None
    rows = [[*lab, *vals] for lab, vals in zip(labels, values, strict=True)]
    header = [*label_names, *map(str, frame.columns)]
    k, n = len(label_names), len(frame.columns)
    fmt = PERCENT if scale != 1.0 else _FORMATS.get(value, COUNT)
    totals = 0
    if corpus is not None and not spec.rows == spec.cols == "codes" and len(rows):
        from qdx.analysis.matrix import matrix_totals

        by_row, by_col, grand = matrix_totals(corpus, rows=spec.rows, cols=spec.cols, value=value, level=spec.level,
                                              rollup=spec.rollup)
        rows = [[*r, _value(t, scale)] for r, t in zip(rows, by_row, strict=True)]
        rows.append(["Total", *[None] * (k - 1), *[_value(t, scale) for t in by_col], _value(grand, scale)])
        header.append("Total")
        totals = 1
    sheet = table_from_rows("Matrix", header, rows, formats=dict.fromkeys(range(k, len(header)), fmt),
                            heat=(k, k + n - 1) if n else None, label_cols=k, totals=totals,
                            caption=spec.caption())
    about = table_from_rows("About", ["item", "value"], [
        ["cell value", NVIVO_MEASURES.get(value, value)], ["what", description or spec.caption()],
        ["filters", spec.caption().split(" · ")[-1]],
        ["Total", "the same measure over all codings of the row / column / table, each coding counted once "
                  "(not a sum of the cells: a category row already contains its children)"],
        ["qdx", __version__]], wrap=(1,))
    return [sheet, about]


def _write_xlsx(frame: pd.DataFrame, stream: IO[bytes], description: str, corpus: Corpus | None,
                spec: MatrixSpec | None) -> None:
    project = corpus.project.name or "" if corpus is not None else ""
    write_tables(stream, matrix_table(frame, description, corpus=corpus, spec=spec), project=project,
                 title="qdx matrix")


def _flat(frame: pd.DataFrame) -> pd.DataFrame:
    """The matrix with its row labels as the first column (named after the row kind)."""
    out = frame.copy()
    out.columns = [str(c) for c in out.columns]
    out.index.name = str(frame.index.name or "row")
    return out.reset_index()


def write_matrix(frame: pd.DataFrame, path: str | os.PathLike[str], *, layout: MatrixLayout = "qdx",
                 description: str = "", corpus: Corpus | None = None, spec: MatrixSpec | None = None,
                 bom: bool = True) -> None:
    """Write a matrix to ``.xlsx``, ``.csv`` or ``.parquet`` atomically.

    Args:
        frame: a matrix from :func:`qdx.matrix` (labels on both axes).
        path: the output file; its extension picks the format.
        layout: ``qdx`` (a labelled table) or ``nvivo`` (NVivo's export layout, docs/nvivo-exports.md
            §e.1; ``.xlsx`` and ``.csv`` only).
        description: what the matrix shows (written to the workbook's About sheet).
        corpus: the corpus the matrix came from: adds level columns and totals to ``.xlsx``.
        spec: how the matrix was asked for (its caption names the filters).
        bom: start a CSV with a UTF-8 byte-order mark (Excel on Windows then reads CJK text).

    Raises:
        UsageError: an unsupported extension or layout. WriteError: the file cannot be written.
    """
    suffix = require_suffix(path, MATRIX_SUFFIXES)
    if layout not in ("qdx", "nvivo"):
        raise UsageError(f"unknown layout {layout!r}; choose qdx or nvivo")
    if layout == "nvivo":
        _write_nvivo(frame, path, suffix)
    elif suffix == ".xlsx":
        atomic_write(path, lambda s: _write_xlsx(frame, s, description, corpus, spec))
    elif suffix == ".csv":
        encoding = "utf-8-sig" if bom else "utf-8"
        atomic_write(path, lambda s: _put(s, matrix_csv(frame), encoding))
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


# infer_dtype kinds Arrow stores as one column type ("mixed…" kinds need making all-text).
_ONE_KIND = frozenset({"string", "empty", "integer", "floating", "boolean", "datetime", "datetime64", "date",
                       "decimal", "bytes", "categorical", "period", "timedelta", "timedelta64", "time"})


def arrow_ready(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with mixed-type text columns (e.g. a variable's odd values) made all-text."""
    from pandas.api.types import infer_dtype

    # infer_dtype scans in C; only a column that mixes kinds needs the per-value map. Typed
    # columns (str, numbers) are all one kind already: the frame is copied only when one is not.
    mixed = [col for col in frame.columns
             if frame[col].dtype == object and infer_dtype(frame[col], skipna=True) not in _ONE_KIND]
    if not mixed:
        return frame
    out = frame.copy()
    for col in mixed:
        out[col] = out[col].map(lambda v: None if v is None else str(v))
    return out


def export_tables(tables: Frames, folder: str | os.PathLike[str], *, to: str, bom: bool = True) -> list[Path]:
    """Write each tidy table to ``folder/<name>.parquet`` (or ``.csv``) atomically.

    Args:
        tables: from :func:`qdx.frames`.
        folder: an existing or new folder.
        to: ``parquet`` or ``csv``.
        bom: start each CSV with a UTF-8 byte-order mark (so Excel on Windows reads CJK text).

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
            encoding = "utf-8-sig" if bom else "utf-8"
            producers[f"{name}.{to}"] = lambda s, f=frame, e=encoding: _put(s, frame_csv(f), e)  # type: ignore[misc]
    # One step: a failure (disk full, Ctrl-C) leaves no half-exported folder.
    return atomic_folder(folder, producers)
