"""Phases 0 to 2 of one merge step (:func:`qdx.ops.merge.merge`): re-base texts, pair theirs'
objects with ours (listing conflicts) and re-mint theirs' GUIDs that would collide.

:func:`qdx.ops.merge3.align` uses the same pairing to align each side to the base.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import replace
from typing import TypeVar

from qdx.model import (
    Case,
    Code,
    Guid,
    Link,
    PDFSource,
    PictureSource,
    Project,
    ProjectIndex,
    Set,
    Source,
    TextSource,
    User,
    Variable,
)
from qdx.ops._merge_types import Conflict, Json, TextCarry
from qdx.ops.pairing import (
    Matching,
    children,
    colour,
    content_hash,
    match_named,
    match_sources,
    mint_guid,
    own_key,
    owners,
    remap_guids,
)
from qdx.ops.renames import DEFAULT_SIMILARITY, code_matching
from qdx.options import MatchLevel, Policy
from qdx.textmap import TextMap, carry_doc

R = TypeVar("R")

# --------------------------------------------------------------------------- phase 1: pairing

# Areas where keep-both can keep a second object: it gets a new GUID and its own codings.
_KEEP_BOTH_AREAS = frozenset({"codes", "sources", "notes", "links", "graphs"})


class MergeStep:
    """Merge ``theirs`` (input number ``number``) into ``ours``, phases 0 to 2: :meth:`rebase_texts`,
    :meth:`pair_all` and :meth:`mint_collisions` fill ``remap`` (theirs' GUIDs in ours' terms),
    the conflicts and what the union (:class:`qdx.ops._merge_union.MergeUnion`) must prefer."""

    def __init__(
        self,
        ours: Project,
        theirs: Project,
        number: int,
        policy: Policy,
        match: MatchLevel,
        similarity: float = DEFAULT_SIMILARITY,
    ) -> None:
        self.ours, self.theirs, self.number, self.policy, self.match = ours, theirs, number, policy, match
        self.similarity = similarity
        self.io, self.it = ProjectIndex(ours), ProjectIndex(theirs)
        self.remap: dict[str, Guid] = {}  # theirs key -> result GUID (only when different)
        self.paired: dict[str, str] = {}  # theirs key -> ours key, every paired object
        self.kept: set[str] = set()  # theirs keys kept as a second object (keep-both)
        self.prefer_theirs: set[str] = set()  # ours keys whose scalar content theirs replaces
        self.replace_whole: set[str] = set()  # ours source keys replaced by theirs (text, policy theirs)
        self.drop: set[str] = set()  # ours source keys whose text differs: theirs' codings dropped
        self.moved_to: dict[str, str | None] = {}  # ours code key -> theirs' parent key (theirs space)
        self.conflicts: list[Conflict] = []
        self.texts: list[TextCarry] = []

    def result_key(self, key: str) -> str:
        """A theirs key in the merged project's terms."""
        new = self.remap.get(key)
        return new.key if new is not None else key

    def rebase_texts(self) -> None:
        """Step 0: one side's copy of a shared text re-based onto the other's where that is safe."""
        matching = match_sources(self.ours.sources, self.theirs.sources)
        by_ours = {s.guid.key: i for i, s in enumerate(self.ours.sources)}
        ours, theirs = list(self.ours.sources), list(self.theirs.sources)
        for i, source in enumerate(self.theirs.sources):
            key_o = matching.b_to_a.get(source.guid.key)
            if key_o is not None:
                j = by_ours[key_o]
                ours[j], theirs[i] = self._rebase_source(ours[j], source)
        if any(new is not old for new, old in zip(theirs, self.theirs.sources, strict=True)):
            self.theirs = replace(self.theirs, sources=tuple(theirs))
        if any(new is not old for new, old in zip(ours, self.ours.sources, strict=True)):
            self.ours = replace(self.ours, sources=tuple(ours))

    def _rebase_source(self, ours: Source, theirs: Source) -> tuple[Source, Source]:
        if isinstance(ours, TextSource) and isinstance(theirs, TextSource):
            doc_o, doc_t = self._rebase_doc(ours, theirs, ours)
            return doc_o or ours, doc_t or theirs
        if isinstance(ours, PDFSource) and isinstance(theirs, PDFSource):
            doc_o, doc_t = self._rebase_doc(ours.representation, theirs.representation, ours)
            return (
                ours if doc_o is None else replace(ours, representation=doc_o),
                theirs if doc_t is None else replace(theirs, representation=doc_t),
            )
        if isinstance(ours, PictureSource) and isinstance(theirs, PictureSource):
            doc_o, doc_t = self._rebase_doc(ours.text_description, theirs.text_description, ours)
            return (
                ours if doc_o is None else replace(ours, text_description=doc_o),
                theirs if doc_t is None else replace(theirs, text_description=doc_t),
            )
        return ours, theirs

    def _rebase_doc(
        self, ours: TextSource | None, theirs: TextSource | None, owner: Source
    ) -> tuple[TextSource | None, TextSource | None]:
        """(ours, theirs) with one of them re-based onto the other's text; None: unchanged.

        The same text in another representation: theirs moves onto ours' text. An edited text
        is a conflict: ``ours`` carries theirs' selections onto ours' text, ``theirs`` carries
        ours' onto theirs' (nothing is dropped; lost ones are listed); ``fail`` lists the
        conflict (step 1) and ``keep-both`` keeps both sources.
        """
        if ours is None or theirs is None or ours.text is None or theirs.text is None or ours.text == theirs.text:
            return None, None
        tmap = TextMap(theirs.text, ours.text)
        if tmap.same_text:
            doc, outcomes = carry_doc(theirs, ours.text, tmap)
            self.texts.append(TextCarry(owner.name, str(owner.guid), self.number, tmap.kind, tuple(outcomes)))
            return None, doc
        if self.policy not in ("ours", "theirs"):
            return None, None
        before, after = _text_sig(ours), _text_sig(theirs)
        guid = str(owner.guid)
        self.conflicts.append(Conflict("text", "sources", guid, owner.name, before, after, self.number, self.policy))
        if self.policy == "ours":
            doc, outcomes = carry_doc(theirs, ours.text, tmap)
            self.texts.append(TextCarry(owner.name, guid, self.number, tmap.kind, tuple(outcomes)))
            return None, doc
        doc, outcomes = carry_doc(ours, theirs.text, tmap.reverse())
        self.texts.append(TextCarry(owner.name, guid, self.number, tmap.kind, tuple(outcomes), carried="ours"))
        return replace(doc, text_inline=theirs.text_inline, plain_text_path=theirs.plain_text_path), None

    def pair_all(self) -> None:
        """Step 1: pair theirs' objects with ours; paired objects whose content differs conflict."""
        o, t = self.ours, self.theirs
        self._pair("users", match_named(o.users, t.users, lambda u: u.name), o.users, t.users, _sig_user)
        codes = code_matching(self.io, self.it, self.match, self.similarity)
        self._pair("codes", codes, tuple(self.io.codes.values()), tuple(self.it.codes.values()), _sig_code)
        self._pair_moves(codes)
        self._pair("sources", match_sources(o.sources, t.sources), o.sources, t.sources, _sig_source)
        self._pair("notes", match_named(o.notes, t.notes, lambda n: n.text), o.notes, t.notes, _sig_source)
        variables = match_named(o.variables, t.variables, lambda v: v.name)
        self._pair("variables", variables, o.variables, t.variables, _sig_variable)
        self._pair("cases", match_named(o.cases, t.cases, lambda c: c.name), o.cases, t.cases, _sig_named)
        self._pair("sets", match_named(o.sets, t.sets, lambda s: s.name), o.sets, t.sets, _sig_named)
        links = match_named(o.links, t.links, _link_ends, self._link_ends_theirs)
        self._pair("links", links, o.links, t.links, self._sig_mapped)
        self._pair("graphs", match_named(o.graphs, t.graphs, _no_name), o.graphs, t.graphs, self._sig_mapped)

    def _pair(self, area: str, matching: Matching, ours: Sequence[R], theirs: Sequence[R], sig: _Sig[R]) -> None:
        by_ours = {own_key(x): x for x in ours}
        by_theirs = {own_key(x): x for x in theirs}
        for key_t, key_o in matching.b_to_a.items():
            o, t = by_ours[key_o], by_theirs[key_t]
            self.paired[key_t] = key_o
            if key_t != key_o:
                self.remap[key_t] = _guid_of(o)
            before, after = sig(o, False), sig(t, True)
            if before != after:
                # Report only the fields that differ, so the conflict list is readable.
                before = {k: v for k, v in before.items() if after.get(k) != v}
                after = {k: after[k] for k in before}
                text = area == "sources" and isinstance(o, TextSource) and _text_differs(o, t)
                self._conflict("text" if text else "content", area, o, key_t, before, after)

    def _pair_moves(self, codes: Matching) -> None:
        """A paired code whose parent is not the paired parent has moved (a conflict)."""
        for key_t, key_o in codes.b_to_a.items():
            parent_o = self.io.parents[Guid(key_o)]
            parent_t = self.it.parents[Guid(key_t)]
            where_o = parent_o.guid.key if parent_o is not None else None
            where_t = codes.b_to_a.get(parent_t.guid.key, "new:" + parent_t.guid.key) if parent_t else None
            if where_o == where_t:
                continue
            before = list(self.io.code_path(parent_o)) if parent_o is not None else []
            after = list(self.it.code_path(parent_t)) if parent_t is not None else []
            if self.policy == "theirs":
                self.moved_to[key_o] = parent_t.guid.key if parent_t is not None else None
            self._conflict("moved", "codes", self.io.codes[Guid(key_o)], key_t, before, after)

    def _conflict(self, kind: str, area: str, ours: object, key_t: str, before: Json, after: Json) -> None:
        key_o = own_key(ours)
        assert key_o is not None
        resolution: str = self.policy
        if self.policy == "keep-both" and area in _KEEP_BOTH_AREAS:
            if key_t not in self.kept:
                self.kept.add(key_t)
                self.remap[key_t] = mint_guid(key_t, self.number)
        elif self.policy == "keep-both":
            resolution = "ours"  # a second user/variable/case/set with the same name means nothing
        elif self.policy == "theirs":
            (self.replace_whole if kind == "text" else self.prefer_theirs).add(key_o)
        elif kind == "text":
            self.drop.add(key_o)
        name = getattr(ours, "name", None)
        self.conflicts.append(Conflict(kind, area, str(_guid_of(ours)), name, before, after, self.number, resolution))

    def _link_ends_theirs(self, link: Link) -> Hashable | None:
        ends = (link.origin, link.target)
        if any(end is None for end in ends):
            return None
        return (link.name, *(self.result_key(end.key) for end in ends if end is not None))

    def _sig_mapped(self, record: object, is_theirs: bool) -> dict[str, Json]:
        value = remap_guids(record, self.remap) if is_theirs else record
        return {"content": repr(value)}

    def mint_collisions(self) -> None:
        """Re-mint theirs' GUIDs that name a different object in ours (REFI §3.1 uniqueness)."""
        ours = owners(self.ours)
        stack: list[tuple[object, str]] = [(child, "") for child in children(self.theirs)]
        while stack:
            record, owner = stack.pop()
            key = own_key(record)
            if key is not None and key not in self.paired and key not in self.kept:
                hit = ours.get(key)
                if hit is not None and (hit != (type(record).__name__, owner) or owner == ""):
                    self.remap[key] = mint_guid(key, self.number)
            new_owner = self.result_key(key) if key is not None else owner
            stack.extend((child, new_owner) for child in children(record))


