"""Gathering both sides' text codings for :mod:`qdx.analysis.agreement`, lined up and unitised.

Sources line up by GUID, else by name; codes by GUID, else by their full path, so two coders'
copies of one project (or one project with two users) compare like NVivo's Coding Comparison
(docs/methods.md §A.1). Positions become characters, sentences or paragraphs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from qdx.analysis import _intervals as iv
from qdx.model import (
    Code,
    Guid,
    Project,
    ProjectIndex,
    TextSelection,
    TextSource,
    iter_codes,
    iter_selections,
    text_docs,
)
from qdx.names import refuse_placeholder, unknown
from qdx.segment import LABEL_RE
from qdx.textmap import TextMap, carry_selection

# A sentence ends at . ! ? (then space or end), at Chinese 。！？, or at the end of a line.
_SENTENCE_RE = re.compile(r"\S[^\n]*?(?:[.!?]+[\"'”’)\]]*(?=\s|\Z)|[。！？]+[”’」』）]*|(?=\n)|\Z)")
_PARAGRAPH_RE = re.compile(r"\S(?:[^\n]*\S)?")


# --------------------------------------------------------------------------- gathering codings


@dataclass(slots=True)
class Doc:
    name: str
    text: str | None
    size: int
    unit_start: iv.IntArray | None = None
    unit_end: iv.IntArray | None = None


@dataclass(slots=True)
class Catalog:
    """Codes and text documents of both sides, keyed so that the two sides line up."""

    code_keys: dict[str, int] = field(default_factory=dict)
    code_paths: list[tuple[str, ...]] = field(default_factory=list)
    doc_keys: dict[str, int] = field(default_factory=dict)
    docs: list[Doc] = field(default_factory=list)
    code_claims: list[set[str]] = field(default_factory=list)  # which sides hold each code
    doc_claims: list[set[str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Side:
    code: list[int] = field(default_factory=list)
    doc: list[int] = field(default_factory=list)
    start: list[int] = field(default_factory=list)
    end: list[int] = field(default_factory=list)
    present: set[int] = field(default_factory=set)  # documents of the side's project


def resolve_users(project: Project, specs: Sequence[str], side: str) -> set[Guid] | None:
    """Users matching names, ids or GUIDs; ``None`` (everyone) when no spec is given."""
    if not specs:
        return None
    found: set[Guid] = set()
    for spec in specs:
        matched = [u for u in project.users if spec in (u.name, u.id) or u.guid == spec]
        if not matched:
            known = [u.name or u.id or str(u.guid) for u in project.users]
            raise unknown("coder", spec, known, where=f"side {side}'s project")
        for user in matched:
            refuse_placeholder(user.name, "intercoder agreement")
        hits = {u.guid for u in matched}
        found |= hits
    return found


def _line_up(keys: dict[str, int], claims: list[set[str]], side: str, guid: str, alt: str) -> int | None:
    """The number an item lines up with: the same GUID, else the same name/path on the *other* side.

    Matching by name only across sides keeps two same-named items of one project apart.
    """
    number = keys.get(guid)
    if number is None:
        number = keys.get(alt)
        if number is not None and side in claims[number]:
            number = None
    return number


def _register(keys: dict[str, int], claims: list[set[str]], side: str, number: int, *names: str) -> None:
    for name in names:
        keys.setdefault(name, number)
    claims[number].add(side)


def _code_key(catalog: Catalog, index: ProjectIndex, guid: Guid, side: str) -> int:
    """Codes line up by GUID, else by their full path (two coders' copies of one codebook)."""
    code: Code | None = index.codes.get(guid)
    path = index.code_path(code) if code is not None else (str(guid),)
    keys = (f"guid:{Guid(guid).key}", "path:" + "\x1f".join(path))
    number = _line_up(catalog.code_keys, catalog.code_claims, side, *keys)
    if number is None:
        number = len(catalog.code_paths)
        catalog.code_paths.append(path)
        catalog.code_claims.append(set())
    _register(catalog.code_keys, catalog.code_claims, side, number, *keys)
    return number


def _doc_key(catalog: Catalog, doc: TextSource, name: str, side: str) -> tuple[int, TextMap | None]:
    """Sources line up by GUID, else by name (MAXQDA pairs same-named documents, §A.2).

    Also returns the map from this side's copy of the text onto the copy already catalogued
    when the two differ (:mod:`qdx.textmap`): line endings, a BOM or trailing whitespace map
    exactly; an edited text is aligned, and passages no longer in it are counted as lost.
    """
    keys = (f"guid:{doc.guid.key}", f"name:{name}")
    number = _line_up(catalog.doc_keys, catalog.doc_claims, side, *keys)
    tmap = None
    if number is None:
        number = len(catalog.docs)
        catalog.docs.append(Doc(name=name, text=doc.text, size=len(doc.text) if doc.text is not None else 0))
        catalog.doc_claims.append(set())
    else:
        known = catalog.docs[number]
        if doc.text is not None and known.text is not None and doc.text != known.text:
            tmap = TextMap(doc.text, known.text)
            if not tmap.same_text:
                catalog.warnings.append(
                    f"source {name!r} was edited between the two sides; side {side}'s codings are carried "
                    "onto the other copy by aligning the texts"
                )
    _register(catalog.doc_keys, catalog.doc_claims, side, number, *keys)
    return number, tmap


def _text_docs(project: Project) -> Iterator[tuple[TextSource, str]]:
    for source in project.sources:
        base = source.name or str(source.guid)
        for doc in text_docs(source):
            yield doc, base if doc is source else f"{base} / {doc.name or doc.guid}"


class _Lookup:
    """Per-project memo of code numbers and coder membership, keyed by the GUID's spelling.

    :class:`Guid` hashes case-insensitively in Python code; on 100,000 codings that dominates,
    so each distinct spelling is resolved once and then looked up as a plain ``str``.
    """

    def __init__(self, project: Project, users: set[Guid] | None, catalog: Catalog, side: str) -> None:
        self.index = ProjectIndex(project)
        self.side = side
        self.users = users
        self.catalog = catalog
        self.codes: dict[str, int] = {}
        self.members: dict[str | None, bool] = {}

    def code(self, guid: Guid) -> int:
        raw = str.__str__(guid)
        number = self.codes.get(raw)
        if number is None:
            number = self.codes[raw] = _code_key(self.catalog, self.index, guid, self.side)
        return number

    def chosen(self, user: Guid | None) -> bool:
        if self.users is None:
            return True
        raw = None if user is None else str.__str__(user)
        known = self.members.get(raw)
        if known is None:
            known = self.members[raw] = user is not None and user in self.users
        return known


def gather(project: Project, users: set[Guid] | None, catalog: Catalog, side_name: str) -> Side:
    """Every text coding of the chosen users as (code, doc, start, end)."""
    look = _Lookup(project, users, catalog, side_name)
    side = Side()

    def add(code: Guid, doc: int, start: int, end: int) -> None:
        side.code.append(look.code(code))
        side.doc.append(doc)
        side.start.append(start)
        side.end.append(end)

    for code, _ in iter_codes(project.codes):  # number codes in tree order, for the reports
        look.code(code.guid)
    for doc, name in _text_docs(project):
        number, tmap = _doc_key(catalog, doc, name, side_name)
        side.present.add(number)
        lost = 0
        for sel, start, end in _ranges(doc, tmap):
            chosen = [c for c in sel.codings if look.chosen(c.creating_user or sel.creating_user)]
            if start is None or end is None:
                lost += len(chosen)
                continue
            for coding in chosen:
                add(coding.code, number, start, end)
        whole = catalog.docs[number].text if tmap is not None else doc.text
        for coding in doc.codings:  # a whole-source coding covers all of its text
            if look.chosen(coding.creating_user):
                add(coding.code, number, 0, len(whole or ""))
        _warn_lost(catalog, side_name, name, lost)
    skipped = _non_text_codings(project)
    if skipped:
        # NVivo reports regions and media separately (docs/methods.md §A.1 "Units"); qdx compares text.
        catalog.warnings.append(f"side {side_name}: {skipped} picture/PDF-region/media coding(s) are not compared")
    return side


def _warn_lost(catalog: Catalog, side_name: str, name: str, lost: int) -> None:
    if lost:
        catalog.warnings.append(
            f"side {side_name}: {lost} coding(s) of source {name!r} are left out: their passage is not "
            "in the other side's copy of the text"
        )


def _ranges(doc: TextSource, tmap: TextMap | None) -> Iterator[tuple[TextSelection, int | None, int | None]]:
    """Each selection with its range on the catalogued copy of the text (None, None: lost)."""
    for sel in doc.selections:
        if tmap is None:
            yield sel, sel.start, sel.end
        else:
            got = carry_selection(tmap, sel)
            yield sel, got.start, got.end


def _non_text_codings(project: Project) -> int:
    count = 0
    for source in project.sources:
        count += sum(len(sel.codings) for sel in iter_selections(source) if not isinstance(sel, TextSelection))
        if not isinstance(source, TextSource):
            count += len(source.codings)
    return count


# --------------------------------------------------------------------------- units


def _units(text: str, unit: str) -> tuple[iv.IntArray, iv.IntArray]:
    """Sentence or paragraph spans of a text, in code points."""
    if unit == "sentence":
        labelled = [m.start(1) for m in LABEL_RE.finditer(text)]
        if labelled:
            # The bundled study stores one sentence per "A-i-j" line (fixtures/wechat-moments/README.md).
            ends = [(lambda e: len(text) if e < 0 else e)(text.find("\n", s)) for s in labelled]
            return np.asarray(labelled, dtype=np.int64), np.asarray(ends, dtype=np.int64)
        spans = [m.span() for m in _SENTENCE_RE.finditer(text)]
    else:
        spans = [m.span() for m in _PARAGRAPH_RE.finditer(text)]
    arr = np.asarray(spans, dtype=np.int64).reshape(-1, 2)
    return arr[:, 0], arr[:, 1]


def prepare_docs(catalog: Catalog, sides: Sequence[Side], unit: str) -> None:
    """Size every document in the chosen unit (text missing: the furthest coded position)."""
    for number, doc in enumerate(catalog.docs):
        if doc.text is None:
            ends = [e for side in sides for d, e in zip(side.doc, side.end, strict=True) if d == number]
            doc.size = max(ends, default=0)
            catalog.warnings.append(f"source {doc.name!r} has no text; its size is taken as {doc.size}")
            if unit != "char":
                doc.unit_start = doc.unit_end = np.zeros(0, dtype=np.int64)
            continue
        if unit != "char":
            doc.unit_start, doc.unit_end = _units(doc.text, unit)


def side_arrays(side: Side, catalog: Catalog, unit: str) -> tuple[iv.IntArray, iv.IntArray, iv.IntArray, iv.IntArray]:
    """(code, doc, start, end) arrays with positions in the comparison unit, clipped to the doc."""
    code = np.asarray(side.code, dtype=np.int64)
    doc = np.asarray(side.doc, dtype=np.int64)
    start = np.asarray(side.start, dtype=np.int64)
    end = np.asarray(side.end, dtype=np.int64)
    sizes = np.asarray([d.size for d in catalog.docs] or [0], dtype=np.int64)
    start = np.clip(start, 0, sizes[doc] if doc.size else 0)
    end = np.clip(end, 0, sizes[doc] if doc.size else 0)
    if unit == "char":
        return code, doc, start, end
    empty = end <= start  # an empty selection touches no unit, whatever unit it sits in
    for number, d in enumerate(catalog.docs):
        mask = (doc == number) & ~empty
        if mask.any() and d.unit_start is not None and d.unit_end is not None:
            start[mask], end[mask] = iv.to_units(d.unit_start, d.unit_end, start[mask], end[mask])
    end[empty] = start[empty]
    return code, doc, start, end


def doc_units(doc: Doc, unit: str) -> int:
    """How many units a document has in the comparison unit."""
    if unit == "char" or doc.unit_start is None:
        return doc.size
    return int(doc.unit_start.size)
