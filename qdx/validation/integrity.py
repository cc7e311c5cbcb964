"""Integrity rules of REFI-QDA that no XML schema can state, checked on the model.

The XSDs declare no ``xs:ID``/``xs:keyref`` (docs/quirks.md §2), so a schema-valid file can still
reuse GUIDs, point at records that do not exist or select text outside its source. REFI §7
requires importers to obey "all other rules" of the spec; these are they.

One walk over the project records every definition and reference (its record and the steps
shared by all records: :mod:`qdx.validation._integrity_walk`; the sources:
:mod:`qdx.validation._integrity_sources`); the rules over the whole record are here.

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
from itertools import compress, repeat
from operator import contains, ne, not_

from qdx.errors import Issue, Severity
from qdx.model import Case, Code, Graph, Guid, Link, Project, Set, guid_key
from qdx.validation._integrity_sources import _walk_sources, _walk_text
from qdx.validation._integrity_walk import (
    _ACCEPTS,
    _CODE_REF,
    _CREATING_USER_GUID,
    _MEMBER_CODE,
    _MEMBER_NOTE,
    _MEMBER_SOURCE,
    _MISSING,
    _MODIFYING_USER_GUID,
    _ORIGIN,
    _REPRESENTED,
    _RULES,
    _SELECTION_REF,
    _SOURCE_REF,
    _TARGET,
    _note_refs,
    _Walk,
    _walk_values,
    _where,
)


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
