"""The grounded-theory model as a figure: core on top, main categories, subcategories (concepts
on request), the project's Links as labelled arrows.

One layout, two renderers: :mod:`qdx.report.model_layout` places the boxes and lines (the core
centred on top, the main categories in a row, their subcategories stacked below; weights by coded
references; the project's Links as labelled arrows) and :mod:`qdx.report.model_render` draws that
scene as SVG (:func:`svg_text`) or, with matplotlib, as PDF or PNG (:func:`render_matplotlib`).
Here: the figure a user gets (:class:`ModelFigure`, :func:`model_figure`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from qdx.errors import UsageError
from qdx.model import Project
from qdx.report.codebook_data import CodebookData, codebook_data
from qdx.report.model_layout import Box, Line, Scene, char_width, label_size, layout, text_width, wrap
from qdx.report.model_render import render_matplotlib, svg_text

__all__ = [
    "MODEL_SUFFIXES",
    "Box",
    "Line",
    "ModelFigure",
    "Scene",
    "char_width",
    "figure_from",
    "label_size",
    "layout",
    "model_figure",
    "render_matplotlib",
    "svg_text",
    "text_width",
    "wrap",
]

MODEL_SUFFIXES = (".svg", ".pdf", ".png")


# --------------------------------------------------------------------------- API


@dataclass(frozen=True, slots=True)
class ModelFigure:
    """The model figure of a project: its :class:`Scene` and renderings.

    In a notebook it displays as SVG. ``save(path)`` writes ``.svg``, ``.pdf`` or ``.png``.
    """

    scene: Scene

    @property
    def svg(self) -> str:
        return svg_text(self.scene)

    def _repr_svg_(self) -> str:
        return self.svg

    def to_bytes(self, suffix: str) -> bytes:
        """The figure as ``.svg``, ``.pdf`` or ``.png`` bytes.

        Raises:
            UsageError: another suffix.
        """
        suffix = suffix.lower()
        if suffix == ".svg":
            return self.svg.encode("utf-8")
        if suffix in (".pdf", ".png"):
            return render_matplotlib(self.scene, suffix[1:])
        raise UsageError(f"cannot draw the model as {suffix or 'a file without extension'}; "
                         f"use {', '.join(MODEL_SUFFIXES)}")

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the figure atomically in the format of ``path``'s suffix."""
        from qdx.report.codebook_doc import write_bytes

        write_bytes(path, self.to_bytes(Path(path).suffix))


def figure_from(book: CodebookData, depth: int = 3) -> ModelFigure:
    """:func:`model_figure` over prepared codebook data (reports reuse theirs)."""
    return ModelFigure(layout(book, depth))


def model_figure(project: Project, path: str | os.PathLike[str] | None = None, *, depth: int = 3) -> ModelFigure:
    """The grounded-theory model of ``project`` as a figure; written to ``path`` if given.

    Args:
        project: the project (not modified).
        path: ``.svg``, ``.pdf`` or ``.png`` to write.
        depth: tree levels to draw, the core being level 1: 3 draws core, main categories and
            subcategories; 4 adds the concepts.

    Returns:
        The :class:`ModelFigure` (displays as SVG in a notebook).

    Raises:
        UsageError: a bad depth or suffix, or no codes. WriteError: the file could not be written.

    Example:
        >>> qdx.model_figure(qdx.read("study.qdpx"), "model.svg")   # doctest: +SKIP
    """
    figure = figure_from(codebook_data(project), depth)
    if path is not None:
        figure.save(path)
    return figure
