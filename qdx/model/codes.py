"""Records for people, codes, variables and cases (REFI §3.2, §3.6)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from qdx.model.values import Guid, VariableType, _loc


@dataclass(slots=True, kw_only=True)
class User:
    guid: Guid
    name: str | None = None
    id: str | None = None
    loc: str | None = _loc()


# The deepest code tree a reader builds. Walks over codes recurse; libxml2 (without
# huge_tree) stops REFI XML at 256 nested elements, so a REFI document cannot nest codes
# deeper than ~250 anyway: the same limit on every reader keeps what qdx writes readable.
# Real codebooks are under 10 levels; an NVivo export naming a code 1,900 levels deep was
# a RecursionError in every command.
MAX_CODE_DEPTH = 250


# A user qdx makes up for a coder that an input counts but does not name: NVivo's coded-text
# export merges the references of several users on one passage into one head
# ("References 2-3", docs/nvivo-exports.md §c.1) without saying who they were. Each merged
# reference becomes a coding by its own placeholder, so the count survives in every tool (clients
# key codings on source, code, range and coder, and would fold two unattributed ones into one).
# The rule (docs/rules.md "Placeholder users"): a placeholder is no identity, "user 1 of 2" on
# one passage need not be the person behind "user 1 of 2" on another, so agreement and coder
# filters refuse to treat one as a coder. Recognised by the name, which survives every format.
PLACEHOLDER_USER_MARK = "(not named in the export)"


def placeholder_user_name(number: int, of: int, tool: str = "NVivo") -> str:
    """The name of the ``number``-th of ``of`` unnamed coders of one passage.

    Example:
        >>> placeholder_user_name(2, 2)
        'NVivo user 2 of 2 (not named in the export)'
    """
    return f"{tool} user {number} of {of} {PLACEHOLDER_USER_MARK}"


def is_placeholder_user(name: str | None) -> bool:
    """Whether a user name is one of :func:`placeholder_user_name`'s (no real coder)."""
    return name is not None and name.endswith(f" {PLACEHOLDER_USER_MARK}")


@dataclass(slots=True, kw_only=True)
class Code:
    """A code; ``children`` nest (REFI expresses hierarchy only by nesting, §3.2)."""

    guid: Guid
    name: str
    is_codable: bool = True
    color: str | None = None
    description: str | None = None
    note_refs: tuple[Guid, ...] = ()
    children: tuple[Code, ...] = ()
    loc: str | None = _loc()


# --------------------------------------------------------------------------- variables, cases


@dataclass(slots=True, kw_only=True)
class Variable:
    guid: Guid
    name: str
    type: VariableType
    description: str | None = None
    loc: str | None = _loc()


class ValueKind(enum.Enum):
    """Which ``*Value`` child a VariableValue has (the XSD's choice, every branch optional)."""

    TEXT = "TextValue"
    BOOLEAN = "BooleanValue"
    INTEGER = "IntegerValue"
    FLOAT = "FloatValue"
    DATE = "DateValue"
    DATETIME = "DateTimeValue"


@dataclass(slots=True, kw_only=True)
class VariableValue:
    """A value of a variable; ``value`` is the lexical form as written, ``kind`` its element."""

    variable: Guid
    kind: ValueKind | None = None
    value: str | None = None
    loc: str | None = _loc()


@dataclass(slots=True, kw_only=True)
class Case:
    guid: Guid
    name: str | None = None
    description: str | None = None
    code_refs: tuple[Guid, ...] = ()
    variable_values: tuple[VariableValue, ...] = ()
    source_refs: tuple[Guid, ...] = ()
    selection_refs: tuple[Guid, ...] = ()
    loc: str | None = _loc()

