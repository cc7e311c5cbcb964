"""NVivo Matrix Coding and Crosstab query results exported to Excel, docs/nvivo-exports.md §e.

Matrix layout (§e.1, verified on the novelqualcodes samples)::

          A                 B                  C
    1                       A : Trust          B : Distrust      <- A1 empty, "<letters> : <name>"
    2     1 : Nurse A       3                  0                 <- "<n> : <name>", numeric cells

Crosstab layout (§e.2, from an NVivo 14 screenshot): A1 = classification name, columns
``<Attribute> = <value> (<n cases>)``, rows = code names, a final ``Total (unique)`` row.
The export does not say which cell measure was used; qdx's writer records it in the
workbook's subject ("Cell content: ...") and the reader returns it when present.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, BinaryIO

from qdx.errors import FormatError, Issue, Severity
from qdx.formats import ReadOptions
from qdx.formats.nvivo.build import stable_guid
from qdx.formats.nvivo.names import parse_hname
from qdx.formats.nvivo.office import first_sheet, read_all
from qdx.formats.nvivo.xlsxutil import Cell, cells_grid, put, save_deterministic, text
from qdx.model import Case, Code, Project, Provenance

if TYPE_CHECKING:
    import pandas as pd
    from openpyxl.worksheet.worksheet import Worksheet

COLUMN_ID = re.compile(r"^\s*([A-Z]+)\s:\s(.*)$", re.DOTALL)
ROW_ID = re.compile(r"^\s*(\d+)\s:\s(.*)$", re.DOTALL)
CROSSTAB_COLUMN = re.compile(r"^(.+?\s=\s.*?)\s\((\d+)\)$", re.DOTALL)
TOTAL_ROW = re.compile(r"^Total(\s\(unique\))?$", re.IGNORECASE)
_SUBJECT = "Cell content: "
PRESENCE = {"yes": True, "no": False}


def column_letters(index: int) -> str:
    """Spreadsheet-style id of the ``index``-th column (0 → A, 25 → Z, 26 → AA)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def layout_of(rows: list[list[Cell]]) -> str | None:
    """``matrix``, ``crosstab`` or None, judged from the header row and first column."""
    if len(rows) < 2 or len(rows[0]) < 2:
        return None
    header = [text(v) for v in rows[0][1:]]
    first = [text(r[0]) for r in rows[1:] if text(r[0])]
    if not text(rows[0][0]) and header and all(COLUMN_ID.match(h) for h in header if h):
        if first and all(ROW_ID.match(f) for f in first):
            return "matrix"
    if text(rows[0][0]) and header and all(CROSSTAB_COLUMN.match(h) for h in header if h):
        return "crosstab"
    return None


def _numeric(values: list[Cell], where: str) -> list[float | int | str | None]:
    out: list[float | int | str | None] = []
    for value in values:
        if value is None or (isinstance(value, str) and not value.strip()):
            out.append(None)
        elif isinstance(value, bool):
            out.append(int(value))
        elif isinstance(value, int | float):
            out.append(int(value) if float(value).is_integer() else float(value))
        else:
            out.append(str(value).strip())
    return out


def _frame(
    labels: list[str], columns: list[str], cells: list[list[float | int | str | None]]
) -> pd.DataFrame:
    import pandas as pd

    frame = pd.DataFrame(cells, index=pd.Index(labels, name="row"), columns=pd.Index(columns, name="column"))
    values = [v for row in cells for v in row if v is not None]
    if all(isinstance(v, int) for v in values):
        # Folder rows are empty in NVivo exports (§0.3): they count nothing.
        return frame.fillna(0).astype("int64")
    if all(isinstance(v, int | float) for v in values):
        return frame.astype("float64")
    if values and all(isinstance(v, str) and v.lower() in PRESENCE for v in values):
        # Coding Presence cells (§e.1, NVivo 11 help: "Yes/No").
        return frame.map(lambda v: None if v is None else PRESENCE[str(v).lower()]).astype("boolean")
    return frame


