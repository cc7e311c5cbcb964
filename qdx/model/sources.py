"""Records for codings, selections and sources: text, picture, PDF, audio and video (REFI §3.13,
§10); positions follow the conventions in :mod:`qdx.model`."""

from __future__ import annotations

from dataclasses import dataclass

from qdx.model.codes import VariableValue
from qdx.model.values import Blob, Guid, _loc


@dataclass(slots=True, kw_only=True)
class Coding:
    """One code applied to a selection or a whole source (exactly one CodeRef, REFI §3.13)."""

    guid: Guid
    code: Guid
    creating_user: Guid | None = None
    creation_datetime: str | None = None
    note_refs: tuple[Guid, ...] = ()
    loc: str | None = _loc()


@dataclass(slots=True, kw_only=True)
class _Audited:
    creating_user: Guid | None = None
    creation_datetime: str | None = None
    modifying_user: Guid | None = None
    modified_datetime: str | None = None


@dataclass(slots=True, kw_only=True)
class _Selection(_Audited):
    guid: Guid
    name: str | None = None
    description: str | None = None
    codings: tuple[Coding, ...] = ()
    note_refs: tuple[Guid, ...] = ()
    loc: str | None = _loc()


@dataclass(slots=True, kw_only=True)
class TextSelection(_Selection):
    """``PlainTextSelection``: ``[start, end)`` in code points over the owning text."""

    start: int
    end: int


@dataclass(slots=True, kw_only=True)
class PictureSelection(_Selection):
    """Upper-left and lower-right pixel corners in the rotated image (REFI §10.4)."""

    first_x: int
    first_y: int
    second_x: int
    second_y: int


@dataclass(slots=True, kw_only=True)
class PDFSelection(_Selection):
    """A region on a page, PDF points from the bottom-left of the media box (REFI §10.3)."""

    page: int
    first_x: int
    first_y: int
    second_x: int
    second_y: int
    representation: TextSource | None = None


@dataclass(slots=True, kw_only=True)
class AudioSelection(_Selection):
    """``begin``/``end`` in milliseconds (REFI §10.4)."""

    begin: int
    end: int


@dataclass(slots=True, kw_only=True)
class VideoSelection(_Selection):
    """``begin``/``end`` in milliseconds (REFI §10.4)."""

    begin: int
    end: int


@dataclass(slots=True, kw_only=True)
class TranscriptSelection(_Selection):
    from_sync_point: Guid | None = None
    to_sync_point: Guid | None = None


@dataclass(slots=True, kw_only=True)
class SyncPoint:
    """``timeStamp`` in ms; ``position`` in code points of the transcript text (REFI §3.15)."""

    guid: Guid
    time_stamp: int | None = None
    position: int | None = None
    loc: str | None = _loc()


# --------------------------------------------------------------------------- sources


@dataclass(slots=True, kw_only=True)
class TextDoc(_Audited):
    """What every text-bearing element shares (TextSourceType attributes, Transcript).

    ``text`` is the plain text with any BOM removed and line ends as stored; ``None`` when
    the text is absent or unreadable (the reader then reports an Issue).
    ``text_inline`` says it came from / goes to ``PlainTextContent`` rather than a file.
    ``plain_text_path`` is kept only when the reader could not resolve it to ``text``;
    ``rich_text`` holds the embedded ``.docx`` and ``rich_text_path`` an unresolved path.
    """

    guid: Guid
    name: str | None = None
    description: str | None = None
    text: str | None = None
    text_inline: bool = False
    plain_text_path: str | None = None
    rich_text: Blob | None = None
    rich_text_path: str | None = None
    note_refs: tuple[Guid, ...] = ()
    loc: str | None = _loc()


@dataclass(slots=True, kw_only=True)
class TextSource(TextDoc):
    """``TextSource``; the same type serves ``Note``, PDF ``Representation`` and
    PictureSource ``TextDescription`` (all TextSourceType in the XSD)."""

    selections: tuple[TextSelection, ...] = ()
    codings: tuple[Coding, ...] = ()
    variable_values: tuple[VariableValue, ...] = ()


Note = TextSource


@dataclass(slots=True, kw_only=True)
class Transcript(TextDoc):
    sync_points: tuple[SyncPoint, ...] = ()
    selections: tuple[TranscriptSelection, ...] = ()


@dataclass(slots=True, kw_only=True)
class _FileSource(_Audited):
    """Sources whose content is a file (``path``) rather than text."""

    guid: Guid
    name: str | None = None
    description: str | None = None
    blob: Blob | None = None
    path: str | None = None
    current_path: str | None = None
    codings: tuple[Coding, ...] = ()
    note_refs: tuple[Guid, ...] = ()
    variable_values: tuple[VariableValue, ...] = ()
    loc: str | None = _loc()


@dataclass(slots=True, kw_only=True)
class PictureSource(_FileSource):
    text_description: TextSource | None = None
    selections: tuple[PictureSelection, ...] = ()


@dataclass(slots=True, kw_only=True)
class PDFSource(_FileSource):
    selections: tuple[PDFSelection, ...] = ()
    representation: TextSource | None = None


@dataclass(slots=True, kw_only=True)
class AudioSource(_FileSource):
    transcripts: tuple[Transcript, ...] = ()
    selections: tuple[AudioSelection, ...] = ()


@dataclass(slots=True, kw_only=True)
class VideoSource(_FileSource):
    transcripts: tuple[Transcript, ...] = ()
    selections: tuple[VideoSelection, ...] = ()


Source = TextSource | PictureSource | PDFSource | AudioSource | VideoSource
Selection = (
    TextSelection
    | PictureSelection
    | PDFSelection
    | AudioSelection
    | VideoSelection
    | TranscriptSelection
)

