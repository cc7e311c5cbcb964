"""``qdx segments PATH``: every coded segment with its exact text, as a table.

One row per (selection, code): source, selection, start, end, text, code, code_path, coder,
labels (the ``A-i-j`` line labels the segment spans), kind (text, region, media or source) and,
for a PDF or picture region, its page (REFI, from 0) and corners. A region has no text unless
its PDF's representation gives one; ``--kind text`` lists the text passages only (a quote table).
Writes CSV, XLSX or JSON with ``-o`` (atomically), prints a JSON array with ``--json``, else a
readable listing. Spreadsheet cells that begin with ``= + - @``, tab or CR are written as text,
never as formulas (CSV: a leading ``'``; XLSX: string cells), so opening the file cannot run
anything.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import IO

import click

from qdx.cells import csv_text, csv_writer
from qdx.cli._common import (
    archive_limits,
    choice,
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
from qdx.cli._json_stream import json_pieces
from qdx.options import PositionUnit, SegmentFilter
from qdx.safety import Limits, atomic_write
from qdx.segment import Region, Segment

# Characters of each segment's text the terminal listing shows.
PREVIEW_WIDTH = 80

SEGMENT_SUFFIXES = (".csv", ".xlsx", ".json")
COLUMNS = ("source", "selection", "start", "end", "text", "code", "code_path", "coder", "labels",
           "kind", "page", "first_x", "first_y", "second_x", "second_y")  # fmt: skip


@click.command()
@click.argument("path", type=click.Path(dir_okay=True))
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write .csv, .xlsx or .json; - writes to standard output (with --to).")
@click.option("--to", type=click.Choice(["csv", "json"]), default=None, help="The format of -o - (standard output).")
@position_unit_option()
@click.option("--kind", type=choice(SegmentFilter), default="all", show_default=True,
              help="List only text passages, PDF/picture regions, media spans or whole-source codings.")
@click.option("--bom/--no-bom", default=True, show_default=True,
              help="Start a .csv file with a UTF-8 byte-order mark (Excel on Windows then reads CJK text); "
              "standard output never gets one.")
@json_option
@archive_limits
@handle_errors
def segments(
    path: str, output: str | None, to: str | None, unit: PositionUnit | None, kind: SegmentFilter, bom: bool,
    as_json: bool, limits: Limits,
) -> None:
    """List the coded segments of PATH with their exact text."""
    from qdx.report.output import require_suffix
    from qdx.segment import segments as find_segments

    fmt = stdout_format(output, to)
    if output is not None and fmt is None:
        require_suffix(output, SEGMENT_SUFFIXES, "segments")  # before any work
    if output is not None:
        refuse_overwriting_input(output, path)
    project = load(path, limits=limits, unit=unit)
    found = find_segments(project)
    if kind != "all":
        found = [seg for seg in found if seg.kind == kind]
    if fmt is not None:  # a pipe feeds a program, not Excel: no byte-order mark
        write_stdout(lambda stream: _csv(found, stream, False) if fmt == "csv" else _json(_rows(found), stream))
        return
    if output is not None:
        _write(Path(output), found, project.name or Path(path).name, bom)
        if as_json:
            emit_json({"output": output, "segments": len(found)})
        else:
            echo(f"wrote {len(found)} segments to {output}")
        return
    if as_json:
        emit_json(_rows(found))
    else:
        for seg in found:
            path_ = " > ".join(seg.code_path)
            shown = "(no text)" if seg.text is None else preview(seg.text)
            echo(f"{seg.source} [{_where(seg)}] {path_}: {shown}")


def _where(seg: Segment) -> str:
    """Where the listing says a segment is: its range, a region's page and corners, or the source."""
    if seg.kind == "source":
        return "whole source"
    place = "" if seg.region is None else _region(seg.region)
    if seg.start is None or seg.end is None:
        return place or "no position"
    span = f"{seg.start}:{seg.end}" + (" ms" if seg.kind == "media" else "")
    return f"{place} {span}" if place else span


