"""The attributes the schema defines on sources, selections and codings (schemas/project.xsd),
and the attribute layouts the hot loop of :mod:`qdx.formats.refi.sources` reads.

Any other attribute has no place in the model, so a conversion cannot carry it over: readers
report it through :meth:`Context.attributes_outside` (QDX014), and ``convert``/``merge`` list it
as not carried over. Selections and codings are the 10^5-10^6 elements of a large project, so
the hot loop checks an attribute *layout* once (:func:`has_outside`, when the names change) and
looks at single elements only when their layout holds something outside the schema.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qdx.formats.refi._context import Context, Element

_AUDIT_ATTRS = frozenset({"creatingUser", "creationDateTime", "modifyingUser", "modifiedDateTime"})
# Attributes of the source types (FileSourceAttributes, TextDocumentAttributes).
FILE_SOURCE_ATTRS = frozenset({"guid", "name", "path", "currentPath"}) | _AUDIT_ATTRS
TEXT_DOC_ATTRS = frozenset({"guid", "name", "richTextPath", "plainTextPath"}) | _AUDIT_ATTRS

# SelectionType (guid, name, audit trail) and what each kind of selection adds (REFI §10).
_SELECTION = frozenset({"guid", "name"}) | _AUDIT_ATTRS
_RECTANGLE = frozenset({"firstX", "firstY", "secondX", "secondY"})
SELECTION_ATTRS: dict[str, frozenset[str]] = {
    "PlainTextSelection": _SELECTION | {"startPosition", "endPosition"},
    "PictureSelection": _SELECTION | _RECTANGLE,
    "PDFSelection": _SELECTION | _RECTANGLE | {"page"},
    "AudioSelection": _SELECTION | {"begin", "end"},
    "VideoSelection": _SELECTION | {"begin", "end"},
    "TranscriptSelection": _SELECTION | {"fromSyncPoint", "toSyncPoint"},
}
TEXT_SELECTION_ATTRS = SELECTION_ATTRS["PlainTextSelection"]
# CodingType (REFI §3.13): no modifying user, no name.
CODING_ATTRS = frozenset({"guid", "creatingUser", "creationDateTime"})

# The usual shape of a selection: exactly one Coding holding exactly one CodeRef.
_CODING_TAGS = frozenset({"Coding", "{urn:QDA-XML:project:1.0}Coding"})
_CODEREF_TAGS = frozenset({"CodeRef", "{urn:QDA-XML:project:1.0}CodeRef"})

# The attributes the hot loop reads, in the order it unpacks them (REFI §10.2, §3.13).
_SELECTION_ATTRS = (
    *("guid", "startPosition", "endPosition", "creatingUser", "creationDateTime"),
    *("modifyingUser", "modifiedDateTime", "name"),
)
_CODING_ATTRS = ("guid", "creatingUser", "creationDateTime")


def _picker(keys: Sequence[Any], names: tuple[str, ...]) -> Callable[[list[str | None]], tuple[str | None, ...]]:
    """Picks ``names`` from an element's ``values()`` (with a None appended for the absent)."""
    return itemgetter(*(keys.index(name) if name in keys else -1 for name in names))


def has_outside(keys: Sequence[Any], allowed: frozenset[str]) -> bool:
    """Whether an attribute layout names something outside ``allowed`` (namespaced attributes,
    ``xsi:``/``xml:``, are the XML machinery's, not data: see Context.attributes_outside)."""
    return any(isinstance(name, str) and name not in allowed and not name.startswith("{") for name in keys)


def note_outside(ctx: Context, selection: Element, coding: Element) -> None:
    """Note what a text selection and its one coding hold outside the schema."""
    ctx.attributes_outside(selection, TEXT_SELECTION_ATTRS)
    ctx.attributes_outside(coding, CODING_ATTRS)
