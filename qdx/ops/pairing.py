"""Pairing objects across projects, and walking every GUID of a project.

Used by :mod:`qdx.ops.diff` and :mod:`qdx.ops.merge`. GUIDs are not stable across tools
(ATLAS.ti re-mints them on every export, docs/quirks.md §6), so objects are paired
by GUID first and then by weaker criteria (full path, content hash, name); an ambiguous value
never pairs anything. The walks visit every record of a project generically (own GUIDs and
references), reading each record type's field layout once.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections import Counter
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import TypeVar

from qdx import textmap
from qdx.errors import UsageError
from qdx.model import (
    AudioSelection,
    Blob,
    Coding,
    Guid,
    PDFSelection,
    PictureSelection,
    Project,
    ProjectIndex,
    Selection,
    Source,
    TextSelection,
    TextSource,
    TranscriptSelection,
    VideoSelection,
)
from qdx.options import MATCH_LEVELS, MatchLevel

T = TypeVar("T")
U = TypeVar("U")
R = TypeVar("R")
# Fixed namespace so re-minted GUIDs are the same on every run (deterministic output).
_MINT_NS = uuid.UUID("6b1f3c2e-8f0a-5d7e-9c41-2a7d5e3b9f10")


@dataclass(frozen=True, slots=True)
class Matching:
    """Pairs of keys (``b_to_a``), the criterion that paired each B key (``how``) and, for
    pairs made by similarity, the similarity (``scores``)."""

    b_to_a: dict[str, str]
    how: dict[str, str]
    scores: dict[str, float] = field(default_factory=dict)

    @property
    def a_to_b(self) -> dict[str, str]:
        return {a: b for b, a in self.b_to_a.items()}

    def counts(self) -> dict[str, int]:
        return dict(Counter(self.how.values()))


Criterion = tuple[str, Callable[[T], Hashable | None], Callable[[U], Hashable | None]]


def match_by(a: Mapping[str, T], b: Mapping[str, U], criteria: Sequence[Criterion[T, U]]) -> Matching:
    """Pair the keys of ``a`` and ``b`` by each criterion in turn (first one wins).

    A criterion is ``(label, value_of_a, value_of_b)``; a value shared by exactly one unpaired
    item on each side pairs them. Ambiguous or ``None`` values never pair anything.

    Args:
        a: items of the first input by key.
        b: items of the second input by key.
        criteria: the criteria, strongest first.

    Returns:
        A :class:`Matching` from B keys to A keys.
    """
    b_to_a: dict[str, str] = {}
    how: dict[str, str] = {}
    for label, value_a, value_b in criteria:
        # A set of the paired A keys: testing ``k in b_to_a.values()`` per key made pairing
        # 100,000 codes quadratic (135 s).
        taken = set(b_to_a.values())
        left = _unique_values({k: v for k, v in a.items() if k not in taken}, value_a)
        right = _unique_values({k: v for k, v in b.items() if k not in b_to_a}, value_b)
        for value, key_b in right.items():
            key_a = left.get(value)
            if key_a is not None:
                b_to_a[key_b] = key_a
                how[key_b] = label
    return Matching(b_to_a, how)


def _unique_values(items: Mapping[str, T], value_of: Callable[[T], Hashable | None]) -> dict[Hashable, str]:
    seen: dict[Hashable, str] = {}
    dupes: set[Hashable] = set()
    for key, item in items.items():
        value = value_of(item)
        if value is None:
            continue
        if value in seen:
            dupes.add(value)
        seen[value] = key
    return {value: key for value, key in seen.items() if value not in dupes}


def _levels(level: MatchLevel) -> int:
    if level not in MATCH_LEVELS:
        raise UsageError(f"unknown match level {level!r}; use one of {', '.join(MATCH_LEVELS)}")
    return MATCH_LEVELS.index(level) + 1


def _by_guid(item: object) -> Hashable | None:
    guid = getattr(item, "guid", None)
    return guid.key if isinstance(guid, Guid) else None


def match_codes(a: ProjectIndex, b: ProjectIndex, level: MatchLevel = "name") -> Matching:
    """Pair codes: by GUID, then full path, then unique name (stopping after ``level``;
    ``content`` pairs like ``name`` here, :func:`qdx.ops.renames.code_matching` goes on).

    Raises:
        UsageError: ``level`` is not one of guid, path, name.
    """
    items_a = {g.key: g for g in a.codes}
    items_b = {g.key: g for g in b.codes}
    criteria: list[Criterion[Guid, Guid]] = [
        ("guid", lambda g: g.key, lambda g: g.key),
        ("path", a.code_path, b.code_path),
        ("name", lambda g: a.codes[g].name, lambda g: b.codes[g].name),
    ]
    return match_by(items_a, items_b, criteria[: _levels(level)])


def content_hash(source: Source) -> str | None:
    """SHA-256 of a source's text (text sources) or embedded file (others); None if absent."""
    if isinstance(source, TextSource):
        data = source.text.encode("utf-8") if source.text is not None else None
    else:
        data = source.blob.data if source.blob is not None else None
    if data is None:
        return None
    return f"{type(source).__name__}:{hashlib.sha256(data).hexdigest()}"


