"""Records for links, sets and graphs, and the :class:`Project` that holds every record."""

from __future__ import annotations

from dataclasses import dataclass, field

from qdx.errors import Issue
from qdx.model.codes import Case, Code, User, Variable
from qdx.model.sources import Source, TextSource
from qdx.model.values import Direction, Guid, LineStyle, Shape, _loc


@dataclass(slots=True, kw_only=True)
class Link:
    guid: Guid
    name: str | None = None
    direction: Direction | None = None
    color: str | None = None
    origin: Guid | None = None
    target: Guid | None = None
    note_refs: tuple[Guid, ...] = ()
    loc: str | None = _loc()


@dataclass(slots=True, kw_only=True)
class Set:
    guid: Guid
    name: str
    description: str | None = None
    member_codes: tuple[Guid, ...] = ()
    member_sources: tuple[Guid, ...] = ()
    member_notes: tuple[Guid, ...] = ()
    loc: str | None = _loc()


@dataclass(slots=True, kw_only=True)
class Vertex:
    guid: Guid
    first_x: int
    first_y: int
    represented: Guid | None = None
    name: str | None = None
    second_x: int | None = None
    second_y: int | None = None
    shape: Shape | None = None
    color: str | None = None
    loc: str | None = _loc()


@dataclass(slots=True, kw_only=True)
class Edge:
    guid: Guid
    source_vertex: Guid
    target_vertex: Guid
    represented: Guid | None = None
    name: str | None = None
    color: str | None = None
    direction: Direction | None = None
    line_style: LineStyle | None = None
    loc: str | None = _loc()


@dataclass(slots=True, kw_only=True)
class Graph:
    guid: Guid
    name: str | None = None
    vertices: tuple[Vertex, ...] = ()
    edges: tuple[Edge, ...] = ()
    loc: str | None = _loc()


# --------------------------------------------------------------------------- project


@dataclass(slots=True, kw_only=True)
class Provenance:
    """What a reader learnt about the file (never part of equality).

    ``fmt``: format id (``qdpx``, ``qde``, ``qdc``, ...). ``position_unit``: the unit the
    producer used for text positions (``codepoint``, ``utf16``, ``codepoint-lf``).
    ``quirks``: short labels of docs/quirks.md §6 quirks met. ``issues``: reading issues.
    ``code_counts``: usage counts the file itself reported per code (NVivo Codebook.docx
    "Files"/"References", docs/nvivo-exports.md §b.1), for inputs that hold codes but no codings.
    """

    fmt: str
    position_unit: str | None = None
    quirks: tuple[str, ...] = ()
    issues: tuple[Issue, ...] = ()
    code_counts: tuple[CodeCount, ...] = ()


@dataclass(frozen=True, slots=True)
class CodeCount:
    """Counts a producer reported for a code; ``None`` when the export left them out."""

    code: Guid
    files: int | None = None
    references: int | None = None


@dataclass(slots=True, kw_only=True)
class Project:
    """A REFI project (``Project`` root) or a codebook (``CodeBook`` root, ``is_codebook``).

    A codebook has only ``origin``, ``codes`` and ``sets`` (whose members are codes).
    """

    name: str = ""
    origin: str | None = None
    creating_user: Guid | None = None
    creation_datetime: str | None = None
    modifying_user: Guid | None = None
    modified_datetime: str | None = None
    base_path: str | None = None
    users: tuple[User, ...] = ()
    codes: tuple[Code, ...] = ()
    variables: tuple[Variable, ...] = ()
    cases: tuple[Case, ...] = ()
    sources: tuple[Source, ...] = ()
    notes: tuple[TextSource, ...] = ()
    links: tuple[Link, ...] = ()
    sets: tuple[Set, ...] = ()
    graphs: tuple[Graph, ...] = ()
    description: str | None = None
    note_refs: tuple[Guid, ...] = ()
    # Which root the file had (CodeBook or Project): the container, not the content. A codebook
    # written as a .qdpx holds the same codes and sets and must read back equal, so
    # like ``provenance`` it takes no part in equality; ``qdx diff`` still reports it.
    is_codebook: bool = field(default=False, compare=False)
    provenance: Provenance | None = field(default=None, compare=False, repr=False)


