"""The codebook appendix as data: one entry per code, in tree order.

What a grounded-theory paper's codebook appendix shows (MacQueen et al. 1998, docs/methods.md §C.3):
the tree core → main → sub → concept (or the plain hierarchy), and per code its definition
split into MacQueen's parts where the text labels them, how often it was used, one example
quote from the data, its colour and the memos attached to it. The writers (``.docx``,
``.md``, ``.html``) in :mod:`qdx.report.codebook_doc` only lay this out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from qdx.analysis._codings import Corpus, build_corpus
from qdx.model import Code, Link, Project, guid_key, iter_codes
from qdx.segment import Segment
from qdx.validation.misfit import macqueen_fields

# How the example quote is chosen, stated in every codebook that shows one.
QUOTE_LIMIT = 300
QUOTE_RULE = (
    "Example quotes: for each code without subcodes, the longest of its coded text passages that "
    f"has at most {QUOTE_LIMIT} characters (ties: the earliest, in source order then position); "
    f"when every passage is longer, the shortest one, cut at {QUOTE_LIMIT} characters and marked with …."
)
FIELD_LABELS: Mapping[str, str] = {
    "definition": "Definition",
    "brief": "Brief definition",
    "full": "Full definition",
    "use": "When to use",
    "do not use": "When not to use",
    "example": "Example (from the definition)",
}
LEVEL_LABELS: Mapping[str, str] = {
    "core": "core category",
    "main_category": "main category",
    "subcategory": "subcategory",
    "concept": "concept",
}
_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")
# XML 1.0 forbids these characters (python-docx refuses them, SVG cannot hold them); text from
# other people's files may contain them.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_text(text: str) -> str:
    """``text`` without the control characters XML 1.0 cannot hold."""
    return _XML_ILLEGAL.sub("", text)


@dataclass(frozen=True, slots=True)
class Quote:
    """A coded passage shown as an example: its text (possibly cut), where it is, who coded it."""

    text: str
    source: str
    start: int | None
    end: int | None
    coder: str | None
    cut: bool = False


@dataclass(frozen=True, slots=True)
class Memo:
    """A memo (REFI Note) attached to a code or to the project."""

    name: str
    text: str


@dataclass(frozen=True, slots=True)
class CodebookEntry:
    """One code of the codebook.

    ``references``/``sources``: the code's own codings and the sources they are in (NVivo's
    "direct" counts, docs/nvivo-exports.md §b.1); ``*_total``: with every code below it rolled up. All
    four are None when the input has no coding data (a codebook); for an NVivo Codebook.docx
    they are the counts it reported (``sources_total`` None: files cannot be summed).
    ``fields``: MacQueen parts by key of :data:`FIELD_LABELS`. ``color``: ``#RRGGBB`` or None.
    """

    guid: str
    name: str
    path: tuple[str, ...]
    depth: int
    level: str
    is_codable: bool
    color: str | None
    description: str
    fields: Mapping[str, str]
    references: int | None
    sources: int | None
    references_total: int | None
    sources_total: int | None
    children: int
    example: Quote | None = None
    memos: tuple[Memo, ...] = ()

    @property
    def is_leaf(self) -> bool:
        return self.children == 0

    @property
    def level_label(self) -> str:
        return LEVEL_LABELS.get(self.level, self.level.replace("_", " "))


@dataclass(frozen=True, slots=True)
class CodebookData:
    """The whole appendix: title, entries in tree (pre-)order, project memos, the quote rule."""

    title: str
    entries: tuple[CodebookEntry, ...]
    project_memos: tuple[Memo, ...] = ()
    quote_rule: str = QUOTE_RULE
    has_core: bool = False
    counts: Mapping[str, int] = field(default_factory=dict)
    links: tuple[Link, ...] = ()


def choose_quote(passages: list[tuple[int, Segment]]) -> Quote | None:
    """The example passage by :data:`QUOTE_RULE` from (document-order index, segment) pairs."""
    texts = [(i, s.text.strip(), s) for i, s in passages if s.text and s.text.strip()]
    if not texts:
        return None
    fitting = [t for t in texts if len(t[1]) <= QUOTE_LIMIT]
    if fitting:
        _, text, seg = min(fitting, key=lambda t: (-len(t[1]), t[0]))
        return Quote(text, seg.source, seg.start, seg.end, seg.coder)
    _, text, seg = min(texts, key=lambda t: (len(t[1]), t[0]))
    return Quote(text[: QUOTE_LIMIT - 1].rstrip() + "…", seg.source, seg.start, seg.end, seg.coder, cut=True)


def valid_color(color: str | None) -> str | None:
    """``#RRGGBB`` in upper case, or None for anything else (colours come from other files)."""
    return color.upper() if color and _COLOR.match(color.strip()) else None


