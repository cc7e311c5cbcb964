"""NVivo "Export List" (.xlsx) and classification sheets (.xlsx), docs/nvivo-exports.md §b.2 and §f.

Export List: row 1 holds the list view's column captions exactly as shown (icon columns have
blank captions), one row per item; dates are Excel datetimes, "by" columns user initials.
Classification sheet (§f, the import layout NVivo accepts): A1 = classification name, row 1 =
attribute names, column A = case (or file) names, plain or hierarchical; a blank cell is
Unassigned. qdx reads both into a table and into a Project (one case per row, attributes as
Variables), and writes classification sheets from a project's cases and variables.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import TYPE_CHECKING, BinaryIO

from qdx.errors import FormatError, Issue, Severity
from qdx.formats import ReadOptions, WriteOptions
from qdx.formats.nvivo.attributes import AttributeTable, is_unset
from qdx.formats.nvivo.build import stable_guid
from qdx.formats.nvivo.names import parse_hname
from qdx.formats.nvivo.office import read_all
from qdx.formats.nvivo.xlsxutil import Cell, first_rows, put, save_deterministic, text
from qdx.model import Code, CodeCount, Project, Provenance, Variable, VariableType, VariableValue

if TYPE_CHECKING:
    import pandas as pd

# Captions of NVivo list-view columns that describe the item, not an attribute (§b.2 and the
# list views of NVivo 12-15). Anything else in an Export List is kept as an attribute.
LIST_COLUMNS = frozenset(
    {
        "codes", "files", "references", "cases", "coverage", "created on", "created by",
        "modified on", "modified by", "nickname", "color", "colour", "aggregate", "location",
        "size", "type", "in folder", "nodes", "sources", "words", "duration", "pages",
    }
)  # fmt: skip
NAME = "name"


def list_header(rows: list[list[Cell]]) -> list[str] | None:
    """Row 1's captions when they look like an Export List (a Name column plus list columns)."""
    if not rows:
        return None
    header = [text(v) for v in rows[0]]
    lowered = {h.lower() for h in header}
    if NAME in lowered and lowered & LIST_COLUMNS:
        return header
    return None


def read_list(stream: BinaryIO, *, label: str = "<list>", options: ReadOptions | None = None) -> pd.DataFrame:
    """Read an Export List .xlsx into a DataFrame.

    Args:
        stream: the .xlsx bytes.
        label: how to name the file in errors.
        options: safety limits.

    Returns:
        One row per item, the visible captions as columns; blank-caption (icon) columns
        dropped; counts as integers, dates as datetimes.

    Raises:
        FormatError: the first sheet is not an Export List.
    """
    import pandas as pd

    options = options or ReadOptions(label=label)
    rows = first_rows(read_all(stream), options)
    header = list_header(rows)
    if header is None:
        raise FormatError("not an NVivo Export List (no Name column)", location=f"{options.label}!A1")
    keep = [j for j, caption in enumerate(header) if caption]
    data = [[row[j] for j in keep] for row in rows[1:]]
    frame = pd.DataFrame(data, columns=[header[j] for j in keep])
    for column in frame.columns:
        if column.lower() in {"codes", "files", "references", "cases"} and frame[column].notna().all():
            frame[column] = frame[column].astype("int64")
    return frame


def list_table(rows: list[list[Cell]], header: list[str], label: str) -> AttributeTable:
    """The attribute columns of an Export List (``Classification`` and unknown captions)."""
    name_col = [h.lower() for h in header].index(NAME)
    attrs = [j for j, h in enumerate(header) if h and j != name_col and h.lower() not in LIST_COLUMNS]
    body = [(i, r) for i, r in enumerate(rows[1:], start=2) if text(r[name_col])]
    return AttributeTable(
        title="",
        items=tuple(text(r[name_col]) for _, r in body),
        attributes=tuple(header[j] for j in attrs),
        values=_columns_of(body, attrs),
        locs=tuple(f"{label}!A{i}" for i, _ in body),
    )


def _columns_of(body: list[tuple[int, list[Cell]]], cols: list[int]) -> tuple[tuple[Cell, ...], ...]:
    """Each row's cells in ``cols`` (one C call per row: a 1.2M-cell sheet)."""
    if not cols:
        return tuple(() for _ in body)
    if len(cols) == 1:
        return tuple((r[cols[0]],) for _, r in body)
    take = operator.itemgetter(*cols)
    return tuple(take(r) for _, r in body)


def classification_table(rows: list[list[Cell]], label: str) -> AttributeTable:
    """A classification sheet: A1 the classification, row 1 attributes, column A items (§f)."""
    if not rows or not rows[0]:
        raise FormatError("empty classification sheet", location=f"{label}!A1")
    header = [text(v) for v in rows[0]]
    cols = [j for j in range(1, len(header)) if header[j]]
    body = [(i, r) for i, r in enumerate(rows[1:], start=2) if text(r[0])]
    return AttributeTable(
        title=header[0],
        items=tuple(parse_hname(text(r[0])).name for _, r in body),
        attributes=tuple(header[j] for j in cols),
        values=_columns_of(body, cols),
        locs=tuple(f"{label}!A{i}" for i, _ in body),
    )