def same_content_key(source: Source) -> str | None:
    """:func:`content_hash`, but of a text source's canonical form (:mod:`qdx.textmap`): two
    copies differing only in line endings, a BOM or trailing whitespace hold the same content."""
    if isinstance(source, TextSource):
        if source.text is None:
            return None
        canonical = textmap.canonical(source.text).text.encode("utf-8")
        return f"{type(source).__name__}:{hashlib.sha256(canonical).hexdigest()}"
    return content_hash(source)


def match_sources(a: Sequence[Source], b: Sequence[Source]) -> Matching:
    """Pair sources by GUID, then same content (text modulo representation), then unique name."""
    items_a = {s.guid.key: s for s in a}
    items_b = {s.guid.key: s for s in b}
    criteria: list[Criterion[Source, Source]] = [
        ("guid", _by_guid, _by_guid),
        ("content", same_content_key, same_content_key),
        ("name", lambda s: s.name, lambda s: s.name),
    ]
    return match_by(items_a, items_b, criteria)


def match_named(
    a: Sequence[T],
    b: Sequence[T],
    name: Callable[[T], Hashable | None],
    name_b: Callable[[T], Hashable | None] | None = None,
) -> Matching:
    """Pair records by GUID, then by ``name(record)`` (users, variables, cases, sets, notes).

    ``name_b`` reads the second side when its value must be translated first (links, whose
    ends are GUIDs of the second project).
    """
    items_a = {str(_by_guid(x)): x for x in a}
    items_b = {str(_by_guid(x)): x for x in b}
    return match_by(items_a, items_b, [("guid", _by_guid, _by_guid), ("name", name, name_b or name)])


#: Where a selection sits in its source (:func:`selection_range`).
Range = tuple[int | str | None, ...]
#: What identifies a coding across copies of a project: (range, code key, coder key).
CodingId = tuple[Range, str, str | None]


def selection_range(sel: Selection) -> Range:
    """What locates a selection in its source: ``(start, end)`` for text and media, corners
    (and page) for pictures and PDFs, sync-point keys for transcripts."""
    if isinstance(sel, TextSelection):
        return (sel.start, sel.end)
    if isinstance(sel, AudioSelection | VideoSelection):
        return (sel.begin, sel.end)
    if isinstance(sel, PictureSelection):
        return (sel.first_x, sel.first_y, sel.second_x, sel.second_y)
    if isinstance(sel, PDFSelection):
        return (sel.page, sel.first_x, sel.first_y, sel.second_x, sel.second_y)
    if isinstance(sel, TranscriptSelection):
        return (_key(sel.from_sync_point), _key(sel.to_sync_point))
    return ()


