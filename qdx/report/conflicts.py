"""The conflict report of a merge: ``.json`` (for tools) or ``.xlsx`` (for the team to decide).

One row per conflict: what kind, which object, the base's value (three-way merges) and both
sides' values, and how the merge resolved it. Written atomically (:func:`qdx.safety.atomic_write`);
text cells go through the sheet writer, which never lets a value become a formula.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from typing import IO

from qdx.ops.merge import Conflict
from qdx.report.output import require_suffix
from qdx.report.sheets import table_from_rows, write_tables
from qdx.safety import atomic_write

CONFLICT_SUFFIXES = (".json", ".xlsx")
_COLUMNS = ("kind", "area", "name", "guid", "base", "ours", "theirs", "resolution")


def check_conflicts_path(path: str | os.PathLike[str]) -> str:
    """The report's suffix; a usage error for anything but .json and .xlsx (checked before merging)."""
    return require_suffix(path, CONFLICT_SUFFIXES, "a conflict report")


def conflict_rows(conflicts: Sequence[Conflict]) -> list[dict[str, object]]:
    """Each conflict as a dict with every report column (``base`` is None for two-way merges)."""
    return [{"base": None, **c.as_dict()} for c in conflicts]


def write_conflicts(
    conflicts: Sequence[Conflict], path: str | os.PathLike[str], *, inputs: Mapping[str, str] | None = None
) -> None:
    """Write the conflict report to ``path`` (``.json`` or ``.xlsx``).

    Args:
        conflicts: the merge's conflicts (two- or three-way).
        path: the report file; its suffix chooses the format.
        inputs: role -> path of the merged files (``base``, ``ours``, ``theirs``), shown in the report.

    Raises:
        UsageError: an unsupported suffix.
    """
    suffix = check_conflicts_path(path)
    rows = conflict_rows(conflicts)
    if suffix == ".json":
        document = {"inputs": dict(inputs or {}), "count": len(rows), "conflicts": rows}
        data = json.dumps(document, ensure_ascii=False, indent=2, default=str).encode("utf-8")
        def produce(stream: IO[bytes]) -> None:
            stream.write(data)

        atomic_write(path, produce)
    else:
        atomic_write(path, lambda stream: _xlsx(rows, inputs or {}, stream))


def _text(value: object) -> object:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def _xlsx(rows: list[dict[str, object]], inputs: Mapping[str, str], stream: IO[bytes]) -> None:
    body = [[_text(row.get(col)) for col in _COLUMNS] for row in rows]
    about: list[list[object]] = [["conflicts", len(rows)]]
    about.extend([role, path] for role, path in inputs.items())
    tables = [
        table_from_rows("Conflicts", list(_COLUMNS), body, wrap=(4, 5, 6), label_cols=1),
        table_from_rows("About", ["item", "value"], about),
    ]
    write_tables(stream, tables, title="qdx merge conflicts")