def table_project(table: AttributeTable, *, fmt: str, label: str) -> Project:
    """A Project holding one case per row and the attributes as Variables."""
    variables, cases = table.as_cases(prefix=table.title)
    issue = Issue("QDX422", Severity.INFO, f"{len(cases)} rows read as cases with {len(variables)} variables", label)
    return Project(
        name=table.title or label,
        origin="NVivo (spreadsheet export)",
        variables=variables,
        cases=cases,
        provenance=Provenance(fmt=fmt, issues=(issue,)),
    )


def read_list_project(stream: BinaryIO, options: ReadOptions) -> Project:
    """Format reader: an Export List as cases (one per row) with attribute variables.

    Raises:
        FormatError: the first sheet is not an Export List.
    """
    rows = first_rows(read_all(stream), options)
    header = list_header(rows)
    if header is None:
        raise FormatError("not an NVivo Export List (no Name column)", location=f"{options.label}!A1")
    return list_project(rows, header, options.label)


def list_project(rows: list[list[Cell]], header: list[str], label: str) -> Project:
    """A Codes list (a Files column, no Codes column) as codes with their reported counts;
    any other list (Files, Cases) as cases with attribute variables."""
    lowered = [h.lower() for h in header]
    if "files" in lowered and "codes" not in lowered:
        return _code_list_project(rows, lowered, label)
    return table_project(list_table(rows, header, label), fmt="nvivo-list-xlsx", label=label)


def _code_list_project(rows: list[list[Cell]], lowered: list[str], label: str) -> Project:
    name, files = lowered.index(NAME), lowered.index("files")
    refs = lowered.index("references") if "references" in lowered else None
    codes: list[Code] = []
    counts: list[CodeCount] = []
    for i, row in enumerate(rows[1:], start=2):
        if not text(row[name]):
            continue
        guid = stable_guid("list-code", str(i), text(row[name]))
        codes.append(Code(guid=guid, name=text(row[name]), loc=f"{label}!A{i}"))
        references = _int(row[refs]) if refs is not None else None
        counts.append(CodeCount(code=guid, files=_int(row[files]), references=references))
    issue = Issue("QDX423", Severity.INFO, "Export List of codes: flat list (the export keeps no hierarchy)", label)
    return Project(
        name=label,
        origin="NVivo (Export List)",
        codes=tuple(codes),
        is_codebook=True,
        provenance=Provenance(fmt="nvivo-list-xlsx", issues=(issue,), code_counts=tuple(counts)),
    )


def _int(value: Cell) -> int | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    return int(value) if isinstance(value, str) and value.strip().isdigit() else None


def read_attribute_table(stream: BinaryIO, options: ReadOptions) -> AttributeTable:
    """An Export List's attribute columns or a classification sheet, whichever the sheet is.

    Raises:
        FormatError: the sheet is empty.
    """
    rows = first_rows(read_all(stream), options)
    header = list_header(rows)
    if header is not None:
        return list_table(rows, header, options.label)
    return classification_table(rows, options.label)


def read_classification_project(stream: BinaryIO, options: ReadOptions) -> Project:
    """Format reader: a classification sheet as cases with variables (§f)."""
    rows = first_rows(read_all(stream), options)
    table = classification_table(rows, options.label)
    return table_project(table, fmt="nvivo-classification-xlsx", label=options.label)


# --------------------------------------------------------------------------- writer


def _cell(value: str | None, kind: VariableType) -> Cell:
    """A REFI lexical value as the Excel value NVivo's importer expects."""
    if value is None:
        return None
    if kind is VariableType.INTEGER:
        try:
            return int(value)
        except ValueError:
            return value
    if kind is VariableType.FLOAT:
        try:
            return float(value)
        except ValueError:
            return value
    if kind is VariableType.BOOLEAN:
        return value.strip().lower() in {"true", "1"}
    return value


def classification_rows(project: Project, *, classification: str | None = None) -> list[list[Cell]]:
    """The sheet as rows: A1 the classification name, attribute names across, items down.

    Items are the project's cases (classification ``Case``); a project without cases whose
    sources carry values gives a file classification (``File``) instead (§f: "case (or file)").
    """
    items: Sequence[tuple[str, tuple[VariableValue, ...]]] = [
        (c.name or str(c.guid), c.variable_values) for c in project.cases
    ]
    default = "Case"
    if not items:
        items = [(s.name or str(s.guid), s.variable_values) for s in project.sources if s.variable_values]
        default = "File" if items else default
    variables: Sequence[Variable] = project.variables
    rows: list[list[Cell]] = [[classification or default, *(v.name for v in variables)]]
    for name, item_values in items:
        values = {v.variable: v.value for v in item_values}
        rows.append([name, *(_cell(values.get(v.guid), v.type) for v in variables)])
    return rows


def write_classification(project: Project, stream: BinaryIO, options: WriteOptions | None = None) -> None:
    """Format writer: the project's cases and variables as an NVivo classification sheet (§f).

    A1 holds the classification name (``Case``, or ``File`` for file attributes), row 1 the
    attribute (variable) names, column A the case (file) names; a missing value is a blank
    cell, which NVivo imports as Unassigned.
    """
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Classification"
    for r, row in enumerate(classification_rows(project), start=1):
        for c, value in enumerate(row, start=1):
            put(sheet, r, c, None if is_unset(value) and not isinstance(value, bool | int | float) else value)
    save_deterministic(workbook, stream)
