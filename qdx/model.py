"""The typed in-memory model of a REFI-QDA 1.0 project or codebook.

One record per element of ``Project-mrt2019.xsd`` / ``Codebook-mrt2019.xsd`` (REFI-QDA 1.0,
spec §5.2–5.3); REFI's camelCase attributes are snake_case here (``startPosition`` →
``start``). Records are plain data: treat them as immutable and build new ones with
:func:`dataclasses.replace`. Collections are tuples; derived look-ups live in
:class:`ProjectIndex`, never on the records.

Conventions that every reader and writer keeps:

* **GUIDs** are :class:`Guid`, a ``str`` that compares and hashes case- and
  brace-insensitively (REFI GUIDType allows ``{...}`` and either case, docs/quirks.md §2) while
  keeping its original spelling for a byte-faithful round trip.
* **Text positions** of :class:`TextSelection` are ``[start, end)`` in Unicode code points over
  ``TextDoc.text`` exactly as the model holds it (REFI §10.2 counts code points; the end is
  exclusive as in every real file, docs/quirks.md §5.1). Readers convert from a producer's unit
  (NVivo: UTF-16 units) and writers convert back.
* **Embedded files** (``sources/`` members other than decoded plain text) are :class:`Blob`
  values on the element that references them; writers name them ``<guid>.<ext>`` (REFI §8.3).
  A path the reader could not resolve (external, or missing) is kept verbatim in ``*_path``.
* ``loc`` (where a record came from, e.g. ``project.qde:412``), ``Project.provenance`` and
  ``Project.is_codebook`` (the root element) never take part in equality, so
  ``read(write(p)) == p`` compares content only, across formats too (a ``.qdc`` written as a
  ``.qdpx`` reads back equal).
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass, field

from qdx.errors import Issue


class Guid(str):
    """A REFI GUID: equal to another GUID whatever its case or braces; keeps its spelling."""

    __slots__ = ()

    @property
    def key(self) -> str:
        """The canonical form: lower case, no braces."""
        return self.strip("{}").lower()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            return self.strip("{}").lower() == other.strip("{}").lower()
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    def __hash__(self) -> int:
        return hash(self.strip("{}").lower())


def guid_key(value: str) -> str:
    """Canonical form of any GUID spelling (lower case, braces removed)."""
    return value.strip("{}").lower()


def _loc() -> str | None:
    return field(default=None, compare=False, repr=False)


class VariableType(enum.Enum):
    """``typeOfVariable`` (REFI §3.6)."""

    TEXT = "Text"
    BOOLEAN = "Boolean"
    INTEGER = "Integer"
    FLOAT = "Float"
    DATE = "Date"
    DATETIME = "DateTime"


class Direction(enum.Enum):
    """``direction`` of a Link or Edge."""

    ASSOCIATIVE = "Associative"
    ONE_WAY = "OneWay"
    BIDIRECTIONAL = "Bidirectional"


class Shape(enum.Enum):
    """``shape`` of a graph Vertex."""

    PERSON = "Person"
    OVAL = "Oval"
    RECTANGLE = "Rectangle"
    ROUNDED_RECTANGLE = "RoundedRectangle"
    STAR = "Star"
    LEFT_TRIANGLE = "LeftTriangle"
    RIGHT_TRIANGLE = "RightTriangle"
    UP_TRIANGLE = "UpTriangle"
    DOWN_TRIANGLE = "DownTriangle"
    NOTE = "Note"


class LineStyle(enum.Enum):
    """``lineStyle`` of a graph Edge."""

    DOTTED = "dotted"
    DASHED = "dashed"
    SOLID = "solid"


@dataclass(frozen=True, slots=True)
class Blob:
    """An embedded file from the ``sources/`` folder: its extension (no dot) and bytes."""

    ext: str
    data: bytes = field(repr=False)


# --------------------------------------------------------------------------- people, codes


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


# --------------------------------------------------------------------------- codings, selections


@dataclass(slots=True, kw_only=True)
class Coding:
    """One code applied to a selection or a whole source (exactly one CodeRef, REFI §3.13)."""

    guid: Guid
    code: Guid
    creating_user: Guid | None = None
    creation_datetime: str | None = None
    note_refs: tuple[Guid, ...] = ()
    loc: str | None = _loc()


@dataclass(slots=True, kw_only=True)
class _Audited:
    creating_user: Guid | None = None
    creation_datetime: str | None = None
    modifying_user: Guid | None = None
    modified_datetime: str | None = None


@dataclass(slots=True, kw_only=True)
class _Selection(_Audited):
    guid: Guid
    name: str | None = None
    description: str | None = None
    codings: tuple[Coding, ...] = ()
    note_refs: tuple[Guid, ...] = ()
    loc: str | None = _loc()


@dataclass(slots=True, kw_only=True)
class TextSelection(_Selection):
    """``PlainTextSelection``: ``[start, end)`` in code points over the owning text."""

    start: int
    end: int


@dataclass(slots=True, kw_only=True)
class PictureSelection(_Selection):
    """Upper-left and lower-right pixel corners in the rotated image (REFI §10.4)."""

    first_x: int
    first_y: int
    second_x: int
    second_y: int


@dataclass(slots=True, kw_only=True)
class PDFSelection(_Selection):
    """A region on a page, PDF points from the bottom-left of the media box (REFI §10.3)."""

    page: int
    first_x: int
    first_y: int
    second_x: int
    second_y: int
    representation: TextSource | None = None


@dataclass(slots=True, kw_only=True)
class AudioSelection(_Selection):
    """``begin``/``end`` in milliseconds (REFI §10.4)."""

    begin: int
    end: int


@dataclass(slots=True, kw_only=True)
class VideoSelection(_Selection):
    """``begin``/``end`` in milliseconds (REFI §10.4)."""

    begin: int
    end: int


@dataclass(slots=True, kw_only=True)
class TranscriptSelection(_Selection):
    from_sync_point: Guid | None = None
    to_sync_point: Guid | None = None


@dataclass(slots=True, kw_only=True)
class SyncPoint:
    """``timeStamp`` in ms; ``position`` in code points of the transcript text (REFI §3.15)."""

    guid: Guid
    time_stamp: int | None = None
    position: int | None = None
    loc: str | None = _loc()


# --------------------------------------------------------------------------- sources


@dataclass(slots=True, kw_only=True)
class TextDoc(_Audited):
    """What every text-bearing element shares (TextSourceType attributes, Transcript).

    ``text`` is the plain text with any BOM removed and line ends as stored; ``None`` when
    the text is absent or unreadable (the reader then reports an Issue).
    ``text_inline`` says it came from / goes to ``PlainTextContent`` rather than a file.
    ``plain_text_path`` is kept only when the reader could not resolve it to ``text``;
    ``rich_text`` holds the embedded ``.docx`` and ``rich_text_path`` an unresolved path.
    """

    guid: Guid
    name: str | None = None
    description: str | None = None
    text: str | None = None
    text_inline: bool = False
    plain_text_path: str | None = None
    rich_text: Blob | None = None
    rich_text_path: str | None = None
    note_refs: tuple[Guid, ...] = ()
    loc: str | None = _loc()


@dataclass(slots=True, kw_only=True)
class TextSource(TextDoc):
    """``TextSource``; the same type serves ``Note``, PDF ``Representation`` and
    PictureSource ``TextDescription`` (all TextSourceType in the XSD)."""

    selections: tuple[TextSelection, ...] = ()
    codings: tuple[Coding, ...] = ()
    variable_values: tuple[VariableValue, ...] = ()


Note = TextSource


@dataclass(slots=True, kw_only=True)
class Transcript(TextDoc):
    sync_points: tuple[SyncPoint, ...] = ()
    selections: tuple[TranscriptSelection, ...] = ()


@dataclass(slots=True, kw_only=True)
class _FileSource(_Audited):
    """Sources whose content is a file (``path``) rather than text."""

    guid: Guid
    name: str | None = None
    description: str | None = None
    blob: Blob | None = None
    path: str | None = None
    current_path: str | None = None
    codings: tuple[Coding, ...] = ()
    note_refs: tuple[Guid, ...] = ()
    variable_values: tuple[VariableValue, ...] = ()
    loc: str | None = _loc()


@dataclass(slots=True, kw_only=True)
class PictureSource(_FileSource):
    text_description: TextSource | None = None
    selections: tuple[PictureSelection, ...] = ()


@dataclass(slots=True, kw_only=True)
class PDFSource(_FileSource):
    selections: tuple[PDFSelection, ...] = ()
    representation: TextSource | None = None


@dataclass(slots=True, kw_only=True)
class AudioSource(_FileSource):
    transcripts: tuple[Transcript, ...] = ()
    selections: tuple[AudioSelection, ...] = ()


@dataclass(slots=True, kw_only=True)
class VideoSource(_FileSource):
    transcripts: tuple[Transcript, ...] = ()
    selections: tuple[VideoSelection, ...] = ()


Source = TextSource | PictureSource | PDFSource | AudioSource | VideoSource
Selection = (
    TextSelection
    | PictureSelection
    | PDFSelection
    | AudioSelection
    | VideoSelection
    | TranscriptSelection
)


# --------------------------------------------------------------------------- links, sets, graphs


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
    # written as a .qdpx holds the same codes and sets and must read back equal (read(write(p)) == p), so
    # like ``provenance`` it takes no part in equality; ``qdx diff`` still reports it.
    is_codebook: bool = field(default=False, compare=False)
    provenance: Provenance | None = field(default=None, compare=False, repr=False)


# --------------------------------------------------------------------------- traversal


def iter_codes(codes: tuple[Code, ...]) -> Iterator[tuple[Code, tuple[Code, ...]]]:
    """Depth-first, pre-order: each code with its ancestors (root first)."""
    stack: list[tuple[Code, tuple[Code, ...]]] = [(c, ()) for c in reversed(codes)]
    while stack:
        code, ancestors = stack.pop()
        yield code, ancestors
        below = (*ancestors, code)
        stack.extend((child, below) for child in reversed(code.children))


def text_docs(source: Source) -> Iterator[TextSource]:
    """The TextSourceType parts of a source that can hold PlainTextSelections."""
    if isinstance(source, TextSource):
        yield source
    elif isinstance(source, PDFSource):
        if source.representation is not None:
            yield source.representation
        for sel in source.selections:
            if sel.representation is not None:
                yield sel.representation
    elif isinstance(source, PictureSource) and source.text_description is not None:
        yield source.text_description


def iter_selections(source: Source) -> Iterator[Selection]:
    """Every selection of a source, of every kind, including nested text selections."""
    if not isinstance(source, TextSource):
        yield from source.selections
    for doc in text_docs(source):
        yield from doc.selections
    if isinstance(source, AudioSource | VideoSource):
        for transcript in source.transcripts:
            yield from transcript.selections


@dataclass(frozen=True, slots=True)
class CodeTree:
    """The code hierarchy as look-ups by GUID: the one place qdx builds it (see :func:`code_tree`).

    Every GUID appears once: the first code with it in pre-order wins, so a parent always comes
    before its child in that order and walking ``parents`` upwards always ends at a root, even
    when a file repeats GUIDs (ATLAS.ti 8.4, quirk 13) or a child repeats its own ancestor's
    GUID (which would make the naive parent map a cycle). The later codes with a GUID already
    seen are kept in ``repeated`` (with their ancestors) so callers can report them.
    """

    codes: dict[Guid, Code]
    parents: dict[Guid, Code | None]
    depth: dict[Guid, int]
    paths: dict[Guid, tuple[str, ...]]
    repeated: tuple[tuple[Code, tuple[Code, ...]], ...]

    def ancestors(self, guid: Guid) -> list[Code]:
        """The ancestors of ``guid``, nearest first (empty for a root or an unknown GUID).

        Bounded by the number of codes, so a corrupted map could never loop.
        """
        out: list[Code] = []
        parent = self.parents.get(guid)
        while parent is not None and len(out) < len(self.codes):
            out.append(parent)
            parent = self.parents.get(parent.guid)
        return out


def code_tree(codes: tuple[Code, ...]) -> CodeTree:
    """The :class:`CodeTree` of ``codes`` (iterative: any depth, any GUID reuse)."""
    by_guid: dict[Guid, Code] = {}
    parents: dict[Guid, Code | None] = {}
    depth: dict[Guid, int] = {}
    paths: dict[Guid, tuple[str, ...]] = {}
    repeated: list[tuple[Code, tuple[Code, ...]]] = []
    for code, ancestors in iter_codes(codes):
        if code.guid in by_guid:
            repeated.append((code, ancestors))
            continue
        by_guid[code.guid] = code
        parents[code.guid] = ancestors[-1] if ancestors else None
        depth[code.guid] = len(ancestors)
        paths[code.guid] = (*(a.name for a in ancestors), code.name)
    return CodeTree(codes=by_guid, parents=parents, depth=depth, paths=paths, repeated=tuple(repeated))


class ProjectIndex:
    """Derived look-ups over a project (built once, O(n)); GUID keys are canonical.

    >>> idx = ProjectIndex(project)            # doctest: +SKIP
    >>> idx.code_path(idx.codes[guid])         # ('Core', 'Main', 'Sub', 'Concept')
    """

    def __init__(self, project: Project) -> None:
        self.project = project
        self.tree = code_tree(project.codes)
        self.codes: dict[Guid, Code] = self.tree.codes
        self.parents: dict[Guid, Code | None] = self.tree.parents
        self.depth: dict[Guid, int] = self.tree.depth
        self._paths: dict[Guid, tuple[str, ...]] = self.tree.paths
        self.users: dict[Guid, User] = {u.guid: u for u in project.users}
        self.sources: dict[Guid, Source] = {s.guid: s for s in project.sources}
        self.notes: dict[Guid, TextSource] = {n.guid: n for n in project.notes}
        self.variables: dict[Guid, Variable] = {v.guid: v for v in project.variables}

    def code_path(self, code: Code | Guid) -> tuple[str, ...]:
        """Names from the root down to ``code``."""
        guid = code.guid if isinstance(code, Code) else code
        return self._paths[guid]

    def user_name(self, guid: Guid | None) -> str | None:
        if guid is None:
            return None
        user = self.users.get(guid)
        return user.name if user is not None and user.name is not None else str(guid)