_Sig = Callable[[R, bool], dict[str, Json]]


def _guid_of(record: object) -> Guid:
    guid = getattr(record, "guid", None)
    assert isinstance(guid, Guid)
    return guid


def _sig_user(user: User, _: bool) -> dict[str, Json]:
    return {"name": user.name}


def _sig_code(code: Code, _: bool) -> dict[str, Json]:
    # Colour case carries no meaning (REFI RGBType, docs/quirks.md §2).
    return {
        "name": code.name,
        "color": colour(code.color),
        "description": code.description,
        "codable": code.is_codable,
    }


def _sig_source(source: Source, _: bool) -> dict[str, Json]:
    # An empty description is no description (REFI §3.8; NVivo for Windows writes it, Mac omits it).
    sig: dict[str, Json] = {"type": type(source).__name__, "name": source.name}
    sig["description"] = source.description or None
    if isinstance(source, TextSource):
        sig["text"] = _text_sig(source)
    else:
        sig["content"] = _short_hash(source)
    return sig


def _text_sig(source: TextSource) -> str | None:
    return None if source.text is None else f"{len(source.text)} chars, sha256 {_short_hash(source)}"


def _short_hash(source: Source) -> str | None:
    digest = content_hash(source)
    return digest.rsplit(":", 1)[-1][:12] if digest is not None else None


def _sig_variable(variable: Variable, _: bool) -> dict[str, Json]:
    return {"name": variable.name, "type": variable.type.value, "description": variable.description}


def _sig_named(record: Case | Set, _: bool) -> dict[str, Json]:
    return {"name": record.name, "description": record.description}


def _link_ends(link: Link) -> Hashable | None:
    """A link without a GUID match is the same link when it joins the same ends by the same name."""
    if link.origin is None or link.target is None:
        return None
    return (link.name, link.origin.key, link.target.key)


def _no_name(_: object) -> Hashable | None:
    return None


def _text_differs(ours: TextSource, theirs: object) -> bool:
    return isinstance(theirs, TextSource) and ours.text != theirs.text

