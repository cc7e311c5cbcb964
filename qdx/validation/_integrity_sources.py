"""The integrity walk over a project's sources (text, picture, PDF, audio, video, transcripts).

Part of :func:`qdx.validation.integrity.check_integrity`: records every definition and
reference of a source into the :class:`~qdx.validation._integrity_walk._Walk`, and checks what
only a source can break: positions outside the text (QDX111, QDX112), sync points (QDX107) and
internal files (QDX113).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

from qdx.errors import Severity
from qdx.model import (
    AudioSelection,
    AudioSource,
    Guid,
    PDFSource,
    PictureSource,
    Source,
    SyncPoint,
    TextSelection,
    TextSource,
    Transcript,
    TranscriptSelection,
    VideoSelection,
    VideoSource,
)
from qdx.validation._integrity_walk import (
    _CODE_REF,
    _CREATING_USER,
    _MODIFYING_USER,
    _audit,
    _coding_notes_and_codable,
    _note_refs,
    _Walk,
    _walk_codings,
    _walk_selection_common,
    _walk_values,
    _where,
)

_TAGS = {
    TextSource: "TextSource",
    PictureSource: "PictureSource",
    PDFSource: "PDFSource",
    AudioSource: "AudioSource",
    VideoSource: "VideoSource",
}
_EXTERNAL = ("relative://", "absolute://")


def _walk_sources(walk: _Walk, sources: tuple[Source, ...], base: str) -> None:
    counts: dict[str, int] = defaultdict(int)
    for source in sources:
        tag = _TAGS[type(source)]
        counts[tag] += 1
        path = f"{base}/{tag}[{counts[tag]}]"
        if isinstance(source, TextSource):
            _walk_text(walk, source, "source", path)
        else:
            _walk_file_source(walk, source, path)


def _walk_text(walk: _Walk, doc: TextSource, kind: str, path: str) -> None:
    """TextSource, Note, PDF Representation, picture TextDescription (TextSourceType)."""
    where = _where(doc, path)
    walk.define(doc.guid, kind, where)
    _audit(walk, doc, where)
    _check_files(walk, doc, where)
    if doc.selections:
        _walk_text_selections(walk, doc.selections, None if doc.text is None else len(doc.text), path)
    _walk_codings(walk, doc.codings, path)
    _note_refs(walk, doc.note_refs, where)
    _walk_values(walk, doc.variable_values, where)


def _walk_text_selections(walk: _Walk, selections: Sequence[TextSelection], length: int | None, base: str) -> None:
    """The hot path: _walk_selection_common, _walk_codings and _check_span inlined for text selections.

    A call of _walk_codings per selection, with the selection's path built for it, cost a quarter
    of the walk; here appends are bound once and paths are only built for records without ``loc``.
    """
    define_guid, define_kind, define_where, refer_target, refer_rule, refer_where = walk.appends
    non_codable = walk.non_codable
    for i, selection in enumerate(selections, 1):
        where = selection.loc or f"{base}/PlainTextSelection[{i}]"
        define_guid(selection.guid)
        define_kind("selection")
        define_where(where)
        if selection.creating_user is not None:
            refer_target(selection.creating_user)
            refer_rule(_CREATING_USER)
            refer_where(where)
        if selection.modifying_user is not None:
            refer_target(selection.modifying_user)
            refer_rule(_MODIFYING_USER)
            refer_where(where)
        for j, coding in enumerate(selection.codings, 1):
            at = coding.loc or f"{base}/PlainTextSelection[{i}]/Coding[{j}]"
            define_guid(coding.guid)
            define_kind("coding")
            define_where(at)
            refer_target(coding.code)
            refer_rule(_CODE_REF)
            refer_where(at)
            if coding.creating_user is not None:
                refer_target(coding.creating_user)
                refer_rule(_CREATING_USER)
                refer_where(at)
            if coding.note_refs or non_codable:
                _coding_notes_and_codable(walk, coding, at)
        if selection.note_refs:
            _note_refs(walk, selection.note_refs, where)
        start, end = selection.start, selection.end
        if start > end or start < 0 or (length is not None and end > length):
            _check_span(walk, start, end, length, where)


def _walk_file_source(walk: _Walk, source: Source, path: str) -> None:
    assert not isinstance(source, TextSource)
    where = _where(source, path)
    walk.define(source.guid, "source", where)
    _audit(walk, source, where)
    if source.blob is None and _internal(source.path):
        _missing(walk, f"file {source.path}", where)
    _SOURCE_PARTS[type(source)](walk, source, path)
    _walk_codings(walk, source.codings, path)
    _note_refs(walk, source.note_refs, where)
    _walk_values(walk, source.variable_values, where)


def _picture_parts(walk: _Walk, source: Source, path: str) -> None:
    assert isinstance(source, PictureSource)
    if source.text_description is not None:
        _walk_text(walk, source.text_description, "text", f"{path}/TextDescription")
    for i, selection in enumerate(source.selections):
        _walk_selection_common(walk, selection, f"{path}/PictureSelection[{i + 1}]")


def _pdf_parts(walk: _Walk, source: Source, path: str) -> None:
    assert isinstance(source, PDFSource)
    for i, selection in enumerate(source.selections):
        sel_path = f"{path}/PDFSelection[{i + 1}]"
        _walk_selection_common(walk, selection, sel_path)
        if selection.representation is not None:
            _walk_text(walk, selection.representation, "text", f"{sel_path}/Representation")
    if source.representation is not None:
        _walk_text(walk, source.representation, "text", f"{path}/Representation")


def _media_parts(walk: _Walk, source: Source, path: str) -> None:
    assert isinstance(source, AudioSource | VideoSource)
    for i, transcript in enumerate(source.transcripts):
        _walk_transcript(walk, transcript, f"{path}/Transcript[{i + 1}]")
    tag = "AudioSelection" if isinstance(source, AudioSource) else "VideoSelection"
    selections: tuple[AudioSelection | VideoSelection, ...] = source.selections
    for i, selection in enumerate(selections):
        at = _walk_selection_common(walk, selection, f"{path}/{tag}[{i + 1}]")
        _check_span(walk, selection.begin, selection.end, None, at)


_SOURCE_PARTS = {
    PictureSource: _picture_parts,
    PDFSource: _pdf_parts,
    AudioSource: _media_parts,
    VideoSource: _media_parts,
}


def _walk_transcript(walk: _Walk, transcript: Transcript, path: str) -> None:
    where = _where(transcript, path)
    walk.define(transcript.guid, "text", where)
    _audit(walk, transcript, where)
    _check_files(walk, transcript, where)
    length = None if transcript.text is None else len(transcript.text)
    points: dict[Guid, SyncPoint] = {}
    for i, point in enumerate(transcript.sync_points):
        at = _where(point, f"{path}/SyncPoint[{i + 1}]")
        walk.define(point.guid, "syncpoint", at)
        points[point.guid] = point
        if point.position is not None:
            _check_span(walk, point.position, point.position, length, at)
    for i, selection in enumerate(transcript.selections):
        at = _walk_selection_common(walk, selection, f"{path}/TranscriptSelection[{i + 1}]")
        _check_sync(walk, selection, points, at)
    _note_refs(walk, transcript.note_refs, where)


def _check_sync(walk: _Walk, selection: TranscriptSelection, points: Mapping[Guid, SyncPoint], where: str) -> None:
    ends = {"fromSyncPoint": selection.from_sync_point, "toSyncPoint": selection.to_sync_point}
    for attribute, target in ends.items():
        if target is not None and target not in points:
            message = f"{attribute} {target} is not a SyncPoint of this transcript"
            walk.problem("QDX107", Severity.ERROR, message, where)
    first = points.get(selection.from_sync_point) if selection.from_sync_point else None
    last = points.get(selection.to_sync_point) if selection.to_sync_point else None
    start, end = getattr(first, "position", None), getattr(last, "position", None)
    if isinstance(start, int) and isinstance(end, int) and start > end:
        message = f"fromSyncPoint is at position {start}, after toSyncPoint at {end}"
        walk.problem("QDX111", Severity.ERROR, message, where)


def _check_span(walk: _Walk, start: int, end: int, length: int | None, where: str) -> None:
    if start > end:
        walk.problem("QDX111", Severity.ERROR, f"selection starts at {start}, after its end {end}", where)
    elif start < 0 or (length is not None and end > length):
        message = f"position {start}..{end} lies outside the text (0..{length if length is not None else '?'})"
        walk.problem("QDX112", Severity.ERROR, message, where)


def _internal(path: str | None) -> bool:
    """A path that should name a ``sources/`` member: internal://, or no scheme (quirk 22)."""
    return path is not None and not path.lower().startswith(_EXTERNAL)


def _check_files(walk: _Walk, doc: TextSource | Transcript, where: str) -> None:
    if doc.text is None and _internal(doc.plain_text_path):
        _missing(walk, f"plain text {doc.plain_text_path}", where)
    if doc.rich_text is None and _internal(doc.rich_text_path):
        _missing(walk, f"rich text {doc.rich_text_path}", where)


def _missing(walk: _Walk, what: str, where: str) -> None:
    if walk.bare_qde:
        message = f"{what} is not available: a bare .qde carries no sources/ folder"
        walk.problem("QDX113", Severity.WARNING, message, where)
    else:
        walk.problem("QDX113", Severity.ERROR, f"{what} is missing from the sources/ folder", where)
