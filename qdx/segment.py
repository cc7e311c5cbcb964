"""Coded segments: the project flattened to one record per (selection, coding).

This is the table most analyses start from (matrices, agreement, diff, reports). Text
segments carry their exact text, sliced from the model's text by code point (the model's
unit, REFI §10.2); other selection kinds carry ``start``/``end`` of their own unit
(``begin``/``end`` ms for media) or ``None``.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass

from qdx.model import (
    AudioSelection,
    Coding,
    Guid,
    Project,
    ProjectIndex,
    Selection,
    Source,
    TextSelection,
    TextSource,
    VideoSelection,
    iter_selections,
    text_docs,
)

# The bundled study labels each transcript line "A-<interviewee>-<sentence>" (the paper's scheme).
LABEL_RE = re.compile(r"^\s*([A-Z]-\d+-\d+)\b", re.MULTILINE)


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
        }


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


def _source_segments(source: Source, index: ProjectIndex, lookups: _Lookups | None = None) -> Iterator[Segment]:
    lookups = lookups or _Lookups(index)
    name = source.name or str(source.guid)
    owner: dict[int, TextSource] = {}
    for doc in text_docs(source):
        for tsel in doc.selections:
            owner[id(tsel)] = doc
    labels: dict[int, LineLabels] = {}
    for sel in iter_selections(source):
        start, end = _range(sel)
        text = None
        span: tuple[str, ...] = ()
        found = owner.get(id(sel))
        if found is not None and found.text is not None and start is not None and end is not None:
            text = found.text[start:end]
            finder = labels.get(id(found))
            if finder is None:
                finder = labels[id(found)] = LineLabels(found.text)
            span = finder.spanned(start, end)
        for coding in sel.codings:
            yield _segment(lookups, name, source.guid, sel.guid, start, end, text, coding, span)
    for coding in source.codings:
        yield _segment(lookups, name, source.guid, None, None, None, None, coding, ())


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
    for source in project.sources:
        out.extend(_source_segments(source, idx, lookups))
    return out