def read_matrix(stream: BinaryIO, *, label: str = "<matrix>", options: ReadOptions | None = None) -> pd.DataFrame:
    """Read a Matrix Coding or Crosstab export into a DataFrame.

    Args:
        stream: the .xlsx bytes.
        label: how to name the file in errors.
        options: safety limits (defaults apply otherwise).

    Returns:
        Rows and columns labelled by name (``"1 : Nurse A"`` → ``"Nurse A"``), integer cells
        when every cell is a whole number. ``attrs`` holds ``layout`` (matrix/crosstab),
        ``row_ids``, ``column_ids`` (NVivo's ids, for ordering), ``measure`` (or None),
        ``corner`` (A1) and, for crosstabs, ``column_counts`` and ``totals``.

    Raises:
        FormatError: the first sheet is not in NVivo's matrix or crosstab layout.

    Example:
        >>> df = read_matrix(open("Int01_ID731.xlsx", "rb"))   # doctest: +SKIP
        >>> int(df.loc["Insects are beautiful"].iloc[0])        # doctest: +SKIP
        0
    """
    options = options or ReadOptions(label=label)
    sheet = first_sheet(read_all(stream), options)
    rows = cells_grid(sheet.stored, sheet.title)
    layout = layout_of(rows)
    if layout is None:
        raise FormatError("not an NVivo matrix or crosstab layout", location=f"{options.label}!A1")
    subject = sheet.subject
    frame = _matrix(rows, options.label) if layout == "matrix" else _crosstab(rows, options.label)
    frame.attrs["layout"] = layout
    frame.attrs["corner"] = text(rows[0][0])
    frame.attrs["measure"] = subject[len(_SUBJECT) :] if subject.startswith(_SUBJECT) else None
    return frame


def _split(value: Cell, pattern: re.Pattern[str]) -> tuple[str, str]:
    match = pattern.match(text(value))
    return (match.group(1), match.group(2).strip()) if match else ("", text(value))


def _matrix(rows: list[list[Cell]], label: str) -> pd.DataFrame:
    columns = [_split(v, COLUMN_ID) for v in rows[0][1:]]
    body = [r for r in rows[1:] if text(r[0])]
    labels = [_split(r[0], ROW_ID) for r in body]
    cells = [_numeric(r[1:], label) for r in body]
    frame = _frame([n for _, n in labels], [n for _, n in columns], cells)
    frame.attrs["row_ids"] = [int(i) if i else None for i, _ in labels]
    frame.attrs["column_ids"] = [i for i, _ in columns]
    return frame


def _crosstab(rows: list[list[Cell]], label: str) -> pd.DataFrame:
    columns = [_split(v, CROSSTAB_COLUMN) for v in rows[0][1:]]
    body = [r for r in rows[1:] if text(r[0]) and not TOTAL_ROW.match(text(r[0]))]
    totals = [r for r in rows[1:] if TOTAL_ROW.match(text(r[0]))]
    cells = [_numeric(r[1:], label) for r in body]
    frame = _frame([text(r[0]) for r in body], [name for name, _ in columns], cells)
    frame.attrs["row_ids"] = list(range(1, len(body) + 1))
    frame.attrs["column_ids"] = [column_letters(i) for i in range(len(columns))]
    frame.attrs["column_counts"] = [int(n) if n.isdigit() else None for _, n in columns]
    if totals:
        frame.attrs["totals"] = dict(zip(frame.columns, _numeric(totals[0][1:], label), strict=False))
    return frame


def write_matrix(
    df: pd.DataFrame, stream: BinaryIO, *, measure: str = "Coding References", ids: bool = True
) -> None:
    """Write a DataFrame in NVivo's Matrix Coding export layout (§e.1).

    Args:
        df: rows x columns of cell values (index and columns are the labels).
        stream: a binary stream to write the .xlsx to.
        measure: the cell measure, recorded in the workbook subject ("Cell content: ...")
            because NVivo's layout itself does not say.
        ids: prefix labels with NVivo's ids (``A : ``, ``1 : ``) as NVivo does.

    Example:
        >>> write_matrix(pd.DataFrame({"Case A": [3]}, index=["Trust"]), out)   # doctest: +SKIP
    """
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    workbook.properties.subject = _SUBJECT + measure
    for j, column in enumerate(df.columns):
        put(sheet, 1, j + 2, f"{column_letters(j)} : {column}" if ids else str(column))
    row_ids = _row_ids(df)
    for i, (label, row) in enumerate(df.iterrows(), start=1):
        put(sheet, i + 1, 1, f"{row_ids[i - 1]} : {label}" if ids else str(label))
        for j, value in enumerate(row.tolist()):
            put(sheet, i + 1, j + 2, _plain(value))
    _print_setup(sheet, [str(column) for column in df.columns], [str(label) for label in df.index])
    save_deterministic(workbook, stream)


