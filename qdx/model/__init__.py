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

The records live in the modules of this package, one per part of the schema, and every name is
re-exported here (``from qdx.model import Project``):

* :mod:`~qdx.model.values`: :class:`Guid`, the enumerations, :class:`Blob`;
* :mod:`~qdx.model.codes`: users, codes, variables, cases;
* :mod:`~qdx.model.sources`: codings, selections, sources;
* :mod:`~qdx.model.project`: links, sets, graphs and the :class:`Project`;
* :mod:`~qdx.model.index`: walks and derived look-ups (:class:`ProjectIndex`).
"""

from __future__ import annotations

from qdx.model.codes import (
    MAX_CODE_DEPTH,
    PLACEHOLDER_USER_MARK,
    Case,
    Code,
    User,
    ValueKind,
    Variable,
    VariableValue,
    is_placeholder_user,
    placeholder_user_name,
)
from qdx.model.index import CodeTree, ProjectIndex, code_tree, iter_codes, iter_selections, text_docs
from qdx.model.project import CodeCount, Edge, Graph, Link, Project, Provenance, Set, Vertex
from qdx.model.sources import (
    AudioSelection,
    AudioSource,
    Coding,
    Note,
    PDFSelection,
    PDFSource,
    PictureSelection,
    PictureSource,
    Selection,
    Source,
    SyncPoint,
    TextDoc,
    TextSelection,
    TextSource,
    Transcript,
    TranscriptSelection,
    VideoSelection,
    VideoSource,
)
from qdx.model.values import Blob, Direction, Guid, LineStyle, Shape, VariableType, guid_key

__all__ = [
    "MAX_CODE_DEPTH",
    "PLACEHOLDER_USER_MARK",
    "AudioSelection",
    "AudioSource",
    "Blob",
    "Case",
    "Code",
    "CodeCount",
    "CodeTree",
    "Coding",
    "Direction",
    "Edge",
    "Graph",
    "Guid",
    "LineStyle",
    "Link",
    "Note",
    "PDFSelection",
    "PDFSource",
    "PictureSelection",
    "PictureSource",
    "Project",
    "ProjectIndex",
    "Provenance",
    "Selection",
    "Set",
    "Shape",
    "Source",
    "SyncPoint",
    "TextDoc",
    "TextSelection",
    "TextSource",
    "Transcript",
    "TranscriptSelection",
    "User",
    "ValueKind",
    "Variable",
    "VariableType",
    "VariableValue",
    "Vertex",
    "VideoSelection",
    "VideoSource",
    "code_tree",
    "guid_key",
    "is_placeholder_user",
    "iter_codes",
    "iter_selections",
    "placeholder_user_name",
    "text_docs",
]
