"""Coded segments: the project flattened to one record per (selection, coding).

This is the table most analyses start from (matrices, agreement, diff, reports). Text
segments carry their exact text, sliced from the model's text by code point (the model's
unit, REFI §10.2): text selections from their text, transcript selections from their sync
points' positions in the transcript, PDF regions with a ``<Representation>`` that text (with
positions when it occurs once in the PDF's whole representation). A range outside its
text gets no text (validate reports it, QDX112). Audio/video selections carry ``begin``/``end``
in ms. Each segment says what it marks (``kind``): a ``text`` passage, a PDF or picture
``region`` (with its page and corners in ``region``; text only when the PDF's representation
gives it, never made up), a ``media`` span or a whole ``source``. Segments come in document
order: source order, then start.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import MISSING, dataclass, field, fields, make_dataclass
from operator import itemgetter

from qdx.collector import collector_paused
from qdx.model import (
    AudioSelection,
    AudioSource,
    Coding,
    Guid,
    PDFSelection,
    PDFSource,
    PictureSelection,
    Project,
    ProjectIndex,
    Selection,
    Source,
    TextSelection,
    TextSource,
    Transcript,
    VideoSelection,
    VideoSource,
    iter_selections,
    text_docs,
)
from qdx.options import SegmentKind

# The bundled study labels each transcript line "A-<interviewee>-<sentence>" (the paper's scheme).
LABEL_RE = re.compile(r"^\s*([A-Z]-\d+-\d+)\b", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Region:
    """Where a region segment lies: ``page`` (REFI, counted from 0; None for a picture) and the
    two corners as the producer wrote them (docs/quirks.md §5.2)."""

    page: int | None
    first_x: int
    first_y: int
    second_x: int
    second_y: int

    def as_dict(self) -> dict[str, int | None]:
        return {"page": self.page, "first_x": self.first_x, "first_y": self.first_y,
                "second_x": self.second_x, "second_y": self.second_y}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Segment:
    """One coding of one selection (or of a whole source, then ``selection`` is None)."""

    source: str
    source_guid: Guid
    selection: Guid | None
    start: int | None
    end: int | None
    text: str | None
    code: str
    code_guid: Guid
    code_path: tuple[str, ...]
    coder: str | None
    coding_guid: Guid
    labels: tuple[str, ...] = ()
    kind: SegmentKind = "text"
    region: Region | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "selection": self.selection,
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "code": self.code,
            "code_path": list(self.code_path),
            "coder": self.coder,
            "labels": list(self.labels),
            "kind": self.kind,
            "region": None if self.region is None else self.region.as_dict(),
        }


# A frozen dataclass sets each field through object.__setattr__ (2.1 us for a Segment, against
# 0.2 us for a plain slotted class; a 100,000-coding project spent 0.2 s on it). The hot loop
# fills this plain twin, which has Segment's fields and slots in Segment's order, and then
# gives it Segment's class: Python allows assigning __class__ between classes of the same
# slot layout, and the object is then a Segment like any other (frozen, equal, hashed).
_Draft = make_dataclass(
    "_Draft",
    [(f.name, f.type) if f.default is MISSING else (f.name, f.type, field(default=f.default)) for f in fields(Segment)],
    slots=True, eq=False, repr=False,
)  # fmt: skip


class LineLabels:
    """Finds the ``A-i-j`` labels of the lines a character range touches (bisect, O(log n))."""

    def __init__(self, text: str) -> None:
        self.starts: list[int] = []
        self.labels: list[str] = []
        for match in LABEL_RE.finditer(text):
            self.starts.append(match.start())
            self.labels.append(match.group(1))

    def spanned(self, start: int, end: int) -> tuple[str, ...]:
        if not self.starts:
            return ()
        first = max(bisect.bisect_right(self.starts, start) - 1, 0)
        last = max(bisect.bisect_left(self.starts, max(end, start + 1)) - 1, first)
        return tuple(self.labels[first : last + 1])


def _range(sel: Selection) -> tuple[int | None, int | None]:
    if isinstance(sel, TextSelection):
        return sel.start, sel.end
    if isinstance(sel, AudioSelection | VideoSelection):
        return sel.begin, sel.end
    return None, None


def _kind(sel: Selection) -> tuple[SegmentKind, Region | None]:
    if type(sel) is TextSelection:  # the common case, first
        return "text", None
    if isinstance(sel, PDFSelection):
        return "region", Region(sel.page, sel.first_x, sel.first_y, sel.second_x, sel.second_y)
    if isinstance(sel, PictureSelection):
        return "region", Region(None, sel.first_x, sel.first_y, sel.second_x, sel.second_y)
    if isinstance(sel, AudioSelection | VideoSelection):
        return "media", None
    return "text", None


class _Located:
    """Where each selection of a source sits in which text: ``(doc text, start, end)``."""

    def __init__(self, source: Source) -> None:
        self.where: dict[int, tuple[str | None, int | None, int | None]] = {}
        self.texts: dict[int, str] = {}  # PDF regions' own text, when not placed in the whole
        for doc in text_docs(source):
            for tsel in doc.selections:
                self.where[id(tsel)] = (doc.text, tsel.start, tsel.end)
        if isinstance(source, AudioSource | VideoSource):
            for transcript in source.transcripts:
                self._transcript(transcript)
        if isinstance(source, PDFSource):
            whole = source.representation.text if source.representation is not None else None
            for psel in source.selections:
                if psel.representation is not None and psel.representation.text is not None:
                    self.texts[id(psel)] = psel.representation.text
                    self.where[id(psel)] = _in_whole(whole, psel.representation.text)

    def _transcript(self, transcript: Transcript) -> None:
        # A transcript selection runs from its fromSyncPoint's position to its toSyncPoint's.
        points = {point.guid: point.position for point in transcript.sync_points}
        for tsel in transcript.selections:
            start = points.get(tsel.from_sync_point) if tsel.from_sync_point is not None else None
            end = points.get(tsel.to_sync_point) if tsel.to_sync_point is not None else None
            self.where[id(tsel)] = (transcript.text, start, end)


def _in_whole(whole: str | None, part: str) -> tuple[str | None, int | None, int | None]:
    """A PDF region's place in the PDF's whole representation, when its text occurs there once
    (else no position: the region has a page and corners, not a text offset)."""
    at = whole.find(part) if whole else -1
    if whole is not None and at >= 0 and whole.find(part, at + 1) < 0:
        return whole, at, at + len(part)
    return None, None, None


class _Lookups:
    """Code paths and user names by the GUID's spelling as a plain ``str``.

    ``Guid`` hashes case-folded (every dict lookup strips and lowers it); the same few code
    and user GUIDs repeat on every coding, so one case-folding lookup per distinct spelling
    is enough (a 100,000-coding project spent half its segment time hashing GUIDs).
    """

    def __init__(self, index: ProjectIndex) -> None:
        self.index = index
        self.paths: dict[str, tuple[str, ...]] = {}
        self.users: dict[str | None, str | None] = {None: None}

    def path(self, guid: Guid) -> tuple[str, ...]:
        raw = str(guid)
        found = self.paths.get(raw)
        if found is None:
            code = self.index.codes.get(guid)
            found = self.paths[raw] = self.index.code_path(code) if code is not None else (raw,)
        return found

    def user(self, guid: Guid | None) -> str | None:
        raw = None if guid is None else str(guid)
        if raw in self.users:
            return self.users[raw]
        name = self.users[raw] = self.index.user_name(guid)
        return name


# One selection of a source with its place and text, before its codings are expanded:
# (selection, start, end, text, labels, doc), ``doc`` being the text ``text`` was sliced from
# (``doc[start:end] == text``), else None (a PDF region's own text, a media range, a picture
# region). A plain tuple: a named one costs a Python call per selection.
Passage = tuple[Selection, int | None, int | None, str | None, tuple[str, ...], str | None]


def source_passages(source: Source) -> list[Passage]:
    """The source's selections in document order: by start (None last), then as stored.

    Sorting selections (a stable sort) orders their codings as sorting the codings would:
    every coding of a selection has its start.
    """
    out = _text_source_passages(source) if isinstance(source, TextSource) else _passages(source)
    if all(p[1] is not None for p in out):
        out.sort(key=itemgetter(1))  # the same order: every key is (False, start)
    else:
        out.sort(key=lambda p: (p[1] is None, p[1] or 0))
    return out


def _text_source_passages(source: TextSource) -> list[Passage]:
    """:func:`_passages` of a text source: its own selections, on its own text (the common case,
    without the look-up tables other kinds of source need)."""
    doc = source.text
    if doc is None:
        return [(sel, sel.start, sel.end, None, (), None) for sel in source.selections]
    size = len(doc)
    finder = LineLabels(doc)
    out: list[Passage] = []
    for sel in source.selections:
        start, end = sel.start, sel.end
        if 0 <= start <= end <= size:
            out.append((sel, start, end, doc[start:end], finder.spanned(start, end) if finder.starts else (), doc))
        else:  # outside its text (validate: QDX112): no text
            out.append((sel, start, end, None, (), None))
    return out


def _passages(source: Source) -> list[Passage]:
    """The passages of any kind of source, in stored order."""
    located = _Located(source)
    labels: dict[int, LineLabels] = {}
    out: list[Passage] = []
    where, own = located.where, located.texts
    for sel in iter_selections(source):
        found = where.get(id(sel))
        if found is None:
            start, end = _range(sel)
            text = doc = None
        else:
            doc, start, end = found
            # doc[start:end] only when the range lies inside it: Python would clip an out-of-range
            # slice silently and show a shifted passage; validate calls such a range out of the
            # text (QDX112), so the segment shows no text for it.
            if doc is None or start is None or end is None or not 0 <= start <= end <= len(doc):
                text = doc = None
            else:
                text = doc[start:end]
        if text is None and own and id(sel) in own:
            text = own[id(sel)]
        span: tuple[str, ...] = ()
        if doc is not None:
            finder = labels.get(id(doc))
            if finder is None:
                finder = labels[id(doc)] = LineLabels(doc)
            if finder.starts:
                span = finder.spanned(start, end)  # type: ignore[arg-type]  # a slice has both ends
        out.append((sel, start, end, text, span, doc))
    return out


def _source_segments(source: Source, index: ProjectIndex, lookups: _Lookups | None = None) -> list[Segment]:
    """The source's segments in document order: by start (None last), then as stored."""
    lookups = lookups or _Lookups(index)
    name = source.name or str(source.guid)
    out: list[Segment] = []
    append, path, paths, user = out.append, lookups.path, lookups.paths, lookups.user
    for sel, start, end, text, span, _ in source_passages(source):
        if not sel.codings:
            continue
        kind, region = _kind(sel)
        for coding in sel.codings:
            code_path = paths.get(str(coding.code)) or path(coding.code)  # the cache first: a call per coding costs
            seg = _Draft(name, source.guid, sel.guid, start, end, text, code_path[-1], coding.code, code_path,
                         user(coding.creating_user), coding.guid, span, kind, region)
            seg.__class__ = Segment  # see _Draft
            append(seg)
    out.extend(
        _segment(lookups, name, source.guid, None, None, None, None, c, (), "source", None) for c in source.codings
    )
    return out


