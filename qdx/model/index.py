"""Walks over the model and derived look-ups (:class:`CodeTree`, :class:`ProjectIndex`), built
from the records and never stored on them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from qdx.model.codes import Code, User, Variable
from qdx.model.project import Project
from qdx.model.sources import (
    AudioSource,
    PDFSource,
    PictureSource,
    Selection,
    Source,
    TextSource,
    VideoSource,
)
from qdx.model.values import Guid


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
