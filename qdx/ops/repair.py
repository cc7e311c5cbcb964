"""Repair a model so that it can be written as a valid REFI-QDA file, listing every change.

``qdx convert --repair`` and ``qdx merge --repair`` call :func:`repair` when the output would
not validate. Each repair removes the least that makes one integrity rule pass
(qdx.validation.integrity) and is reported; nothing is changed silently:

* **missing files** (QDX113, REFI §8.3): a source, note or transcript whose plain text or
  embedded file is not there is dropped (its selections cannot be placed on nothing); a
  missing *rich* text of a source whose plain text is there only loses the rich-text path.
* **duplicate GUIDs** (QDX110, REFI §3.7 "globally unique"): the first record keeps the GUID,
  every later one gets a new one. References keep naming the first record, which is what
  every reader of the input resolved them to.
* **impossible selections** (QDX111, QDX112, QDX107): a selection that ends before it starts,
  lies outside its text, or names a sync point its transcript lacks is dropped.
* **dangling references** (QDX101–QDX106, QDX108, QDX109): a reference that names no record
  of the kind its rule accepts is removed; a record that cannot exist without it (a Coding
  without its code, a VariableValue without its variable, a Link without an end, an Edge
  without a vertex) is dropped with it.

The input project is never modified: :func:`repair` returns a new one.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from qdx.model import (
    AudioSelection,
    AudioSource,
    Case,
    Code,
    Coding,
    Edge,
    Graph,
    Guid,
    Link,
    PDFSelection,
    PDFSource,
    PictureSelection,
    PictureSource,
    Project,
    Set,
    Source,
    SyncPoint,
    TextSelection,
    TextSource,
    Transcript,
    TranscriptSelection,
    User,
    Variable,
    VariableValue,
    Vertex,
    VideoSelection,
    VideoSource,
    guid_key,
    iter_selections,
)

_EXTERNAL = ("relative://", "absolute://")


@dataclass(frozen=True, slots=True)
class Repaired:
    """The repaired project and one line per change made (empty: nothing needed repair)."""

    project: Project
    repairs: tuple[str, ...]


def repair(project: Project, *, files_required: bool = True) -> Repaired:
    """A copy of ``project`` with the integrity errors removed, and the list of what changed.

    Args:
        project: the model to repair (not modified).
        files_required: drop sources whose internal files are missing (a ``.qdpx`` must carry
            them, REFI §8.3); ``False`` for a bare ``.qde``, which cannot carry files anyway.

    Returns:
        :class:`Repaired`; ``repairs`` lists every change, one line each, naming the record
        and where it came from.
    """
    log: list[str] = []
    fixed = _drop_missing_files(project, log) if files_required else project
    fixed = _remint_duplicates(fixed, log)
    # A record dropped in one round (a selection outside its text, a coding of a missing code)
    # can leave references to it dangling (a Link, a Case SelectionRef): repeat until nothing
    # changes. Each round only removes, so this ends.
    while True:
        before = len(log)
        fixed = _drop_dangling(fixed, log)
        if len(log) == before:
            break
    return Repaired(project=fixed, repairs=tuple(log))


# --------------------------------------------------------------------------- naming records


def _describe(record: Any) -> str:
    kind = type(record).__name__
    name = getattr(record, "name", None)
    guid = getattr(record, "guid", None)
    label = f"{kind} {name!r}" if name else kind
    if guid is not None:
        label += f" ({guid})"
    loc = getattr(record, "loc", None)
    return f"{label} at {loc}" if loc else label


# --------------------------------------------------------------------------- missing files


def _internal(path: str | None) -> bool:
    """A path that names a ``sources/`` member (as integrity._internal)."""
    return path is not None and not path.lower().startswith(_EXTERNAL)


def _text_missing(doc: TextSource | Transcript) -> bool:
    return doc.text is None and _internal(doc.plain_text_path)


def _without_missing_rich_text(doc: Any, log: list[str]) -> Any:
    if doc.rich_text is None and _internal(doc.rich_text_path):
        log.append(f"removed the reference to missing rich text {doc.rich_text_path} of {_describe(doc)}")
        return dataclasses.replace(doc, rich_text_path=None)
    return doc


def _source_files_missing(source: Source) -> str | None:
    """What primary content of ``source`` is missing, or None."""
    if isinstance(source, TextSource):
        if not _text_missing(source):
            return None
        rich = source.rich_text is None and _internal(source.rich_text_path)
        also = f" (and its rich text {source.rich_text_path})" if rich else ""
        return f"plain text {source.plain_text_path}{also}"
    if source.blob is None and _internal(source.path):
        return f"file {source.path}"
    return None


def _fix_nested_files(source: Source, log: list[str]) -> Source:
    if isinstance(source, TextSource):
        return _without_missing_rich_text(source, log)  # type: ignore[no-any-return]
    if isinstance(source, AudioSource | VideoSource):
        kept = []
        for transcript in source.transcripts:
            if _text_missing(transcript):
                log.append(f"dropped {_describe(transcript)}: its plain text {transcript.plain_text_path} is missing")
            else:
                kept.append(_without_missing_rich_text(transcript, log))
        return dataclasses.replace(source, transcripts=tuple(kept))
    if isinstance(source, PictureSource) and source.text_description is not None:
        desc = source.text_description
        if _text_missing(desc):
            log.append(f"dropped the text description of {_describe(source)}: {desc.plain_text_path} is missing")
            return dataclasses.replace(source, text_description=None)
    if isinstance(source, PDFSource) and source.representation is not None:
        rep = source.representation
        if _text_missing(rep):
            log.append(f"dropped the representation of {_describe(source)}: {rep.plain_text_path} is missing")
            return dataclasses.replace(source, representation=None)
    return source


def _contents(source: Source) -> str:
    """What goes with a dropped source, so the loss is stated in full."""
    selections = list(iter_selections(source))
    codings = len(source.codings) + sum(len(sel.codings) for sel in selections)
    if not selections and not codings:
        return ""
    return f" (with its {len(selections)} selection(s) and {codings} coding(s))"


def _drop_missing_files(project: Project, log: list[str]) -> Project:
    sources = []
    for source in project.sources:
        missing = _source_files_missing(source)
        if missing is not None:
            log.append(f"dropped {_describe(source)}: its {missing} is missing{_contents(source)}")
            continue
        sources.append(_fix_nested_files(source, log))
    notes = []
    for note in project.notes:
        if _text_missing(note):
            log.append(f"dropped {_describe(note)}: its plain text {note.plain_text_path} is missing")
            continue
        notes.append(_without_missing_rich_text(note, log))
    return dataclasses.replace(project, sources=tuple(sources), notes=tuple(notes))


# --------------------------------------------------------------------------- generic traversal

# Fields holding records (or tuples of records) that the traversal descends into.
_CHILD_FIELDS = frozenset(
    {"users", "codes", "children", "variables", "cases", "sources", "notes", "links", "sets", "graphs"}
    | {"selections", "codings", "variable_values", "transcripts", "sync_points", "vertices", "edges"}
    | {"representation", "text_description"}
)

Visit = Callable[[Any], Any]  # returns the new record, or None to drop it


def _map(record: Any, visit: Visit) -> Any:
    """Rebuild ``record`` bottom-up through ``visit`` (pre-order: ``visit`` sees the record
    before its children, so definitions are met in document order)."""
    record = visit(record)
    if record is None:
        return None
    changes: dict[str, Any] = {}
    for f in dataclasses.fields(record):
        if f.name not in _CHILD_FIELDS:
            continue
        value = getattr(record, f.name)
        if isinstance(value, tuple):
            new = tuple(x for x in (_map(item, visit) for item in value) if x is not None)
            if len(new) != len(value) or any(a is not b for a, b in zip(new, value, strict=True)):
                changes[f.name] = new
        elif value is not None and dataclasses.is_dataclass(value):
            mapped = _map(value, visit)
            if mapped is not value:
                changes[f.name] = mapped
    return dataclasses.replace(record, **changes) if changes else record


# --------------------------------------------------------------------------- duplicate GUIDs


def _remint_duplicates(project: Project, log: list[str]) -> Project:
    seen: set[str] = set()

    def visit(record: Any) -> Any:
        guid = getattr(record, "guid", None)
        if not isinstance(guid, str) or isinstance(record, Project):
            return record
        key = guid_key(guid)
        if key not in seen:
            seen.add(key)
            return record
        fresh = Guid(str(uuid.uuid4()).upper())
        seen.add(guid_key(fresh))
        log.append(f"gave {_describe(record)} the new GUID {fresh}: its GUID is already used by an earlier record")
        return dataclasses.replace(record, guid=fresh)

    return _map_project(project, visit)


_TOP_FIELDS = ("users", "codes", "variables", "cases", "sources", "notes", "links", "sets", "graphs")


def _map_all(records: tuple[Any, ...], visit: Visit) -> tuple[Any, ...]:
    return tuple(x for x in (_map(r, visit) for r in records) if x is not None)


def _map_project(project: Project, visit: Visit) -> Project:
    """``project`` with every record list rebuilt through ``visit``."""
    changes: dict[str, Any] = {name: _map_all(getattr(project, name), visit) for name in _TOP_FIELDS}
    return dataclasses.replace(project, **changes)


# --------------------------------------------------------------------------- dangling references


def _kinds(project: Project) -> dict[str, set[str]]:
    """GUID key -> the kinds of record defining it, named as the integrity rules name them."""
    kinds: dict[str, set[str]] = {}

    def add(guid: str, kind: str) -> None:
        kinds.setdefault(guid_key(guid), set()).add(kind)

    simple = {User: "user", Code: "code", Variable: "variable", Case: "case", Coding: "coding", SyncPoint: "syncpoint"}
    simple |= {Link: "link", Set: "set", Graph: "graph", Vertex: "vertex", Edge: "edge"}
    top_sources = {id(s) for s in project.sources}
    top_notes = {id(n) for n in project.notes}
    selections = (TextSelection, PictureSelection, PDFSelection, AudioSelection, VideoSelection, TranscriptSelection)

    def visit(record: Any) -> Any:
        kind = simple.get(type(record))
        if kind is None:
            if id(record) in top_sources:
                kind = "source"
            elif id(record) in top_notes:
                kind = "note"
            elif isinstance(record, selections):
                kind = "selection"
            elif isinstance(record, TextSource | Transcript):
                kind = "text"
        if kind is not None:
            add(record.guid, kind)
        return record

    for name in _TOP_FIELDS:
        _map_all(getattr(project, name), visit)
    return kinds


def _drop_dangling(project: Project, log: list[str]) -> Project:
    fixer = _Dangling(_kinds(project), log)
    fixed = _map_project(project, fixer.visit)
    top = fixer.optional_refs(project)
    if project.note_refs:
        new_refs = fixer.keep(project.note_refs, "note", "NoteRef", project)
        if len(new_refs) != len(project.note_refs):
            top["note_refs"] = new_refs
    return dataclasses.replace(fixed, **top) if top else fixed


_REF_LISTS: dict[type, tuple[tuple[str, str, str], ...]] = {
    Case: (
        ("code_refs", "code", "CodeRef"),
        ("source_refs", "source", "SourceRef"),
        ("selection_refs", "selection", "SelectionRef"),
    ),
    Set: (
        ("member_codes", "code", "MemberCode"),
        ("member_sources", "source", "MemberSource"),
        ("member_notes", "note", "MemberNote"),
    ),
}


@dataclass(slots=True)
class _Dangling:
    """Removes references that name no record of the kind their rule accepts (see integrity)."""

    kinds: dict[str, set[str]]
    log: list[str]

    def exists(self, ref: str | None, wanted: str | None) -> bool:
        """``ref`` names a record (of kind ``wanted`` when given); None counts as fine."""
        if ref is None:
            return True
        found = self.kinds.get(guid_key(ref), set())
        return bool(found) if wanted is None else wanted in found

    def keep(self, refs: Iterable[Guid], wanted: str, what: str, owner: Any) -> tuple[Guid, ...]:
        kept = []
        for ref in refs:
            if self.exists(ref, wanted):
                kept.append(ref)
            else:
                self.log.append(f"removed {what} {ref} of {_describe(owner)}: it names no {wanted}")
        return tuple(kept)

    def drop(self, record: Any, why: str) -> None:
        self.log.append(f"dropped {_describe(record)}: {why}")

    def visit(self, record: Any) -> Any:
        """The record without its dangling references, or None when it cannot exist without them."""
        if isinstance(record, Coding) and not self.exists(record.code, "code"):
            return self.drop(record, f"its code {record.code} does not exist")
        if isinstance(record, VariableValue) and not self.exists(record.variable, "variable"):
            return self.drop(record, f"its variable {record.variable} does not exist")
        if isinstance(record, Link) and not (self.exists(record.origin, None) and self.exists(record.target, None)):
            return self.drop(record, "an end names nothing in the project")
        changes = self.optional_refs(record) | self.ref_lists(record)
        if isinstance(record, Graph):
            changes |= self.graph_edges(record)
        elif isinstance(record, TextSource | Transcript):
            changes |= _impossible_selections(record, self.log)
        elif isinstance(record, AudioSource | VideoSource):
            changes |= _reversed_media(record, self.log)
        return dataclasses.replace(record, **changes) if changes else record

    def optional_refs(self, record: Any) -> dict[str, Any]:
        """Users and represented objects: an optional reference is simply removed."""
        changes: dict[str, Any] = {}
        for name in ("creating_user", "modifying_user"):
            ref = getattr(record, name, None)
            if ref is not None and not self.exists(ref, "user"):
                self.log.append(f"removed {name} {ref} of {_describe(record)}: it names no user")
                changes[name] = None
        if isinstance(record, Vertex | Edge) and not self.exists(record.represented, None):
            self.log.append(f"removed representedGUID {record.represented} of {_describe(record)}: it names nothing")
            changes["represented"] = None
        return changes

    def ref_lists(self, record: Any) -> dict[str, Any]:
        changes: dict[str, Any] = {}
        lists = _REF_LISTS.get(type(record), ())
        if not isinstance(record, Project) and getattr(record, "note_refs", None):
            lists = (("note_refs", "note", "NoteRef"), *lists)
        for name, wanted, what in lists:
            refs = getattr(record, name)
            new = self.keep(refs, wanted, what, record)
            if len(new) != len(refs):
                changes[name] = new
        return changes

    def graph_edges(self, graph: Graph) -> dict[str, Any]:
        vertices = {guid_key(v.guid) for v in graph.vertices}
        edges = []
        for edge in graph.edges:
            if guid_key(edge.source_vertex) in vertices and guid_key(edge.target_vertex) in vertices:
                edges.append(edge)
            else:
                self.drop(edge, "an end is no vertex of its graph")
        return {"edges": tuple(edges)} if len(edges) != len(graph.edges) else {}


def _impossible_selections(doc: TextSource | Transcript, log: list[str]) -> dict[str, Any]:
    """Selections that end before they start, lie outside the text or name a foreign sync point."""
    length = None if doc.text is None else len(doc.text)
    kept: list[Any] = []
    if isinstance(doc, Transcript):
        points = {guid_key(p.guid) for p in doc.sync_points}
        for tsel in doc.selections:
            ends = [p for p in (tsel.from_sync_point, tsel.to_sync_point) if p is not None]
            if all(guid_key(p) in points for p in ends):
                kept.append(tsel)
            else:
                log.append(f"dropped {_describe(tsel)}: it names a sync point its transcript lacks")
    else:
        for sel in doc.selections:
            if sel.start > sel.end:
                log.append(f"dropped {_describe(sel)}: it starts at {sel.start}, after its end {sel.end}")
            elif sel.start < 0 or (length is not None and sel.end > length):
                log.append(f"dropped {_describe(sel)}: {sel.start}..{sel.end} lies outside the text (0..{length})")
            else:
                kept.append(sel)
    return {"selections": tuple(kept)} if len(kept) != len(doc.selections) else {}


def _reversed_media(source: AudioSource | VideoSource, log: list[str]) -> dict[str, Any]:
    kept = []
    for sel in source.selections:
        if sel.begin > sel.end or sel.begin < 0:
            log.append(f"dropped {_describe(sel)}: it begins at {sel.begin}, after its end {sel.end}")
        else:
            kept.append(sel)
    return {"selections": tuple(kept)} if len(kept) != len(source.selections) else {}
