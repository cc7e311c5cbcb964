"""The sections of the HTML report, as data a notebook can use one by one.

:func:`report_sections` runs each analysis once over one prepared corpus and keeps the
results: the codebook (:mod:`qdx.report.codebook_data`), the model figure
(:mod:`qdx.report.model_figure`), the coding matrix (:func:`qdx.analysis.matrix.matrix_from`,
rolled up the tree here), co-occurrence (:func:`qdx.analysis.cooccurrence.pairs_from`),
agreement, saturation, the structure check and the audit. An analysis that fails or does not
apply is ``None`` with the reason in ``notes`` (a report never stops for one section).

>>> s = qdx.report_sections(qdx.read("study.qdpx"))     # doctest: +SKIP
>>> s.model                                             # doctest: +SKIP  (shows the SVG)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from qdx.analysis._codings import Corpus, build_corpus
from qdx.model import Project
from qdx.report.codebook_data import CodebookData, codebook_from
from qdx.report.model_figure import ModelFigure, figure_from

if TYPE_CHECKING:
    import pandas as pd

    from qdx.analysis.agreement import AgreementResult
    from qdx.analysis.saturation import SaturationResult
    from qdx.errors import Issue
    from qdx.validation.audit import Finding


@dataclass
class ReportSections:
    """Every section of the report. ``matrix``: references per code (rows, tree order, each
    code with everything below it) and source (columns); ``notes``: what was skipped and why."""

    project: Project
    corpus: Corpus
    codebook: CodebookData
    model: ModelFigure | None
    matrix: pd.DataFrame
    cooccurrence: pd.DataFrame | None
    cooccurrence_level: str
    agreement: AgreementResult | None
    saturation: SaturationResult | None
    saturation_how: str
    structure: tuple[Issue, ...]
    audit: tuple[Finding, ...]
    notes: list[str] = field(default_factory=list)


def rolled_matrix(corpus: Corpus) -> pd.DataFrame:
    """References per code × source, each code counting its own codings and all below it.

    Built from the matrix analysis's own counts (``level=None``: one row per code) summed up
    each code's path, so the roots' rows add up to every coding exactly once.
    """
    import pandas as pd

    from qdx.analysis.matrix import matrix_from

    own = matrix_from(corpus, rows="codes", cols="sources", value="references", level=None)
    keys = list(own.attrs["row_keys"])
    position = {k: i for i, k in enumerate(keys)}
    values = own.to_numpy().copy()
    for key in reversed(corpus.tree.order):  # children come after parents in pre-order
        path = corpus.tree.paths[key]
        if len(path) > 1 and key in position and path[-2] in position:
            values[position[path[-2]]] += values[position[key]]
    frame = pd.DataFrame(values, index=own.index, columns=own.columns)
    frame.attrs.update(own.attrs)
    return frame


T = TypeVar("T")


def _try(notes: list[str], title: str, run: Callable[[], T]) -> T | None:
    try:
        return run()
    except Exception as exc:  # a failing analysis leaves its section out and says why
        notes.append(f"{title}: skipped ({type(exc).__name__}: {exc})")
        return None


def _cooccurrence(corpus: Corpus, notes: list[str]) -> tuple[pd.DataFrame | None, str]:
    from qdx.analysis.cooccurrence import pairs_from

    for name, level in (("subcategory", "subcategories"), ("main category", "main")):
        try:
            if corpus.tree.at_depth(corpus.tree.depth(level)):
                return pairs_from(corpus, level=level, mode="overlap"), name
        except Exception:  # a tree without this level: try the next
            continue
    return _try(notes, "Co-occurrence", lambda: pairs_from(corpus, level=None, mode="overlap")), "code"


def _coders(corpus: Corpus) -> list[str]:
    counts: dict[str, int] = {}
    for coder in corpus.codings["coder"]:
        if isinstance(coder, str) and coder:
            counts[coder] = counts.get(coder, 0) + 1
    return sorted(counts, key=lambda c: (-counts[c], c))


def _agreement(project: Project, corpus: Corpus, compare: Project | None, labels: tuple[str, str] | None,
               notes: list[str]) -> AgreementResult | None:
    from qdx.analysis.agreement import agree

    if compare is not None:
        a, b = labels if labels is not None else (None, None)
        return _try(notes, "Agreement", lambda: agree(project, compare, label_a=a, label_b=b))
    coders = _coders(corpus)
    if len(coders) < 2:
        notes.append("Agreement: not applicable (one coder; compare a second coder's project with --compare)")
        return None
    a, b = coders[:2]
    return _try(notes, "Agreement", lambda: agree(project, coders_a=[a], coders_b=[b]))


def _saturation(project: Project, notes: list[str]) -> tuple[SaturationResult | None, str]:
    from qdx.analysis.saturation import saturation

    held = next((s.name for s in project.sets if "saturation" in s.name.lower()), None)
    how = (f"documents in name order; the set {held!r} held out and tested" if held
           else "documents in name order")
    result = _try(notes, "Saturation", lambda: saturation(project, holdout_set=held))
    return result, how


def _structure(project: Project, notes: list[str]) -> tuple[Issue, ...]:
    from qdx.validation.structure import check_structure

    result = _try(notes, "Structure", lambda: check_structure(project))
    return tuple(result.issues) if result is not None else ()


def _audit(project: Project, notes: list[str]) -> tuple[Finding, ...]:
    from qdx.validation.audit import audit

    result = _try(notes, "Audit", lambda: audit(project))
    return tuple(result) if result is not None else ()


def report_sections(project: Project, *, compare: Project | None = None, labels: tuple[str, str] | None = None,
                    depth: int = 3) -> ReportSections:
    """Compute every section of the report for ``project``.

    Args:
        project: the project (not modified).
        compare: a second coder's project of the same sources (adds agreement against it);
            otherwise agreement compares the two most active coders inside ``project``.
        labels: names for the two sides of that comparison (e.g. the two file names).
        depth: levels drawn in the model figure (core = 1).

    Returns:
        A :class:`ReportSections`.
    """
    notes: list[str] = []
    corpus = build_corpus(project)
    book = codebook_from(corpus)
    model = _try(notes, "Model", lambda: figure_from(book, depth)) if book.entries else None
    cooc, level = _cooccurrence(corpus, notes)
    agreement = _agreement(project, corpus, compare, labels, notes)
    saturation, how = _saturation(project, notes)
    return ReportSections(
        project=project, corpus=corpus, codebook=book, model=model,
        matrix=rolled_matrix(corpus), cooccurrence=cooc, cooccurrence_level=level, agreement=agreement,
        saturation=saturation, saturation_how=how, structure=_structure(project, notes),
        audit=_audit(project, notes), notes=notes)
