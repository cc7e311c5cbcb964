"""The attributes the schema defines on selections and codings (schemas/project.xsd, REFI §10,
§3.13), for reporting the others as not carried over.

Any other attribute has no place in the model, so a conversion cannot carry it over: readers
report it through :meth:`Context.attributes_outside` (QDX014), and ``convert``/``merge`` list it.
Selections and codings are the 10^5-10^6 elements of a large project, so the bulk loop of
:mod:`qdx.formats.refi.selections` checks an attribute *layout* once (:func:`has_outside`, when
the names change) and looks at single elements only when their layout holds such a name.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from qdx.formats.refi._context import local

if TYPE_CHECKING:
    from qdx.formats.refi._context import Context, Element

_AUDIT = frozenset({"creatingUser", "creationDateTime", "modifyingUser", "modifiedDateTime"})
# SelectionType (guid, name, audit trail) and what each kind of selection adds.
_SELECTION = frozenset({"guid", "name"}) | _AUDIT
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
# CodingType: no modifying user, no name.
CODING_ATTRS = frozenset({"guid", "creatingUser", "creationDateTime"})


def has_outside(keys: Sequence[Any], allowed: frozenset[str]) -> bool:
    """Whether an attribute layout names something outside ``allowed`` (namespaced attributes,
    ``xsi:``/``xml:``, are the XML machinery's, not data: see Context.attributes_outside)."""
    return any(isinstance(name, str) and name not in allowed and not name.startswith("{") for name in keys)


def note_outside(ctx: Context, selection: Element, coding: Element) -> None:
    """Note what a text selection and its one coding hold outside the schema."""
    ctx.attributes_outside(selection, TEXT_SELECTION_ATTRS)
    ctx.attributes_outside(coding, CODING_ATTRS)


def note_selection(ctx: Context, el: Element) -> None:
    """Note what a selection of any kind holds outside its schema type (a kind the schema does
    not have is no business of this check)."""
    allowed = SELECTION_ATTRS.get(local(el.tag))
    if allowed is not None:
        ctx.attributes_outside(el, allowed)
