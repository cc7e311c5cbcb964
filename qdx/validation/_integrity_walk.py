"""The record of one walk over a project, gathered for the integrity rules of :mod:`qdx.validation.integrity`.

The rules table (which record kinds each reference may name, with its issue code), the
:class:`_Walk` that holds every definition and reference, and the steps of the walk that
sources, cases and codes share (codings, selections, notes, audit attributes, variable values).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from qdx.errors import Issue, Severity
from qdx.model import Coding, Guid, Selection, VariableValue, guid_key

# Every kind of record that defines a GUID. Only the fast path of _dangling (integrity.py) uses this list (for
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


# --------------------------------------------------------------------------- shared steps of the walk


def _where(record: object, path: str) -> str:
    loc = getattr(record, "loc", None)
    return loc if isinstance(loc, str) and loc else path


def _note_refs(walk: _Walk, refs: Iterable[Guid], where: str) -> None:
    for ref in refs:
        walk.refer(ref, _NOTE_REF, where)


def _audit(walk: _Walk, record: _Audited, where: str) -> None:
    walk.refer(record.creating_user, _CREATING_USER, where)
    walk.refer(record.modifying_user, _MODIFYING_USER, where)


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
