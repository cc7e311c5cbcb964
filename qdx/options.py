"""Every fixed option set of qdx as a ``Literal`` type, and the progress callback shapes.

One place for each set, so the library's signatures, its own checks and the command line's
``click.Choice`` lists cannot drift: the tuples below are ``typing.get_args`` of the types,
and the CLI builds its choices from the same types (:func:`choices`). A type checker then
rejects ``agree(p, unit="word")`` before it runs; at run time each function still checks its
option, because plain Python callers are not type-checked.

Open sets (``--rows variable:NAME``, ``--order set:NAME``) are plain ``str``: they take a name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, get_args

# ---------------------------------------------------------------------------- reading / writing

#: The unit a producer counts text positions in (qdx.text; REFI-QDA 1.0 says code points).
PositionUnit = Literal["codepoint", "utf16", "codepoint-lf"]
#: Which program's way of writing a project (qdx.formats.WriteOptions).
Dialect = Literal["refi", "nvivo"]
#: How the ``refi`` dialect writes CRLF texts (qdx.formats.WriteOptions).
Newline = Literal["lf", "keep"]

#: What a coded segment marks (qdx.segment): a text passage, a PDF/picture region, a media span,
#: a whole source; ``all`` lists every kind.
SegmentKind = Literal["text", "region", "media", "source"]
SegmentFilter = Literal["all", SegmentKind]

# ---------------------------------------------------------------------------- analysis

#: The units of agreement's 2x2 table (qdx.analysis.agreement).
AgreeUnit = Literal["char", "sentence", "paragraph"]
#: How much two segments overlap: relative to their union (iou) or to the shorter one.
OverlapMeasure = Literal["iou", "min_len"]
#: A code level of a grounded-theory tree, top first (qdx.analysis).
Level = Literal["core", "main", "subcategories", "concepts"]
#: What a coding-matrix cell holds (qdx.analysis.matrix; NVivo's Matrix Coding options).
MatrixValue = Literal[
    "references", "sources", "cases", "words", "characters", "coverage", "presence", "row-pct", "col-pct"
]
#: What a code x code cell holds (qdx.analysis.cooccurrence).
CooccurValue = Literal["references", "presence", "c-coefficient"]
#: Any cell value the matrix command takes (both of the above).
CellValue = Literal[MatrixValue, CooccurValue]
#: When two codes co-occur: overlapping passages, or the same document.
CooccurMode = Literal["overlap", "document"]

#: Krippendorff's levels of measurement (qdx.analysis.coefficients.krippendorff_alpha).
MeasurementLevel = Literal["nominal", "ordinal", "interval", "ratio"]
#: How a coding matrix is laid out in a file: qdx's labelled table or NVivo's export layout.
MatrixLayout = Literal["qdx", "nvivo"]

# ---------------------------------------------------------------------------- the report

#: The code-tree level a report counts at (qdx.report.excel): a grounded-theory level's name, or
#: a depth counted from the top, "1" being the top level, as a tree that is not a grounded-theory
#: tree names its levels (Level 1, Level 2, ...).
ReportLevel = Literal[Level, "1", "2", "3", "4", "5", "6", "7", "8", "9"]
#: Which sheets a report holds (``qdx report --sheets``): every sheet, what a thesis appendix
#: prints, or the Overview, Codebook and Matrix.
ReportSheets = Literal["full", "thesis", "minimal"]

# ---------------------------------------------------------------------------- operations

#: The loosest criterion for pairing codes across projects (qdx.ops.pairing); "content": after
#: name, codes still unpaired are paired by similarity (qdx.ops.renames).
MatchLevel = Literal["guid", "path", "name", "content"]
#: What merge does with a conflict (qdx.ops.merge).
Policy = Literal["fail", "ours", "theirs", "keep-both"]

# ---------------------------------------------------------------------------- progress callbacks

#: Called with (done, total) bytes while a file is read or written.
ByteProgress = Callable[[int, int], None]
#: Called with the name of each step as it starts (validation, reports).
StepProgress = Callable[[str], None]


def choices(option: Any) -> tuple[str, ...]:
    """The values of a ``Literal`` option type, in order (what a ``click.Choice`` lists)."""
    values: tuple[str, ...] = get_args(option)
    return values


POSITION_UNITS: tuple[PositionUnit, ...] = get_args(PositionUnit)
AGREE_UNITS: tuple[AgreeUnit, ...] = get_args(AgreeUnit)
OVERLAP_MEASURES: tuple[OverlapMeasure, ...] = get_args(OverlapMeasure)
LEVELS: tuple[Level, ...] = get_args(Level)
MATRIX_VALUES: tuple[MatrixValue, ...] = get_args(MatrixValue)
COOCCUR_VALUES: tuple[CooccurValue, ...] = get_args(CooccurValue)
COOCCUR_MODES: tuple[CooccurMode, ...] = get_args(CooccurMode)
MEASUREMENT_LEVELS: tuple[MeasurementLevel, ...] = get_args(MeasurementLevel)
MATRIX_LAYOUTS: tuple[MatrixLayout, ...] = get_args(MatrixLayout)
REPORT_LEVELS: tuple[ReportLevel, ...] = get_args(ReportLevel)
REPORT_SHEETS: tuple[ReportSheets, ...] = get_args(ReportSheets)
MATCH_LEVELS: tuple[MatchLevel, ...] = get_args(MatchLevel)
POLICIES: tuple[Policy, ...] = get_args(Policy)