def colour(value: str | None) -> str | None:
    """A colour as compared across projects: REFI RGBType is #RRGGBB and its case carries no
    meaning (docs/quirks.md §2), so diff and both merges compare colours upper-cased."""
    return value.upper() if value is not None else None


def coding_id(rng: Range, coding: Coding) -> CodingId:
    """A coding's identity (REFI §3.13: one code per coding, over its selection's range, by its
    coder): equal ones in two inputs are the same coding, whatever their GUIDs."""
    return (rng, coding.code.key, coding.creating_user.key if coding.creating_user is not None else None)


def _key(guid: Guid | None) -> str | None:
    return guid.key if guid is not None else None


# --------------------------------------------------------------------------- walks


# Names in field annotations that can never hold a record (so walks can skip those fields).
_SCALAR_NAMES = frozenset(
    {"str", "int", "float", "bool", "None", "Blob", "VariableType", "ValueKind", "Direction", "Shape", "LineStyle"}
)
_LAYOUT: dict[type, tuple[tuple[str, ...], tuple[str, ...]]] = {}


def _layout(cls: type) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(fields that may hold a GUID or a record, fields that may hold records) of a record type.

    Read from the annotations (strings under ``from __future__ import annotations``) once per
    type, because looking at every value of 100,000 selections is what made walks slow.
    """
    layout = _LAYOUT.get(cls)
    if layout is None:
        guidish: list[str] = []
        nested: list[str] = []
        for f in fields(cls):
            names = set(re.findall(r"[A-Za-z_]\w*", str(f.type))) - {"tuple"}
            if not f.compare or names <= _SCALAR_NAMES:  # loc, provenance: not content
                continue
            guidish.append(f.name)
            if names - _SCALAR_NAMES - {"Guid"}:
                nested.append(f.name)
        layout = _LAYOUT[cls] = (tuple(guidish), tuple(nested))
    return layout


def is_record(value: object) -> bool:
    return hasattr(type(value), "__dataclass_fields__") and not isinstance(value, Blob)


def remap_guids(value: R, remap: dict[str, Guid]) -> R:
    """``value`` with every GUID (own or reference) in ``remap`` replaced; shares what is unchanged.

    Args:
        value: a record, a tuple of records or GUIDs, or a GUID.
        remap: canonical GUID key -> replacement.

    Returns:
        A new value (or ``value`` itself when nothing changed).
    """
    if isinstance(value, Guid):
        new = remap.get(value.key)
        return value if new is None else new  # type: ignore[return-value]
    if isinstance(value, tuple):
        items = tuple(remap_guids(item, remap) for item in value)
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items  # type: ignore[return-value]
    if is_record(value):
        changes: dict[str, object] = {}
        for name in _layout(type(value))[0]:
            old = getattr(value, name)
            new_value = remap_guids(old, remap)
            if new_value is not old:
                changes[name] = new_value
        return replace(value, **changes) if changes else value  # type: ignore[type-var]
    return value


def children(record: object) -> Iterator[object]:
    for name in _layout(type(record))[1]:
        value = getattr(record, name)
        if isinstance(value, tuple):
            yield from value
        elif value is not None:
            yield value


def own_key(record: object) -> str | None:
    guid = getattr(record, "guid", None)
    return guid.key if isinstance(guid, Guid) else None


def owners(project: Project) -> dict[str, tuple[str, str]]:
    """Every GUID of the project -> (record type, GUID of the record that holds it)."""
    out: dict[str, tuple[str, str]] = {}
    stack: list[tuple[object, str]] = [(child, "") for child in children(project)]
    while stack:
        record, owner = stack.pop()
        key = own_key(record)
        if key is not None:
            out.setdefault(key, (type(record).__name__, owner))
        stack.extend((child, key or owner) for child in children(record))
    return out


def mint_guid(key: str, salt: int) -> Guid:
    """A new GUID derived from ``key`` and ``salt`` (stable across runs)."""
    return Guid(str(uuid.uuid5(_MINT_NS, f"{key}/{salt}")))
