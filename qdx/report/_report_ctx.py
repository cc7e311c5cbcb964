"""What one report workbook is built from: the project, its prepared codings, the names of its
levels, the analyses' results and the options, shared by the sheet builders of
:mod:`qdx.report.excel` and :mod:`qdx.report.matrix_sheets`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from qdx.analysis._codings import Corpus, Tree
from qdx.errors import UsageError
from qdx.model import CodeCount, Project, guid_key
from qdx.report.levels import LevelNames
from qdx.report.optional import ReportOptions

if TYPE_CHECKING:
    import pandas as pd


@dataclass(slots=True)
class Report:
    """What was written: sheet names, the matrix grand total, and notes for the caller."""

    sheets: list[str] = field(default_factory=list)
    matrix_total: int = 0
    codings: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass(slots=True)
class ReportContext:
    """The state every sheet builder reads; ``about`` collects how each number was made."""

    project: Project
    corpus: Corpus
    names: LevelNames
    about: list[tuple[str, str]] = field(default_factory=list)
    report: Report = field(default_factory=Report)
    compare: Project | None = None
    results: list[tuple[str, object]] = field(default_factory=list)
    optional_about: list[tuple[str, str]] = field(default_factory=list)
    options: ReportOptions = field(default_factory=ReportOptions)
    depth: int | None = None  # the tree depth --level chose, None: each sheet's own default
    pairs: dict[str | int, pd.DataFrame] = field(default_factory=dict)  # co-occurrence pairs by level
    coders: list[str] = field(default_factory=list)  # the coders, most codings first
    validation: list[list[object]] | None = None  # the Overview's validation line, when run already


def level_depth(tree: Tree, level: str | None) -> int | None:
    """The tree depth (0 = the top) a report ``level`` names: ``"1"`` is the top level, as the
    neutral names count (Level 1, Level 2, ...); a grounded-theory name (``main``, ...) counts as
    :meth:`Tree.depth` does. None for None.

    Raises:
        UsageError: a level the tree does not have (deeper than its deepest code, or ``core``
            in a tree with several roots).
    """
    if level is None:
        return None
    depth = int(level) - 1 if level.isdigit() else tree.depth(level)
    levels = len(tree.column_names())
    if not 0 <= depth < levels:
        raise UsageError(f"no level {level!r} in this code tree: it has {levels} level(s)"
                         + (", 1 to " + str(levels) if levels else ""))
    return depth


def reported_counts(project: Project) -> dict[str, CodeCount] | None:
    """The per-code counts an export reported (NVivo's Codebook.docx References/Files columns)
    when the input holds no coding data of its own, else None. The audit (CB1/CB2/CB7) uses the
    same counts, so the report and the audit agree on how often a code was applied."""
    provenance = project.provenance
    if project.sources or provenance is None:
        return None
    counts = {guid_key(c.code): c for c in provenance.code_counts if c.references is not None}
    return counts or None


__all__ = ["Report", "ReportContext", "level_depth", "reported_counts"]
