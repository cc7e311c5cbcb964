"""How model values become REFI-QDA XML text: characters XML 1.0 cannot hold (replaced by
U+FFFD with a :class:`~qdx.errors.LossyConversionWarning`), attribute values, the attribute
lists shared by several elements, position maps for LF text, embedded file names
(:class:`Files`) and the prolog.
"""

from __future__ import annotations

import re
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from qdx.errors import LossyConversionWarning
from qdx.formats.refi._emit import escape_attr
from qdx.model import Guid, PDFSelection, PictureSelection, TextSelection
from qdx.text import CODEPOINT_LF, PositionMap

_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def clean(value: str) -> str:
    """``value`` with characters illegal in XML 1.0 replaced by U+FFFD (one for one, so
    text positions stay valid), warning when anything was replaced."""
    if _ILLEGAL.search(value) is None:
        return value
    warnings.warn(
        f"replaced {len(_ILLEGAL.findall(value))} character(s) that XML 1.0 cannot hold by U+FFFD",
        LossyConversionWarning,
        stacklevel=4,
    )
    return _ILLEGAL.sub("\ufffd", value)


_SAFE_STEM = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
_SAFE_EXT = re.compile(r"[A-Za-z0-9]{1,16}")


@dataclass(slots=True)
class Files:
    """Members for the ``sources/`` folder, named ``<GUID>.<ext>`` (REFI §8.3)."""

    folder: str = "sources"
    entries: list[tuple[str, bytes]] = field(default_factory=list)
    _names: set[str] = field(default_factory=set)

    def add(self, guid: Guid, ext: str, data: bytes) -> str:
        """Store ``data`` and return its ``internal://`` path.

        Names are always a plain GUID and a short alphanumeric extension: a GUID attribute
        read from a hostile file (``../../x``) must never become a zip-slip entry here.
        """
        stem = guid.strip("{}")
        if not _SAFE_STEM.fullmatch(stem):
            stem = str(uuid.uuid5(uuid.NAMESPACE_OID, f"qdx-file:{guid}"))
        if not _SAFE_EXT.fullmatch(ext):
            ext = "bin" if ext else ""
        name = f"{stem}.{ext}" if ext else stem
        n = 0
        while name.lower() in self._names:  # duplicate GUIDs (quirk 13) must not clash
            n += 1
            stem = str(uuid.uuid5(uuid.NAMESPACE_OID, f"{guid}/{n}"))
            name = f"{stem}.{ext}" if ext else stem
        self._names.add(name.lower())
        self.entries.append((f"{self.folder}/{name}", data))
        return f"internal://{name}"

_ILLEGAL_SURROGATES = re.compile("[\ud800-\udfff]")


def _lf_text(text: str) -> tuple[str, Callable[[int], int]]:
    """``text`` with CRLF and lone CR as LF, and the model -> written position map.

    A CRLF pair becomes one LF (later positions move back by one per pair; a position between
    CR and LF lands on the LF); a lone CR becomes LF in place. This is what a text-mode reader
    (QualCoder, Python's universal newlines) makes of the file, so its offsets are ours.
    """
    pmap = PositionMap(text, CODEPOINT_LF)
    return text.replace("\r\n", "\n").replace("\r", "\n"), pmap.from_model


def _same(pos: int) -> int:
    return pos


# Anything an attribute value cannot hold as written: characters XML 1.0 forbids (cleaned)
# and markup or whitespace (escaped). One scan; nearly every GUID, date and name has none.
_ATTR_SPECIAL = re.compile('[\x00-\x1f&<>"\ud800-\udfff\ufffe\uffff]')


def _attr(value: object) -> str:
    """An attribute value as it goes between the quotes: cleaned and escaped."""
    if type(value) is int:  # positions, coordinates: nothing to clean
        return str(value)
    if value is True or value is False:
        return "true" if value else "false"
    text = value if isinstance(value, str) else str(value)
    if _ATTR_SPECIAL.search(text) is None:
        return text
    return escape_attr(clean(str(text)))


def _audit(rec: Any) -> list[tuple[str, object]]:
    return [
        ("creatingUser", rec.creating_user),
        ("creationDateTime", rec.creation_datetime),
        ("modifyingUser", rec.modifying_user),
        ("modifiedDateTime", rec.modified_datetime),
    ]


def _corners(sel: PictureSelection | PDFSelection) -> list[tuple[str, object]]:
    return [("firstX", sel.first_x), ("firstY", sel.first_y), ("secondX", sel.second_x), ("secondY", sel.second_y)]


def _positions(sel: TextSelection, pos: Callable[[int], int]) -> list[tuple[str, object]]:
    return [("startPosition", pos(sel.start)), ("endPosition", pos(sel.end))]


def _lossy(message: str) -> None:
    warnings.warn(message, LossyConversionWarning, stacklevel=4)


def prolog(note: str | None) -> str:
    """The XML declaration and, for projects, the qdx marker comment."""
    head = "<?xml version='1.0' encoding='utf-8'?>"
    return head if note is None else f"{head}\n<!--{note}-->"