def _segment(
    lookups: _Lookups,
    source: str,
    source_guid: Guid,
    selection: Guid | None,
    start: int | None,
    end: int | None,
    text: str | None,
    coding: Coding,
    labels: tuple[str, ...],
    kind: SegmentKind = "text",
    region: Region | None = None,
) -> Segment:
    path = lookups.path(coding.code)
    return Segment(
        source=source,
        source_guid=source_guid,
        selection=selection,
        start=start,
        end=end,
        text=text,
        code=path[-1],
        code_guid=coding.code,
        code_path=path,
        coder=lookups.user(coding.creating_user),
        coding_guid=coding.guid,
        labels=labels,
        kind=kind,
        region=region,
    )


def segments(project: Project, index: ProjectIndex | None = None) -> list[Segment]:
    """Every coded segment of ``project``, in document order.

    Args:
        project: the project.
        index: a prebuilt :class:`ProjectIndex` to reuse.

    Returns:
        One :class:`Segment` per coding; codings whose code is unknown keep the GUID as name.

    Example:
        >>> [s.text for s in segments(qdx.read("p.qdpx"))]  # doctest: +SKIP
    """
    idx = index or ProjectIndex(project)
    lookups = _Lookups(idx)
    out: list[Segment] = []
    with collector_paused(keep=True):  # the segments outlive the call
        for source in project.sources:
            out.extend(_source_segments(source, idx, lookups))
    return out