def _region(region: Region) -> str:
    corners = f"({region.first_x},{region.first_y})-({region.second_x},{region.second_y})"
    return corners if region.page is None else f"page {region.page} {corners}"


def preview(text: str, width: int = PREVIEW_WIDTH) -> str:
    """The first ``width`` characters of ``text`` with each run of whitespace shown as one space.

    Only a growing prefix is collapsed, never the whole text: splitting a 50M-character
    segment into words to show 80 characters of it took 1.2 GB. The collapsed prefix is
    always a prefix of the collapsed whole (a word cut at the end is a prefix of that word),
    so once it is ``width`` long the shown text is exact.
    """
    size = 4 * width
    while True:
        shown = " ".join(text[:size].split())
        if len(shown) >= width or size >= len(text):
            return shown[:width]
        size *= 4


def _write(target: Path, found: Sequence[Segment], project: str, bom: bool) -> None:
    from qdx.report.output import require_suffix

    suffix = require_suffix(target, SEGMENT_SUFFIXES, "segments")
    if suffix == ".xlsx":
        atomic_write(target, lambda stream: _xlsx(found, stream, project))
    elif suffix == ".csv":
        atomic_write(target, lambda stream: _csv(found, stream, bom))
    else:
        atomic_write(target, lambda stream: _json(_rows(found), stream))


def _rows(found: Sequence[Segment]) -> list[dict[str, object]]:
    return [seg.as_dict() for seg in found]


def _columns(found: Sequence[Segment]) -> list[list[object]]:
    """The table column by column (one pass per column: no per-row dicts)."""
    from qdx.report.analysis_sheets import PATH_SEP  # not frames: that one imports numpy (0.1 s)

    return [
        [s.source for s in found],
        [str(s.selection) if s.selection is not None else None for s in found],
        [s.start for s in found],
        [s.end for s in found],
        [s.text for s in found],
        [s.code for s in found],
        [PATH_SEP.join(s.code_path) for s in found],
        [s.coder for s in found],
        [";".join(s.labels) for s in found],
        [s.kind for s in found],
        *_region_columns([s.region for s in found]),
    ]


def _region_columns(regions: list[Region | None]) -> list[list[object]]:
    """page, first_x, first_y, second_x, second_y: filled for regions, empty for the rest."""
    if regions.count(None) == len(regions):  # no region at all (most projects)
        return [[None] * len(regions) for _ in range(5)]
    return [
        [r.page if r is not None else None for r in regions],
        [r.first_x if r is not None else None for r in regions],
        [r.first_y if r is not None else None for r in regions],
        [r.second_x if r is not None else None for r in regions],
        [r.second_y if r is not None else None for r in regions],
    ]


def defuse(value: object) -> object:
    """A CSV cell that a spreadsheet will never evaluate (OWASP CSV injection; :mod:`qdx.cells`)."""
    return csv_text(value)


def _csv(found: Sequence[Segment], stream: IO[bytes], bom: bool) -> None:
    text = io.TextIOWrapper(stream, encoding="utf-8-sig" if bom else "utf-8", newline="")
    out = csv_writer(text)
    out.writerow(COLUMNS)
    out.writerows([defuse(v) for v in row] for row in zip(*_columns(found), strict=True))
    text.flush()
    text.detach()


def _xlsx(found: Sequence[Segment], stream: IO[bytes], project: str) -> None:
    from qdx.report.sheets import COUNT, Table, write_tables

    table = Table("Segments", list(COLUMNS), _columns(found), formats={2: COUNT, 3: COUNT}, label_cols=1,
                  wrap=(4,), notes=["One row per coding; start/end in code points, end exclusive (REFI §10.2).",
                         "kind region: a PDF page (counted from 0, REFI) or picture and its corners; "
                         "no text unless the PDF's text representation gives it."])
    write_tables(stream, [table], project=project, title="qdx segments")


def _json(rows: list[dict[str, object]], stream: IO[bytes]) -> None:
    for piece in json_pieces(rows):  # a long segment is never one string (_json_stream)
        stream.write(piece.encode("utf-8"))

