"""The tables of one project in the dataset's schema (:data:`qdx.report.dataset_schema.TABLES`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qdx.report.dataset_schema import SCHEMA_VERSION, TABLES, arrow_schema

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from qdx.model import Project


def _conform(frame: pd.DataFrame, table: str) -> pa.Table:
    """``frame`` reduced to the table's columns in the schema's types (absent columns are null)."""
    import pyarrow as pa

    columns: dict[str, list[Any]] = {}
    for col in TABLES[table]:
        if col.name not in frame.columns:
            columns[col.name] = [None] * len(frame)
            continue
        series = frame[col.name].astype(object)
        values = series.where(series.notna(), None).tolist()
        columns[col.name] = [_cell(v, col.type) for v in values]
    return pa.Table.from_pydict(columns, schema=arrow_schema(table))


def _cell(value: Any, kind: str) -> Any:
    """A cell in its column's type; a variable's odd value in a text column becomes its text."""
    if value is None:
        return None
    if kind == "string":
        return value if isinstance(value, str) else str(value)
    if kind == "int64" and isinstance(value, float) and value.is_integer():
        return int(value)  # a pandas int column that held a missing value became float
    return value


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None


def _boolean(value: str | None) -> bool | None:
    # xs:boolean lexical forms (REFI BooleanValue is xs:boolean).
    return {"true": True, "1": True, "false": False, "0": False}.get((value or "").strip().lower())


def variables_table(project: Project) -> pa.Table:
    """One row per variable value of a source or case (the long form: one schema for any project)."""
    import pyarrow as pa

    from qdx.model import VariableType, guid_key

    declared = {guid_key(v.guid): v for v in project.variables}
    rows: dict[str, list[Any]] = {c.name: [] for c in TABLES["variables"]}
    owners = [("source", s.guid, s.name, s.variable_values) for s in project.sources]
    owners += [("case", c.guid, c.name, c.variable_values) for c in project.cases]
    for owner, guid, name, values in owners:
        for vv in values:
            var = declared.get(guid_key(vv.variable))
            kind = var.type if var is not None else None
            row = {
                "owner": owner, "owner_guid": str(guid), "owner_name": name,
                "variable": var.name if var is not None else str(vv.variable), "variable_guid": str(vv.variable),
                "type": kind.value if kind is not None else None, "value": vv.value,
                "value_number": _number(vv.value) if kind in (VariableType.INTEGER, VariableType.FLOAT) else None,
                "value_boolean": _boolean(vv.value) if kind is VariableType.BOOLEAN else None,
            }
            for key, value in row.items():
                rows[key].append(value)
    return pa.Table.from_pydict(rows, schema=arrow_schema("variables"))


def dataset_tables(project: Project, *, input_path: str, content_hash: str) -> dict[str, pa.Table]:
    """Every table of :data:`TABLES` for one project, in the dataset's schema."""
    import pyarrow as pa

    from qdx import __version__
    from qdx.report.frames import frames

    prov = project.provenance
    meta = {
        "name": project.name, "input": input_path, "format": prov.fmt if prov else None,
        "origin": project.origin, "position_unit": prov.position_unit if prov else None,
        "content_hash": content_hash, "schema_version": SCHEMA_VERSION, "qdx_version": __version__,
    }
    tables = {"projects": pa.Table.from_pylist([meta], schema=arrow_schema("projects"))}
    for name, frame in frames(project).tables().items():
        tables[name] = _conform(frame, name)
    tables["variables"] = variables_table(project)
    return {name: tables[name] for name in TABLES}
