"""Integrity rules of REFI-QDA that no XML schema can state, checked on the model.

The XSDs declare no ``xs:ID``/``xs:keyref`` (docs/quirks.md §2), so a schema-valid file can still
reuse GUIDs, point at records that do not exist or select text outside its source. REFI §7
requires importers to obey "all other rules" of the spec; these are they.

Rule codes (stable; users filter on them):

======  ========  ===========================================================================
code    severity  rule
======  ========  ===========================================================================
QDX101  error     a CodeRef (Coding, Case) or set MemberCode names no code
QDX102  error     a NoteRef or set MemberNote names no note
QDX103  error     a Case SourceRef or set MemberSource names no source
QDX104  error     a Case SelectionRef names no selection
QDX105  error     a VariableRef names no variable
QDX106  error     creatingUser / modifyingUser / creatingUserGUID / modifyingUserGUID names no user
QDX107  error     a TranscriptSelection sync point is not a SyncPoint of its transcript
QDX108  error     a Link originGUID / targetGUID names nothing in the project
QDX109  error     a graph Vertex/Edge representedGUID names nothing, or an Edge end is no
                  vertex of its graph
QDX110  error     a GUID is used by more than one record (REFI §3.7: "globally unique")
QDX111  error     a selection ends before it starts (start > end, begin > end, sync points
                  out of order)
QDX112  error     a text position lies outside its text (REFI §10.2)
QDX113  error     an internal file (sources/ member) is missing (REFI §8.3); a warning for a
                  bare .qde, which cannot carry its files
QDX114  warning   a coding applies a code whose isCodable is false (REFI §11)
QDX115  warning   a VariableValue's kind does not match its variable's typeOfVariable (§3.6)
QDX116  error     a code repeats the GUID of one of its own ancestors (a cycle by GUID)
======  ========  ===========================================================================
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import compress, repeat
from operator import contains, ne, not_
from typing import NamedTuple, Protocol

from qdx.errors import Issue, Severity
from qdx.model import (
    AudioSelection,
    AudioSource,
    Case,
    Code,
    Coding,
    Graph,
    Guid,
    Link,
    PDFSource,
    PictureSource,
    Project,
    Selection,
    Set,
    Source,
    SyncPoint,
    TextSelection,
    TextSource,
    Transcript,
    TranscriptSelection,
    VariableValue,
    VideoSelection,
    VideoSource,
    guid_key,
)

_TAGS = {
    TextSource: "TextSource",
    PictureSource: "PictureSource",
    PDFSource: "PDFSource",
    AudioSource: "AudioSource",
    VideoSource: "VideoSource",
}
_EXTERNAL = ("relative://", "absolute://")

# Every kind of record that defines a GUID. Only the fast path of _dangling uses this list (for
# references that accept any kind): a kind missing here costs time, never a wrong answer.
_KINDS = frozenset(
    {"user", "code", "variable", "case", "source", "note", "text", "selection", "coding", "syncpoint"}
    | {"link", "set", "graph", "vertex", "edge"}
)
_MISSING = ""  # the kind of "no record": accepted by no rule


class _Rule(NamedTuple):
    """A reference rule: the record kinds the reference may point at, its issue code and its name."""

    kinds: frozenset[str]  # empty: any record at all (Link ends, represented objects)
    code: str
    what: str

    @property
    def accepts(self) -> frozenset[str]:
        """The kinds that pass the fast check of _dangling."""
        return self.kinds or _KINDS


# References are recorded with the index of their rule in _RULES, so that a record is three
# appends of existing objects (see _Walk).
_RULES: list[_Rule] = []


def _rule(kinds: Iterable[str], code: str, what: str) -> int:
    _RULES.append(_Rule(frozenset(kinds), code, what))
    return len(_RULES) - 1


_CODE_REF = _rule({"code"}, "QDX101", "CodeRef")
_MEMBER_CODE = _rule({"code"}, "QDX101", "MemberCode")
_NOTE_REF = _rule({"note"}, "QDX102", "NoteRef")
_MEMBER_NOTE = _rule({"note"}, "QDX102", "MemberNote")
_SOURCE_REF = _rule({"source"}, "QDX103", "SourceRef")
_MEMBER_SOURCE = _rule({"source"}, "QDX103", "MemberSource")
_SELECTION_REF = _rule({"selection"}, "QDX104", "SelectionRef")
_VARIABLE_REF = _rule({"variable"}, "QDX105", "VariableRef")
_CREATING_USER = _rule({"user"}, "QDX106", "creatingUser")
_MODIFYING_USER = _rule({"user"}, "QDX106", "modifyingUser")
_CREATING_USER_GUID = _rule({"user"}, "QDX106", "creatingUserGUID")
_MODIFYING_USER_GUID = _rule({"user"}, "QDX106", "modifyingUserGUID")
_ORIGIN = _rule((), "QDX108", "originGUID")
_TARGET = _rule((), "QDX108", "targetGUID")
_REPRESENTED = _rule((), "QDX109", "representedGUID")
_ACCEPTS = [rule.accepts for rule in _RULES]


class _Audited(Protocol):
    """Records with the audit attributes (sources, selections, transcripts)."""

    @property
    def creating_user(self) -> Guid | None: ...

    @property
    def modifying_user(self) -> Guid | None: ...


class _Appends(NamedTuple):
    """The bound ``append`` of each list of _Walk: one attribute look-up per call of a hot function."""

    def_guid: Callable[[Guid], None]
    def_kind: Callable[[str], None]
    def_where: Callable[[str], None]
    ref_target: Callable[[Guid], None]
    ref_rule: Callable[[int], None]
    ref_where: Callable[[str], None]


@dataclass(slots=True)
class _Walk:
    """Everything the rules need, gathered in one pass over the project.

    The walk is the hot path on 100,000-selection projects. Definitions and references are kept
    as parallel lists of objects that already exist (GUIDs, kind names, locations, small ints):
    recording one costs three list appends and creates no object the garbage collector tracks.
    A record object per definition or reference made the collector traverse the whole project
    several times per check, half of its time. GUID keys are computed afterwards, in bulk.
    """

    bare_qde: bool
    scope: str = "project"
    def_guids: list[Guid] = field(default_factory=list)
    def_kinds: list[str] = field(default_factory=list)
    def_wheres: list[str] = field(default_factory=list)
    ref_targets: list[Guid] = field(default_factory=list)
    ref_rules: list[int] = field(default_factory=list)  # indexes into _RULES
    ref_wheres: list[str] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    non_codable: set[str] = field(default_factory=set)  # GUID keys of codes with isCodable false
    variable_types: dict[str, str] = field(default_factory=dict)
    values: list[tuple[VariableValue, str]] = field(default_factory=list)
    appends: _Appends = field(init=False)

    def __post_init__(self) -> None:
        self.appends = _Appends(
            self.def_guids.append,
            self.def_kinds.append,
            self.def_wheres.append,
            self.ref_targets.append,
            self.ref_rules.append,
            self.ref_wheres.append,
        )

    def define(self, guid: Guid, kind: str, where: str) -> None:
        self.def_guids.append(guid)
        self.def_kinds.append(kind)
        self.def_wheres.append(where)

    def refer(self, target: Guid | None, rule: int, where: str) -> None:
        if target is not None:
            self.ref_targets.append(target)
            self.ref_rules.append(rule)
            self.ref_wheres.append(where)

    def problem(self, code: str, severity: Severity, message: str, where: str) -> None:
        self.issues.append(Issue(code, severity, message, where))


def check_integrity(project: Project) -> list[Issue]:
    """Every integrity issue of ``project`` (the input is not changed).

    Args:
        project: a project or codebook from any reader, or built in memory.

    Returns:
        Issues in document order per rule: references, duplicates, then the other rules.

    Example:
        >>> [i.code for i in check_integrity(project)]   # doctest: +SKIP
        ['QDX101']
    """
    bare_qde = project.provenance is not None and project.provenance.fmt == "qde"
    walk = _Walk(bare_qde=bare_qde, scope="codebook" if project.is_codebook else "project")
    _walk_project(walk, project)
    first, shared, duplicates = _index_defs(walk)
    return _dangling(walk, first, shared) + duplicates + walk.issues + _value_kinds(walk)


# --------------------------------------------------------------------------- the walk


def _where(record: object, path: str) -> str:
    loc = getattr(record, "loc", None)
    return loc if isinstance(loc, str) and loc else path


def _walk_project(walk: _Walk, project: Project) -> None:
    root = "/CodeBook" if project.is_codebook else "/Project"
    walk.refer(project.creating_user, _CREATING_USER_GUID, root)
    walk.refer(project.modifying_user, _MODIFYING_USER_GUID, root)
    for i, user in enumerate(project.users):
        walk.define(user.guid, "user", _where(user, f"{root}/Users/User[{i + 1}]"))
    _walk_codes(walk, project.codes, f"{root}/CodeBook/Codes" if not project.is_codebook else f"{root}/Codes")
    for i, variable in enumerate(project.variables):
        walk.define(variable.guid, "variable", _where(variable, f"{root}/Variables/Variable[{i + 1}]"))
        walk.variable_types[guid_key(variable.guid)] = variable.type.value
    for i, case in enumerate(project.cases):
        _walk_case(walk, case, f"{root}/Cases/Case[{i + 1}]")
    _walk_sources(walk, project.sources, f"{root}/Sources")
    for i, note in enumerate(project.notes):
        _walk_text(walk, note, "note", f"{root}/Notes/Note[{i + 1}]")
    for i, link in enumerate(project.links):
        _walk_link(walk, link, f"{root}/Links/Link[{i + 1}]")
    for i, code_set in enumerate(project.sets):
        _walk_set(walk, code_set, f"{root}/Sets/Set[{i + 1}]")
    for i, graph in enumerate(project.graphs):
        _walk_graph(walk, graph, f"{root}/Graphs/Graph[{i + 1}]")
    _note_refs(walk, project.note_refs, root)


def _walk_codes(walk: _Walk, codes: tuple[Code, ...], base: str) -> None:
    """Codes depth-first; nesting is the hierarchy (REFI §3.2), so paths nest too.

    Iterative (an input controls the depth); a code repeating the GUID of one of its own
    ancestors gets QDX116 besides QDX110: a tool rebuilding the tree by GUID would loop.
    """
    on_path: dict[str, int] = defaultdict(int)  # GUID keys of the current code's ancestors
    stack: list[tuple[Code, str] | str] = [
        (code, f"{base}/Code[{i}]") for i, code in reversed(list(enumerate(codes, 1)))
    ]
    while stack:
        item = stack.pop()
        if isinstance(item, str):  # leaving a code: it is no longer an ancestor
            on_path[item] -= 1
            continue
        code, path = item
        where = _where(code, path)
        walk.define(code.guid, "code", where)
        key = guid_key(code.guid)
        if on_path[key]:
            message = f"code repeats the GUID {code.guid} of its own ancestor: the code tree would be a cycle"
            walk.problem("QDX116", Severity.ERROR, message, where)
        if not code.is_codable:
            walk.non_codable.add(key)
        _note_refs(walk, code.note_refs, where)
        on_path[key] += 1
        stack.append(key)
        stack.extend((child, f"{path}/Code[{i}]") for i, child in reversed(list(enumerate(code.children, 1))))


def _note_refs(walk: _Walk, refs: Iterable[Guid], where: str) -> None:
    for ref in refs:
        walk.refer(ref, _NOTE_REF, where)


def _audit(walk: _Walk, record: _Audited, where: str) -> None:
    walk.refer(record.creating_user, _CREATING_USER, where)
    walk.refer(record.modifying_user, _MODIFYING_USER, where)


def _walk_case(walk: _Walk, case: Case, path: str) -> None:
    where = _where(case, path)
    walk.define(case.guid, "case", where)
    for ref in case.code_refs:
        walk.refer(ref, _CODE_REF, where)
    _walk_values(walk, case.variable_values, where)
    for ref in case.source_refs:
        walk.refer(ref, _SOURCE_REF, where)
    for ref in case.selection_refs:
        walk.refer(ref, _SELECTION_REF, where)


def _walk_values(walk: _Walk, values: Iterable[VariableValue], where: str) -> None:
    for value in values:
        at = _where(value, where)
        walk.refer(value.variable, _VARIABLE_REF, at)
        walk.values.append((value, at))


def _walk_codings(walk: _Walk, codings: Iterable[Coding], base: str) -> None:
    """Codings of a source or of a selection other than a text selection (see _walk_text_selections)."""
    define_guid, define_kind, define_where, refer_target, refer_rule, refer_where = walk.appends
    for i, coding in enumerate(codings, 1):
        where = coding.loc or f"{base}/Coding[{i}]"
        define_guid(coding.guid)
        define_kind("coding")
        define_where(where)
        refer_target(coding.code)
        refer_rule(_CODE_REF)
        refer_where(where)
        if coding.creating_user is not None:
            refer_target(coding.creating_user)
            refer_rule(_CREATING_USER)
            refer_where(where)
        if coding.note_refs or walk.non_codable:
            _coding_notes_and_codable(walk, coding, where)


def _coding_notes_and_codable(walk: _Walk, coding: Coding, where: str) -> None:
    if coding.note_refs:
        _note_refs(walk, coding.note_refs, where)
    if guid_key(coding.code) in walk.non_codable:
        message = f"coding applies code {coding.code} whose isCodable is false (REFI §11)"
        walk.problem("QDX114", Severity.WARNING, message, where)


def _walk_selection_common(walk: _Walk, selection: Selection, path: str) -> str:
    where = selection.loc or path
    walk.define(selection.guid, "selection", where)
    _audit(walk, selection, where)
    _walk_codings(walk, selection.codings, path)
    if selection.note_refs:
        _note_refs(walk, selection.note_refs, where)
    return where


# --------------------------------------------------------------------------- sources


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


# --------------------------------------------------------------------------- links, sets, graphs


def _walk_link(walk: _Walk, link: Link, path: str) -> None:
    where = _where(link, path)
    walk.define(link.guid, "link", where)
    walk.refer(link.origin, _ORIGIN, where)
    walk.refer(link.target, _TARGET, where)
    _note_refs(walk, link.note_refs, where)


def _walk_set(walk: _Walk, code_set: Set, path: str) -> None:
    where = _where(code_set, path)
    walk.define(code_set.guid, "set", where)
    for ref in code_set.member_codes:
        walk.refer(ref, _MEMBER_CODE, where)
    for ref in code_set.member_sources:
        walk.refer(ref, _MEMBER_SOURCE, where)
    for ref in code_set.member_notes:
        walk.refer(ref, _MEMBER_NOTE, where)


def _walk_graph(walk: _Walk, graph: Graph, path: str) -> None:
    walk.define(graph.guid, "graph", _where(graph, path))
    vertices = {vertex.guid for vertex in graph.vertices}
    for i, vertex in enumerate(graph.vertices):
        where = _where(vertex, f"{path}/Vertex[{i + 1}]")
        walk.define(vertex.guid, "vertex", where)
        walk.refer(vertex.represented, _REPRESENTED, where)
    for i, edge in enumerate(graph.edges):
        where = _where(edge, f"{path}/Edge[{i + 1}]")
        walk.define(edge.guid, "edge", where)
        walk.refer(edge.represented, _REPRESENTED, where)
        for attribute, end in (("sourceVertex", edge.source_vertex), ("targetVertex", edge.target_vertex)):
            if end not in vertices:
                message = f"{attribute} {end} is not a Vertex of this graph"
                walk.problem("QDX109", Severity.ERROR, message, where)


# --------------------------------------------------------------------------- rules over the walk


def _keys(guids: list[Guid]) -> list[str]:
    """guid_key of every GUID, at C speed: the Guid methods (Python-level) are never called."""
    keys = list(map(str.lower, guids))
    joined = "".join(keys)
    if "{" in joined or "}" in joined:  # rare: braces are stripped only when some GUID has one
        keys = list(map(str.strip, keys, repeat("{}")))
    return keys


def _index_defs(walk: _Walk) -> tuple[dict[str, str], dict[str, set[str]], list[Issue]]:
    """The kind of the first record per GUID key, the kinds of GUIDs used more than once, and QDX110 issues."""
    keys, kinds = _keys(walk.def_guids), walk.def_kinds
    first_kind = dict(zip(keys, kinds, strict=True))  # the last record's kind, if a GUID were used twice
    if len(first_kind) == len(keys):
        return first_kind, {}, []  # no GUID used twice: the usual case
    return dict(zip(reversed(keys), reversed(kinds), strict=True)), *_duplicates(walk, keys)


def _duplicates(walk: _Walk, keys: list[str]) -> tuple[dict[str, set[str]], list[Issue]]:
    """QDX110 for every record whose GUID an earlier record has, and the kinds sharing each such GUID."""
    count = len(keys)
    first = dict(zip(reversed(keys), reversed(range(count)), strict=True))
    kinds, wheres = walk.def_kinds, walk.def_wheres
    shared: dict[str, set[str]] = {}
    issues = []
    for i in compress(range(count), map(ne, map(first.__getitem__, keys), range(count))):
        earlier = first[keys[i]]
        shared.setdefault(keys[i], {kinds[earlier]}).add(kinds[i])
        used = f"already used by the {kinds[earlier]} at {wheres[earlier]}"
        message = f"GUID {walk.def_guids[i]} of this {kinds[i]} is {used}"
        issues.append(Issue("QDX110", Severity.ERROR, message, wheres[i]))
    return shared, issues


def _dangling(walk: _Walk, first_kind: dict[str, str], shared: dict[str, set[str]]) -> list[Issue]:
    """References whose target is missing or of a kind the rule does not accept.

    A bulk check at C speed (the first record's kind is accepted) lets through nearly every
    reference; the few others get the full check, which also counts later records of the GUID.
    The bulk check only lower-cases: no key in ``first_kind`` starts or ends with a brace, so a
    braced reference fails it and gets its full key in the full check.
    """
    targets = walk.ref_targets
    found_kinds = map(first_kind.get, map(str.lower, targets), repeat(_MISSING))
    passed = map(contains, map(_ACCEPTS.__getitem__, walk.ref_rules), found_kinds)
    issues = []
    for i in compress(range(len(targets)), map(not_, passed)):
        key = guid_key(targets[i])
        found = first_kind.get(key)
        kinds = shared.get(key, set()) | ({found} if found is not None else set())
        rule = _RULES[walk.ref_rules[i]]
        if kinds and (not rule.kinds or kinds & rule.kinds):
            continue
        wanted = "/".join(sorted(rule.kinds)) or "record"
        if kinds:
            message = f"{rule.what} {targets[i]} names a {'/'.join(sorted(kinds))}, not a {wanted}"
        else:
            message = f"{rule.what} {targets[i]} names no {wanted} in the {walk.scope}"
        issues.append(Issue(rule.code, Severity.ERROR, message, walk.ref_wheres[i]))
    return issues


def _value_kinds(walk: _Walk) -> list[Issue]:
    issues = []
    for value, where in walk.values:
        expected = walk.variable_types.get(guid_key(value.variable))
        if value.kind is None or expected is None or value.kind.value == f"{expected}Value":
            continue
        message = f"variable {value.variable} is of type {expected} but the value is a {value.kind.value}"
        issues.append(Issue("QDX115", Severity.WARNING, message, where))
    return issues
