"""Shared look-ups over codes for the structure check and the audit.

Name folding (for comparing names), code-path labels, per-code silencing (``qdx: ignore``),
coding usage per code and the core-category mark in descriptions.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from qdx.model import Code, Guid, Project, iter_selections, text_docs

_CORE_MARK = re.compile(
    r"^\s*(?:\[core\]|core[ _-]category\b|level\s*[:：]\s*core\b|核心范畴|核心类属)", re.I | re.M
)
# A code silences rules for itself with a description line such as "qdx: ignore GT4, CB2".
_IGNORE = re.compile(r"qdx\s*:\s*ignore\s+([A-Za-z0-9 ,]+)", re.I)
_PUNCT_OR_SPACE = re.compile(r"[\W_]+", re.UNICODE)


def fold_name(name: str) -> str:
    """A name folded for comparison: NFKC, case, whitespace and punctuation removed.

    NFKC maps full-width forms to ASCII, so ``Ｓｏｃｉａｌ　ｐｒｅｓｓｕｒｅ`` and
    ``social-Pressure`` both fold to ``socialpressure``.
    """
    return _PUNCT_OR_SPACE.sub("", unicodedata.normalize("NFKC", name).casefold())


def name_words(name: str) -> tuple[str, ...]:
    """The words of a name (NFKC, casefolded), punctuation dropped."""
    return tuple(w for w in _PUNCT_OR_SPACE.split(unicodedata.normalize("NFKC", name).casefold()) if w)


def path_label(path: Iterable[str]) -> str:
    """How a code path is shown in issues and findings: names joined by ``/``."""
    return "/".join(path)


def ignored_rules(code: Code) -> frozenset[str]:
    """Rule codes a code silences for itself (``qdx: ignore GT4`` in its description)."""
    found: set[str] = set()
    for match in _IGNORE.finditer(code.description or ""):
        found.update(part.strip().upper() for part in re.split(r"[ ,]+", match.group(1)) if part.strip())
    return frozenset(found)


@dataclass(frozen=True, slots=True)
class Usage:
    """How often a code is applied: its codings and the distinct sources they are in."""

    references: int = 0
    sources: int = 0


def coding_usage(project: Project) -> dict[Guid, Usage]:
    """Codings per code GUID, over whole-source codings and every kind of selection.

    A codebook-only input (NVivo Codebook.docx) has no codings but may carry the counts its
    producer reported (``Provenance.code_counts``); those are used instead.
    """
    if not project.sources and project.provenance is not None and project.provenance.code_counts:
        return {c.code: Usage(c.references or 0, c.files or 0) for c in project.provenance.code_counts}
    references: dict[Guid, int] = {}
    sources: dict[Guid, set[Guid]] = {}
    for source in project.sources:
        codings = list(source.codings)
        for doc in text_docs(source):
            if doc is not source:  # a TextSource is its own text doc: count its codings once
                codings.extend(doc.codings)
        for selection in iter_selections(source):
            codings.extend(selection.codings)
        for coding in codings:
            references[coding.code] = references.get(coding.code, 0) + 1
            sources.setdefault(coding.code, set()).add(source.guid)
    return {code: Usage(n, len(sources[code])) for code, n in references.items()}


def has_coding_data(project: Project) -> bool:
    """False for a codebook (.qdc) or a project without sources, unless the input reported
    per-code reference counts (``Provenance.code_counts``): nothing could be applied."""
    provenance = project.provenance
    if provenance is not None and any(c.references is not None for c in provenance.code_counts):
        return True
    return not project.is_codebook and bool(project.sources)


def is_core_marked(description: str | None) -> bool:
    """Whether a description marks its code or set as the core category."""
    return bool(description and _CORE_MARK.search(description))