def _print_setup(sheet: Worksheet, columns: list[str], labels: list[str]) -> None:
    """A4 page setup for the NVivo layout: the cells stay exactly NVivo's, only printing changes.

    Printed at 100 % (never shrunk below a readable size): a matrix wider than the page spills
    onto further pages, each repeating the header row and the row-label column, with the sheet
    name and page number in the header and footer.
    """
    from openpyxl.styles import Alignment
    from openpyxl.utils import get_column_letter

    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.title = "Matrix"  # openpyxl's default "Sheet" says nothing on the printed header
    sheet.page_setup.orientation = "landscape" if len(columns) > 6 else "portrait"
    sheet.print_title_rows = "1:1"
    sheet.print_title_cols = "A:A"
    header, footer = sheet.oddHeader, sheet.oddFooter
    if header is not None and footer is not None:  # always set on a new openpyxl sheet
        header.center.text = "&A"
        footer.center.text = "Page &P of &N"
    longest = max((len(label) for label in labels), default=10) + 6  # "12 : " id prefix
    sheet.column_dimensions["A"].width = min(60, max(12, longest))

    # Column captions ("A : Interview 12") wrap in a column wide enough for their longest word,
    # so a printed header is never cut at the next column's edge.
    for j, caption in enumerate(columns, start=2):
        word = max((len(part) for part in caption.split()), default=4)  # + the "AB : " id: own words
        sheet.column_dimensions[get_column_letter(j)].width = min(30, max(10, word + 2, len(caption) // 2 + 2))
        sheet.cell(1, j).alignment = Alignment(wrap_text=True, vertical="bottom", horizontal="center")
    if longest > 60:  # a long code path wraps in its cell instead of printing under the numbers
        for (cell,) in sheet.iter_rows(min_row=2, min_col=1, max_col=1):
            cell.alignment = Alignment(wrap_text=True, vertical="top")


def _row_ids(df: pd.DataFrame) -> list[int]:
    """NVivo's row ids: kept from a frame read by :func:`read_matrix`, else 1..n."""
    kept = df.attrs.get("row_ids")
    if isinstance(kept, list) and len(kept) == len(df) and all(isinstance(i, int) for i in kept):
        return kept
    return list(range(1, len(df) + 1))


def _plain(value: object) -> Cell:
    """numpy scalars → Python values openpyxl accepts; NaN → empty."""
    item = getattr(value, "item", None)
    value = item() if callable(item) else value
    if isinstance(value, float) and value != value:
        return None
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)


def _row_codes(labels: list[str]) -> tuple[Code, ...]:
    """Row labels as codes; hierarchical names (``Codes\\\\A\\B``, §0.2) nest under their parents."""
    children: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
    for label in labels:
        item = parse_hname(label).item or (label,)
        for depth in range(1, len(item) + 1):
            path, parent = item[:depth], item[: depth - 1]
            if path not in children.get(parent, []):
                children.setdefault(parent, []).append(path)

    def make(path: tuple[str, ...]) -> Code:
        kids = tuple(make(p) for p in children.get(path, []))
        return Code(guid=stable_guid("matrix-row", *path), name=path[-1], children=kids)

    return tuple(make(p) for p in children.get((), []))


def read_matrix_project(stream: BinaryIO, options: ReadOptions) -> Project:
    """Format reader: a matrix as a Project (row labels → codes, column labels → cases).

    The cells are counts, not codings, so the Project holds no selections; use
    :func:`read_matrix` for the table itself.
    """
    frame = read_matrix(stream, options=options)
    codes = _row_codes([str(name) for name in frame.index])
    cases = tuple(
        Case(guid=stable_guid("matrix-column", str(j), str(name)), name=str(name))
        for j, name in enumerate(frame.columns)
    )
    note = Issue(
        "QDX420",
        Severity.INFO,
        f"NVivo {frame.attrs['layout']} export: rows read as codes and columns as cases; the cell"
        " values are counts, not codings (use qdx.formats.nvivo.matrix.read_matrix for the table)",
        options.label,
    )
    return Project(
        name=options.label,
        origin="NVivo (matrix export)",
        codes=codes,
        cases=cases,
        provenance=Provenance(fmt="nvivo-matrix-xlsx", issues=(note,)),
    )