_Counts = tuple[dict[str, int], dict[str, int], dict[str, int], dict[str, int]]


def _reported_counts(corpus: Corpus) -> _Counts | None:
    """Counts an input without codings reported itself (NVivo Codebook.docx, docs/nvivo-exports.md §b.1):
    direct references and files per code; references roll up by summing, files cannot."""
    provenance = corpus.project.provenance
    if corpus.project.sources or provenance is None or not provenance.code_counts:
        return None
    refs = {guid_key(c.code): c.references for c in provenance.code_counts if c.references is not None}
    files = {guid_key(c.code): c.files for c in provenance.code_counts if c.files is not None}
    totals: dict[str, int] = {}
    for key, n in refs.items():
        for anc in corpus.tree.paths.get(key, (key,)):
            totals[anc] = totals.get(anc, 0) + n
    return refs, totals, files, {}


def _counts(corpus: Corpus) -> _Counts:
    refs: dict[str, int] = {}
    refs_total: dict[str, int] = {}
    srcs: dict[str, set[str]] = {}
    srcs_total: dict[str, set[str]] = {}
    for code, source in zip(corpus.codings["code"], corpus.codings["source"], strict=True):
        refs[code] = refs.get(code, 0) + 1
        srcs.setdefault(code, set()).add(source)
        for anc in corpus.tree.paths.get(code, (code,)):
            refs_total[anc] = refs_total.get(anc, 0) + 1
            srcs_total.setdefault(anc, set()).add(source)
    return refs, refs_total, {k: len(v) for k, v in srcs.items()}, {k: len(v) for k, v in srcs_total.items()}


def _memos(project: Project, code: Code) -> tuple[Memo, ...]:
    notes = {guid_key(n.guid): n for n in project.notes}
    found = [notes.get(guid_key(ref)) for ref in code.note_refs]
    return tuple(Memo(n.name or "Memo", n.text or "") for n in found if n is not None)


def _project_memos(project: Project) -> tuple[Memo, ...]:
    """Notes not attached to any code (the project's own memos and free-standing ones)."""
    attached = {guid_key(ref) for code, _ in iter_codes(project.codes) for ref in code.note_refs}
    return tuple(Memo(n.name or "Memo", n.text or "") for n in project.notes if guid_key(n.guid) not in attached)


def codebook_from(corpus: Corpus) -> CodebookData:
    """:func:`codebook_data` over a prepared corpus (reports reuse theirs)."""
    from qdx.validation.codes import has_coding_data

    project = corpus.project
    coded = has_coding_data(project)
    refs, refs_total, srcs, srcs_total = _reported_counts(corpus) or _counts(corpus)

    def count(table: dict[str, int], key: str) -> int | None:
        # No coding data: a count would be a made-up 0. Reported counts: only what was reported.
        if not coded or (table is srcs_total and project.is_codebook):
            return None
        return table.get(key, 0)

    passages: dict[str, list[tuple[int, Segment]]] = {}
    for index, seg in enumerate(corpus.segments):
        passages.setdefault(guid_key(seg.code_guid), []).append((index, seg))
    names = corpus.tree.column_names()
    entries = []
    for code, ancestors in iter_codes(project.codes):
        key = guid_key(code.guid)
        description = code.description or ""
        entries.append(CodebookEntry(
            guid=str(code.guid), name=code.name, path=(*(a.name for a in ancestors), code.name),
            depth=len(ancestors), level=names[len(ancestors)], is_codable=code.is_codable,
            color=valid_color(code.color), description=description, fields=macqueen_fields(description),
            references=count(refs, key), sources=count(srcs, key), references_total=count(refs_total, key),
            sources_total=count(srcs_total, key), children=len(code.children),
            example=None if code.children else choose_quote(passages.get(key, [])),
            memos=_memos(project, code)))
    counts = {"codes": len(entries), "codings": len(corpus.codings), "sources": len(project.sources),
              "coded": int(coded)}
    return CodebookData(title=project.name or "Codebook", entries=tuple(entries),
                        project_memos=_project_memos(project), has_core=corpus.tree.has_core, counts=counts,
                        links=project.links)


def codebook_data(project: Project) -> CodebookData:
    """The codebook appendix of ``project`` as data (see the module docstring)."""
    return codebook_from(build_corpus(project))
