"""The Overview sheet's facts: what the project is, how big, who coded, how valid."""

from __future__ import annotations

from collections import Counter

from qdx.analysis._codings import Corpus
from qdx.model import Project


def _level_counts(corpus: Corpus, names: list[str] | None) -> list[list[object]]:
    tree = corpus.tree
    labels = names or [n.replace("_", " ") for n in tree.column_names()]
    return [[f"Codes at level: {name}", len(tree.at_depth(depth))] for depth, name in enumerate(labels)]


def validation_rows(project: Project) -> list[list[object]]:
    """The Overview's line on the integrity rules: how many errors, warnings and infos."""
    try:
        from qdx.validation import validate
    except ImportError:
        return [["Validation", "not available in this qdx"]]
    try:
        issues = validate(project)
    except Exception as exc:
        return [["Validation", f"failed: {type(exc).__name__}: {exc}"]]
    counts = Counter(issue.severity.value for issue in issues)
    summary = ", ".join(f"{counts.get(s, 0)} {s}s" for s in ("error", "warning", "info"))
    return [["Validation (integrity rules)", summary]]


def _coders(corpus: Corpus) -> list[list[object]]:
    counts = Counter(c if isinstance(c, str) else "(no coder)" for c in corpus.codings["coder"])
    return [[f"Coder: {name}", n] for name, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def overview_rows(project: Project, corpus: Corpus, input_name: str | None,
                  level_names: list[str] | None = None,
                  validation: list[list[object]] | None = None) -> list[list[object]]:
    """(item, value) rows describing ``project``.

    Args:
        project: the project. corpus: its prepared codings. input_name: the file it came from.
        level_names: display names of the tree's depths (default: the frames' level columns).
        validation: :func:`validation_rows` of the project when run already.

    Returns:
        Rows for a two-column sheet.
    """
    prov = project.provenance
    codings = corpus.codings
    rows: list[list[object]] = [
        ["Project", project.name or "(unnamed)"],
        ["File", input_name],
        ["Format read", prov.fmt if prov else None],
        ["Producer (origin)", project.origin],
        ["Position unit of the producer", (prov.position_unit if prov else None) or "code points (REFI §10.2)"],
        ["Created", project.creation_datetime],
        ["Modified", project.modified_datetime],
        ["Sources", len(project.sources)],
        ["Text characters", sum(corpus.source_chars.values())],
        ["Cases", len(project.cases)],
        ["Variables", len(project.variables)],
        ["Sets", len(project.sets)],
        ["Users", len(project.users)],
        ["Codes", len(corpus.tree.order)],
        *_level_counts(corpus, level_names),
        ["Codings (coded references)", len(codings)],
        ["Coded selections", int(codings["selection"].nunique())],
        ["Sources with codings", int(codings["source"].nunique())],
        *_coders(corpus),
        ["Reading issues", len(prov.issues) if prov else 0],
        *(validation if validation is not None else validation_rows(project)),
    ]
    if prov and prov.quirks:
        rows.append(["Producer quirks met", ", ".join(prov.quirks)])
    return rows
