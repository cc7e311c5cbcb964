"""REFI-QDA 1.0 sources and their selections other than plain text -> model
(Project-mrt2019.xsd §TextSourceType ff.).

Text positions are kept exactly as written (producer units); :mod:`qdx.formats.refi.units`
converts them once the unit is known. Plain-text selections and codings, the hot path, are
read in :mod:`qdx.formats.refi.selections`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from qdx.formats.refi._context import Context, Element, _audit, _desc, _many, _one, _refs, kids, local
from qdx.formats.refi.selections import _selection_common, read_coding, read_text_selections, read_variable_value
from qdx.model import (
    AudioSelection,
    AudioSource,
    PDFSelection,
    PDFSource,
    PictureSelection,
    PictureSource,
    Source,
    SyncPoint,
    TextSource,
    Transcript,
    TranscriptSelection,
    VideoSelection,
    VideoSource,
)

# --------------------------------------------------------------------------- selections other than plain text


def _corners(el: Element, ctx: Context) -> dict[str, Any]:
    return {
        "first_x": ctx.req_int(el, "firstX"),
        "first_y": ctx.req_int(el, "firstY"),
        "second_x": ctx.req_int(el, "secondX"),
        "second_y": ctx.req_int(el, "secondY"),
    }


def read_picture_selection(el: Element, ctx: Context) -> PictureSelection:
    """``PictureSelection``: pixel corners (REFI §10.4)."""
    _, common = _selection_common(el, ctx)
    return PictureSelection(**_corners(el, ctx), **common)


def read_pdf_selection(el: Element, ctx: Context) -> PDFSelection:
    """``PDFSelection``: page and corners, optional text ``Representation`` (REFI §10.3)."""
    k, common = _selection_common(el, ctx)
    rep = _one(k, "Representation")
    return PDFSelection(
        page=ctx.req_int(el, "page"),
        representation=read_text_source(rep, ctx) if rep is not None else None,
        **_corners(el, ctx),
        **common,
    )


def read_audio_selection(el: Element, ctx: Context) -> AudioSelection:
    """``AudioSelection``: begin/end in ms (REFI §10.4)."""
    _, common = _selection_common(el, ctx)
    return AudioSelection(begin=ctx.req_int(el, "begin"), end=ctx.req_int(el, "end"), **common)


def read_video_selection(el: Element, ctx: Context) -> VideoSelection:
    """``VideoSelection``: begin/end in ms (REFI §10.4)."""
    _, common = _selection_common(el, ctx)
    return VideoSelection(begin=ctx.req_int(el, "begin"), end=ctx.req_int(el, "end"), **common)


def read_transcript_selection(el: Element, ctx: Context) -> TranscriptSelection:
    """``TranscriptSelection`` between two sync points (REFI §3.15)."""
    _, common = _selection_common(el, ctx)
    return TranscriptSelection(
        from_sync_point=ctx.opt_guid(el, "fromSyncPoint"), to_sync_point=ctx.opt_guid(el, "toSyncPoint"), **common
    )


def read_sync_point(el: Element, ctx: Context) -> SyncPoint:
    """``SyncPoint``: time stamp (ms) and text position."""
    return SyncPoint(
        guid=ctx.own_guid(el),
        time_stamp=ctx.integer(el, "timeStamp", required=False),
        position=ctx.integer(el, "position", required=False),
        loc=ctx.loc(el),
    )


# --------------------------------------------------------------------------- sources


def _text_doc(el: Element, k: dict[str, list[Element]], ctx: Context) -> dict[str, Any]:
    """Attributes and text shared by TextSourceType and Transcript (REFI §5.3, §8.3)."""
    plain_path = el.get("plainTextPath")
    rich_path = el.get("richTextPath")
    inline = _one(k, "PlainTextContent")
    text: str | None = None
    if inline is not None:
        # Inline text wins; a plainTextPath beside it (forbidden by the XSD comment but
        # schema-valid) is kept verbatim so nothing is lost.
        text = inline.text or ""
    elif plain_path is not None:
        text = ctx.text_file(plain_path, el)
        if text is not None:
            plain_path = None
    rich = ctx.blob(rich_path, el) if rich_path is not None else None
    return {
        "guid": ctx.own_guid(el),
        "name": el.get("name"),
        "description": _desc(k),
        "text": text,
        "text_inline": inline is not None,
        "plain_text_path": plain_path,
        "rich_text": rich,
        "rich_text_path": None if rich is not None else rich_path,
        "note_refs": _refs(k, "NoteRef", ctx),
        "loc": ctx.loc(el),
        **_audit(el, ctx),
    }


def read_text_source(el: Element, ctx: Context) -> TextSource:
    """TextSourceType: TextSource, Note, PDF Representation, Picture TextDescription."""
    k = kids(el)
    ctx.attributes_outside(el, TEXT_DOC_ATTRS)
    return TextSource(
        selections=tuple(read_text_selections(k.get("PlainTextSelection", ()), ctx)),
        codings=_many(k, "Coding", ctx, read_coding),
        variable_values=_many(k, "VariableValue", ctx, read_variable_value),
        **_text_doc(el, k, ctx),
    )


def read_transcript(el: Element, ctx: Context) -> Transcript:
    """``Transcript`` of an audio or video source."""
    k = kids(el)
    return Transcript(
        sync_points=_many(k, "SyncPoint", ctx, read_sync_point),
        selections=_many(k, "TranscriptSelection", ctx, read_transcript_selection),
        **_text_doc(el, k, ctx),
    )


_AUDIT_ATTRS = frozenset({"creatingUser", "creationDateTime", "modifyingUser", "modifiedDateTime"})
# Attributes of the source types (schemas/project.xsd FileSourceAttributes, TextDocumentAttributes);
# others are reported as not carried over (Context.attributes_outside).
FILE_SOURCE_ATTRS = frozenset({"guid", "name", "path", "currentPath"}) | _AUDIT_ATTRS
TEXT_DOC_ATTRS = frozenset({"guid", "name", "richTextPath", "plainTextPath"}) | _AUDIT_ATTRS


def _file_source(el: Element, k: dict[str, list[Element]], ctx: Context) -> dict[str, Any]:
    ctx.attributes_outside(el, FILE_SOURCE_ATTRS)
    path = el.get("path")
    blob = ctx.blob(path, el) if path is not None else None
    _path_quirks(path, ctx)
    return {
        "guid": ctx.own_guid(el),
        "name": el.get("name"),
        "description": _desc(k),
        "blob": blob,
        "path": None if blob is not None else path,
        "current_path": el.get("currentPath"),
        "codings": _many(k, "Coding", ctx, read_coding),
        "note_refs": _refs(k, "NoteRef", ctx),
        "variable_values": _many(k, "VariableValue", ctx, read_variable_value),
        "loc": ctx.loc(el),
        **_audit(el, ctx),
    }


def _path_quirks(path: str | None, ctx: Context) -> None:
    if path is None:
        return
    low = path.lower()
    if low.startswith("absolute://") and not low.startswith("absolute:///"):
        ctx.quirk("quirk19:absolute-two-slashes")
    elif low.startswith("relative://"):
        ctx.quirk("quirk10:relative-media")


def read_picture_source(el: Element, ctx: Context) -> PictureSource:
    """``PictureSource``; the image becomes a Blob when it is in the archive."""
    k = kids(el)
    desc = _one(k, "TextDescription")
    return PictureSource(
        text_description=read_text_source(desc, ctx) if desc is not None else None,
        selections=_many(k, "PictureSelection", ctx, read_picture_selection),
        **_file_source(el, k, ctx),
    )


def read_pdf_source(el: Element, ctx: Context) -> PDFSource:
    """``PDFSource``; text selections live in its ``Representation``."""
    k = kids(el)
    rep = _one(k, "Representation")
    return PDFSource(
        selections=_many(k, "PDFSelection", ctx, read_pdf_selection),
        representation=read_text_source(rep, ctx) if rep is not None else None,
        **_file_source(el, k, ctx),
    )


def read_audio_source(el: Element, ctx: Context) -> AudioSource:
    """``AudioSource`` with transcripts and selections."""
    k = kids(el)
    return AudioSource(
        transcripts=_many(k, "Transcript", ctx, read_transcript),
        selections=_many(k, "AudioSelection", ctx, read_audio_selection),
        **_file_source(el, k, ctx),
    )


def read_video_source(el: Element, ctx: Context) -> VideoSource:
    """``VideoSource`` with transcripts and selections."""
    k = kids(el)
    return VideoSource(
        transcripts=_many(k, "Transcript", ctx, read_transcript),
        selections=_many(k, "VideoSelection", ctx, read_video_selection),
        **_file_source(el, k, ctx),
    )


SOURCE_READERS: dict[str, Callable[[Element, Context], Source]] = {
    "TextSource": read_text_source,
    "PictureSource": read_picture_source,
    "PDFSource": read_pdf_source,
    "AudioSource": read_audio_source,
    "VideoSource": read_video_source,
}


def read_sources(el: Element | None, ctx: Context) -> tuple[Source, ...]:
    """``Sources``: a repeating choice of the five source kinds."""
    if el is None:
        return ()
    out: list[Source] = []
    for child in el:
        if not isinstance(child.tag, str):
            continue
        handler = SOURCE_READERS.get(local(child.tag))
        if handler is None:
            ctx.issue("QDX007", f"unknown source element <{local(child.tag)}> ignored", child)
            continue
        out.append(handler(child, ctx))
    return tuple(out)


