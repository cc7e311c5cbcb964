"""``qdx segments PATH``: every coded segment with its exact text, as a table.

One row per (selection, code): source, selection, start, end, text, code, code_path, coder,
labels (the ``A-i-j`` line labels the segment spans). Writes CSV, XLSX or JSON with ``-o``
(atomically), prints a JSON array with ``--json``, else a readable listing. Spreadsheet cells
that begin with ``= + - @``, tab or CR are written as text, never as formulas (CSV: a leading
``'``; XLSX: string cells), so opening the file cannot run anything.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import IO

import click

from qdx.cells import csv_text, csv_writer, set_text
from qdx.cli._common import (
    archive_limits,
    echo,
    emit_json,
    handle_errors,
    json_option,
    load,
    position_unit_option,
    refuse_overwriting_input,
    stdout_format,
    write_stdout,
)
from qdx.errors import UsageError
from qdx.options import PositionUnit
from qdx.safety import Limits, atomic_write

COLUMNS = ("source", "selection", "start", "end", "text", "code", "code_path", "coder", "labels")


@click.command()
@click.argument("path", type=click.Path(dir_okay=True))
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write .csv, .xlsx or .json; - writes to standard output (with --to).")
@click.option("--to", type=click.Choice(["csv", "json"]), default=None, help="The format of -o - (standard output).")
@position_unit_option()
@json_option
@archive_limits
@handle_errors
def segments(
    path: str, output: str | None, to: str | None, unit: PositionUnit | None, as_json: bool, limits: Limits
) -> None:
    """List the coded segments of PATH with their exact text."""
    from qdx.segment import segments as find_segments

    fmt = stdout_format(output, to)
    if output is not None:
        refuse_overwriting_input(output, path)
    project = load(path, limits=limits, unit=unit)
    rows = [seg.as_dict() for seg in find_segments(project)]
    if fmt is not None:
        write_stdout(lambda stream: WRITERS[fmt](rows, stream))
    elif output is not None:
        _write(Path(output), rows)
        if as_json:
            emit_json({"output": output, "segments": len(rows)})
        else:
            echo(f"wrote {len(rows)} segments to {output}")
    elif as_json:
        emit_json(rows)
    else:
        for row in rows:
            text = " ".join(str(row["text"] or "").split())
            path_ = " > ".join(map(str, row["code_path"]))  # type: ignore[call-overload]
            echo(f"{row['source']} [{row['start']}:{row['end']}] {path_}: {text[:80]}")


def _write(target: Path, rows: list[dict[str, object]]) -> None:
    suffix = target.suffix.lower()
    writer = WRITERS.get(suffix.lstrip("."))
    if writer is None:
        raise UsageError(f"cannot write segments as {suffix or 'a file without extension'}; use .csv, .xlsx or .json")
    atomic_write(target, lambda stream: writer(rows, stream))


def _flat(row: dict[str, object]) -> list[object]:
    out: list[object] = []
    for key in COLUMNS:
        value = row.get(key)
        if key == "code_path" and isinstance(value, list):
            value = " > ".join(map(str, value))
        elif key == "labels" and isinstance(value, list):
            value = ";".join(map(str, value))
        out.append(value)
    return out


def defuse(value: object) -> object:
    """A CSV cell that a spreadsheet will never evaluate (OWASP CSV injection; :mod:`qdx.cells`)."""
    return csv_text(value)


def _csv(rows: list[dict[str, object]], stream: IO[bytes]) -> None:
    text = io.TextIOWrapper(stream, encoding="utf-8", newline="")
    out = csv_writer(text)
    out.writerow(COLUMNS)
    for row in rows:
        out.writerow([defuse(v) for v in _flat(row)])
    text.flush()
    text.detach()


def _xlsx(rows: list[dict[str, object]], stream: IO[bytes]) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "segments"
    sheet.append(list(COLUMNS))
    for r, row in enumerate(rows, start=2):
        for c, value in enumerate(_flat(row), start=1):
            cell = sheet.cell(row=r, column=c)
            if isinstance(value, str):
                set_text(cell, value)  # text, even when it starts with "=" (no formula)
            else:
                cell.value = value  # type: ignore[assignment]
    book.save(stream)


def _json(rows: list[dict[str, object]], stream: IO[bytes]) -> None:
    stream.write(json.dumps(rows, ensure_ascii=False, indent=2, default=str).encode("utf-8"))


WRITERS = {"csv": _csv, "xlsx": _xlsx, "json": _json}
