"""What to call the levels of a code tree in a workbook.

A project that passes the grounded-theory shape check (docs/methods.md §C.2: a core category found,
levels consistent — no GT1/GT7 error) gets the grounded-theory names (core category, main
category, subcategory, concept). Any other project — an ordinary NVivo or MAXQDA codebook —
gets neutral names, ``Level 1``, ``Level 2``, ..., so no sheet calls a theme a "main category"
that the Structure check does not recognise as one.
"""

from __future__ import annotations

from dataclasses import dataclass

from qdx.analysis._codings import Tree
from qdx.model import Project
from qdx.options import LEVELS

# Errors that mean "not a grounded-theory tree", as opposed to quality findings inside one.
_SHAPE_RULES = frozenset({"GT1", "GT7"})
GT_NAMES = {"core": "core category", "main": "main category", "subcategories": "subcategory",
            "concepts": "concept"}


def is_grounded(project: Project, result: object | None = None) -> bool:
    """True when the structure check finds the grounded-theory levels (no GT1/GT7 error).

    ``result``: the project's :class:`~qdx.validation.structure.StructureResult` when the
    caller has it already (the check is then not run twice).
    """
    from qdx.validation.structure import StructureResult, check_structure

    if not isinstance(result, StructureResult):
        try:
            result = check_structure(project)
        except Exception:  # a tree the check cannot read is not a grounded-theory tree
            return False
    return not any(i.code in _SHAPE_RULES and i.severity.value == "error" for i in result.issues)


@dataclass(frozen=True, slots=True)
class LevelNames:
    """Display names of a tree's depths (0 = roots) for one workbook; ``labels``: a study's own
    names of the four grounded-theory levels, core first (its profile's ``levels``)."""

    tree: Tree
    grounded: bool
    labels: tuple[str, ...] | None = None

    def at(self, depth: int) -> str:
        """The name of ``depth``: a grounded-theory name, or ``Level <depth + 1>``."""
        if not self.grounded:
            return f"Level {depth + 1}"
        i = depth + (0 if self.tree.has_core else 1)
        if i >= len(LEVELS):
            return f"level {depth + 1}"
        return self.labels[i] if self.labels else GT_NAMES[LEVELS[i]]

    def of(self, level: str | int) -> str:
        """The name of a named level (``main``, ``concepts``, ...) or an explicit depth."""
        return self.at(self.tree.depth(level))

    def columns(self) -> list[str]:
        """One name per depth present in the tree (the frames' level columns, renamed)."""
        return [self.at(d) for d in range(len(self.tree.column_names()))]

    def rename(self) -> dict[str, str]:
        """Frame level column (``main_category``, ``level_5``) → display name."""
        return dict(zip(self.tree.column_names(), self.columns(), strict=True))


def ancestor_columns(tree: Tree, names: LevelNames, keys: list[str],
                     level: str | int | None) -> tuple[list[str], list[list[str | None]]]:
    """Level columns (display names) and, per row key, its ancestors' names down to itself."""
    # The core is on every row: leave its column out, unless the core is itself a row.
    first = 1 if tree.has_core and len(tree.column_names()) > 1 and all(len(tree.paths[k]) > 1 for k in keys) else 0
    depth = tree.depth(level) if level is not None else len(tree.column_names()) - 1
    cols = [names.at(d) for d in range(first, depth + 1)]
    width = depth + 1 - first
    labels: list[list[str | None]] = [[tree.label(p) for p in tree.paths[k][first : depth + 1]] for k in keys]
    return cols, [[*lab, *[None] * (width - len(lab))] for lab in labels]  # a category row: blank below


__all__ = ["GT_NAMES", "LevelNames", "ancestor_columns", "is_grounded"]
