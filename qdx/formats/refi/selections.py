"""REFI-QDA 1.0 variable values, codings and plain-text selections -> model (REFI §3.13, §10.2).

Text positions are kept exactly as written (producer units); :mod:`qdx.formats.refi.units`
converts them once the unit is known. ``PlainTextSelection`` and ``Coding`` are the hot path
(one per coded segment), so they walk their children directly. The other selections, which
hold sources of their own (a PDF selection's ``Representation``), are read in
:mod:`qdx.formats.refi.sources`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

from qdx.errors import Severity
from qdx.formats.refi import attrs
from qdx.formats.refi._context import (
    _LOCAL,
    MAX_INTEGER,
    Context,
    Element,
    _audit,
    _desc,
    _many,
    _one,
    _refs,
    _text,
    in_range,
    kids,
    local,
)
from qdx.model import Coding, Guid, TextSelection, ValueKind, VariableValue

_VALUE_KINDS = {kind.value: kind for kind in ValueKind}


def read_variable_value(el: Element, ctx: Context) -> VariableValue:
    """``VariableValue``: the variable reference and the lexical value as written."""
    k = kids(el)
    ref = _one(k, "VariableRef")
    kind = next((_VALUE_KINDS[name] for name in k if name in _VALUE_KINDS), None)
    value = _text(_one(k, kind.value)) if kind is not None else None
    if ref is None:
        ctx.issue("QDX006", "<VariableValue> lacks <VariableRef>", el, Severity.ERROR)
    return VariableValue(
        variable=ctx.guid(ref, "targetGUID") if ref is not None else Guid(""),
        kind=kind,
        value=value,
        loc=ctx.loc(el),
    )


# --------------------------------------------------------------------------- codings, selections


def read_coding(el: Element, ctx: Context, line_loc: tuple[object, str] | None = None) -> Coding:
    """``Coding``: exactly one ``CodeRef`` (REFI §3.13).

    ``line_loc`` is the enclosing selection's (line, location), reused when the coding sits
    on the same line so the two records share one location string.
    """
    # Hot path (one per coding): walk the children directly instead of grouping them.
    ctx.attributes_outside(el, attrs.CODING_ATTRS)
    line = el.sourceline
    loc = line_loc[1] if line_loc is not None and line_loc[0] == line else f"{ctx.label}:{line}"
    ref: Element | None = None
    notes: list[Guid] = []
    for child in el:
        tag = child.tag
        if not isinstance(tag, str):
            continue
        name = _LOCAL.get(tag) or local(tag)
        if name == "CodeRef" and ref is None:
            ref = child
        elif name == "NoteRef":
            notes.append(ctx.req_ref(child, "targetGUID"))
        else:
            ctx.issue("QDX007", f"unexpected <{name}> in <Coding> ignored", child)
    if ref is None:
        ctx.issue("QDX006", "<Coding> lacks <CodeRef>", el, Severity.ERROR)
    get = el.get
    return Coding(
        guid=ctx.own_guid(el, loc),
        code=ctx.req_ref(ref, "targetGUID") if ref is not None else Guid(""),
        creating_user=ctx.ref(get("creatingUser")),
        creation_datetime=ctx.text(get("creationDateTime")),
        note_refs=tuple(notes) if notes else (),
        loc=loc,
    )


def _selection_common(el: Element, ctx: Context) -> tuple[dict[str, list[Element]], dict[str, Any]]:
    k = kids(el)
    loc = ctx.loc(el)
    attrs.note_selection(ctx, el)
    common = {
        "guid": ctx.own_guid(el, loc),
        "name": el.get("name"),
        "description": _desc(k),
        "codings": _many(k, "Coding", ctx, read_coding),
        "note_refs": _refs(k, "NoteRef", ctx),
        "loc": loc,
        **_audit(el, ctx),
    }
    return k, common


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


def read_text_selections(els: Sequence[Element], ctx: Context) -> list[TextSelection]:
    """``PlainTextSelection`` elements -> records, in order (REFI §10.2, positions as written).

    The hot path of every read (10^5-10^6 selections): the usual shape -- one ``Coding``
    holding one ``CodeRef``, plain GUIDs, integer positions -- is read in this one loop with
    everything bound locally, which is what keeps ``qdx.read`` near libxml2's own parse
    (benchmarks/RESULTS.md). Attributes come from one ``keys()`` and one ``values()`` call per element,
    picked by a layout that is recomputed only when the attribute names change: a producer
    writes them the same way every time, and that is 2-3x cheaper than one ``get`` per name.
    Anything else (notes, descriptions, several codings, comments, other namespaces, braced
    GUIDs, bad values) goes to :func:`_text_selection`, which reports what it finds; the
    checks before that hand-over have no side effect, so nothing is reported twice.
    """
    label, refs, strings, owned, owned_at = ctx.label, ctx.refs, ctx.strings, ctx.owned, ctx.owned_at
    out: list[TextSelection] = []
    append = out.append
    new_coding, new_selection = Coding.__new__, TextSelection.__new__
    # keys() is a list, never equal to (), so the first element of each kind sets the layout.
    sel_keys: Sequence[Any] = ()
    coding_keys: Sequence[Any] = ()
    pick_selection: Callable[[list[str | None]], tuple[str | None, ...]] = itemgetter(-1)
    pick_coding = pick_selection
    sel_outside = coding_outside = False  # the layout names an attribute outside the schema
    for el in els:
        coding = el[0] if len(el) == 1 else None
        if coding is None or len(coding) != 1 or coding.tag not in _CODING_TAGS:
            append(_text_selection(el, ctx))
            continue
        keys = el.keys()
        if keys != sel_keys:
            sel_keys, pick_selection = keys, _picker(keys, _SELECTION_ATTRS)
            sel_outside = attrs.has_outside(keys, attrs.TEXT_SELECTION_ATTRS)
        values: list[str | None] = el.values()  # type: ignore[assignment]
        values.append(None)
        guid, start, end, user, created, modifier, modified, name = pick_selection(values)
        keys = coding.keys()
        if keys != coding_keys:
            coding_keys, pick_coding = keys, _picker(keys, _CODING_ATTRS)
            coding_outside = attrs.has_outside(keys, attrs.CODING_ATTRS)
        values = coding.values()  # type: ignore[assignment]
        values.append(None)
        coding_guid, coding_user, coding_created = pick_coding(values)
        ref = coding[0]
        try:
            begin, stop = int(start), int(end)  # type: ignore[arg-type]
            if begin > MAX_INTEGER or not in_range(stop):
                begin = -1  # out of range: the full path reports it
        except (TypeError, ValueError):
            begin = -1
        # Plain GUIDs (nothing to strip, see Context.own_guid), checked inline: 2 x 10^5 calls.
        if (
            begin < 0
            or not (guid and guid[0].isalnum() and guid[-1].isalnum())
            or not (coding_guid and coding_guid[0].isalnum() and coding_guid[-1].isalnum())
            or ref.tag not in _CODEREF_TAGS
        ):
            append(_text_selection(el, ctx))
            continue
        if sel_outside or coding_outside:  # rare, so checked per element only then (attrs.py)
            attrs.note_outside(ctx, el, coding)
        line = el.sourceline
        loc = f"{label}:{line}"
        here = coding.sourceline
        coding_loc = loc if here == line else f"{label}:{here}"
        code = ref.get("targetGUID")
        # Context.ref/text inlined: a dict hit is the usual case (interned codes, users, dates).
        cid = Guid(coding_guid)
        owned.append(cid)
        owned_at.append(coding_loc)
        # Records are filled slot by slot: calling a class with keywords makes CPython pack
        # them into a dict for __init__ (0.8 us per selection against 0.23 us). Every field
        # is set, as __init__ would (tested against the general path).
        found = new_coding(Coding)
        found.guid = cid
        found.code = (code and refs.get(code)) or ctx.req_ref(ref, "targetGUID")
        found.creating_user = (refs.get(coding_user) or ctx.ref(coding_user)) if coding_user else None
        found.creation_datetime = (
            strings.setdefault(coding_created, coding_created) if coding_created else coding_created
        )
        found.note_refs = ()
        found.loc = coding_loc
        sid = Guid(guid)
        owned.append(sid)
        owned_at.append(loc)
        selection = new_selection(TextSelection)
        selection.guid = sid
        selection.name = name
        selection.start = begin
        selection.end = stop
        selection.description = None
        selection.codings = (found,)
        selection.note_refs = ()
        selection.creating_user = (refs.get(user) or ctx.ref(user)) if user else None
        selection.creation_datetime = strings.setdefault(created, created) if created else created
        selection.modifying_user = (refs.get(modifier) or ctx.ref(modifier)) if modifier else None
        selection.modified_datetime = strings.setdefault(modified, modified) if modified else modified
        selection.loc = loc
        append(selection)
    return out


def _selection(
    el: Element, ctx: Context, loc: str, codings: tuple[Coding, ...], notes: tuple[Guid, ...], description: str | None
) -> TextSelection:
    get = el.get
    try:
        start, end = int(get("startPosition")), int(get("endPosition"))  # type: ignore[arg-type]
    except (TypeError, ValueError):  # missing or not integers: reported by req_int
        start, end = ctx.req_int(el, "startPosition"), ctx.req_int(el, "endPosition")
    if not (in_range(start) and in_range(end)):  # reported by req_int
        start, end = ctx.req_int(el, "startPosition"), ctx.req_int(el, "endPosition")
    user, modifier = get("creatingUser"), get("modifyingUser")
    created, modified = get("creationDateTime"), get("modifiedDateTime")
    refs, strings = ctx.refs, ctx.strings
    return TextSelection(
        guid=ctx.own_guid(el, loc),
        name=get("name"),
        start=start,
        end=end,
        description=description,
        codings=codings,
        note_refs=notes,
        creating_user=(refs.get(user) or ctx.ref(user)) if user else None,
        creation_datetime=strings.setdefault(created, created) if created else created,
        modifying_user=(refs.get(modifier) or ctx.ref(modifier)) if modifier else None,
        modified_datetime=strings.setdefault(modified, modified) if modified else modified,
        loc=loc,
    )


def _text_selection(el: Element, ctx: Context) -> TextSelection:
    """Any ``PlainTextSelection``: children walked and checked one by one."""
    ctx.attributes_outside(el, attrs.TEXT_SELECTION_ATTRS)
    line = el.sourceline
    loc = f"{ctx.label}:{line}"
    description: str | None = None
    codings: list[Coding] = []
    notes: list[Guid] = []
    for child in el:
        tag = child.tag
        if not isinstance(tag, str):
            continue
        name = _LOCAL.get(tag) or local(tag)
        if name == "Coding":
            codings.append(read_coding(child, ctx, (line, loc)))
        elif name == "NoteRef":
            notes.append(ctx.req_ref(child, "targetGUID"))
        elif name == "Description" and description is None:
            description = child.text or ""
        else:
            ctx.issue("QDX007", f"unexpected <{name}> in <PlainTextSelection> ignored", child)
    return _selection(el, ctx, loc, tuple(codings), tuple(notes) if notes else (), description)

