"""The format registry: one :class:`Format` record per file format.

Each format package (``qdx.formats.refi``, ``qdx.formats.nvivo``) exposes ``FORMATS``, a tuple
of records. A record names the format, its extensions, a ``sniff`` over the first bytes, and
its reader and writer. Readers take a binary stream and return a new Project; writers take a
Project and a binary stream. Neither knows about paths (api.py does). Packages are imported
only when the registry is first used, so ``qdx --help`` stays fast.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, BinaryIO

from qdx.model import Project
from qdx.options import ByteProgress, Dialect, Newline, PositionUnit
from qdx.safety import DEFAULT_LIMITS, Limits

if TYPE_CHECKING:
    from lxml import etree

__all__ = ["Dialect", "Newline"]  # defined in qdx.options, re-exported for the writers


@dataclass(frozen=True, slots=True)
class ParsedDocument:
    """An XML document a caller has parsed already: ``name`` (the input's label, or the
    archive member), its ``data`` and its ``root``. Validation hands it to the REFI readers
    so a 50 MB project is parsed once; readers of other formats ignore it."""

    name: str
    data: bytes
    root: etree._Element


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadOptions:
    """What every reader may be told.

    ``label``: how to name the input in locations (e.g. ``project.qdpx``). ``unit``: force the
    producer's text-position unit (``codepoint``, ``utf16``, ``codepoint-lf``) instead of
    detecting it. ``progress``: called with (done, total) on long reads. ``parsed``: the XML
    document the reader would parse, parsed already by the caller (:class:`ParsedDocument`).
    """

    label: str = "<input>"
    limits: Limits = DEFAULT_LIMITS
    unit: PositionUnit | None = None
    progress: ByteProgress | None = None
    parsed: ParsedDocument | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class WriteOptions:
    """What every writer may be told. ``dialect``: ``refi`` (spec, code points) or ``nvivo``.

    ``newline``: in the ``refi`` dialect, ``lf`` (default) writes CRLF and CR line ends as LF with
    every position remapped, because clients that read texts in text mode (QualCoder, Python's
    universal newlines) fold them and would place passages one character off per line end;
    ``keep`` writes the text's bytes as they are.
    """

    dialect: Dialect = "refi"
    newline: Newline = "lf"
    progress: ByteProgress | None = None


Reader = Callable[[BinaryIO, ReadOptions], Project]
Writer = Callable[[Project, BinaryIO, WriteOptions], None]
# Formats that are a folder of files (NVivo coded-text export folders): name -> bytes.
TreeReader = Callable[[Mapping[str, bytes], ReadOptions], Project]


@dataclass(frozen=True, slots=True, kw_only=True)
class Format:
    """One file format. ``sniff(head, name)`` says whether bytes (and a name) look like it."""

    id: str
    description: str
    extensions: tuple[str, ...]
    sniff: Callable[[bytes, str], bool]
    reader: Reader | None = None
    writer: Writer | None = None
    tree_reader: TreeReader | None = None
    priority: int = field(default=0)
    # Inputs of this format larger than this are refused before reading (None: no cap).
    # Line-oriented text exports have no reason to reach hundreds of MB; a 1 GB line is an attack.
    max_input_bytes: int | None = None


# In sniffing order: every format of a package has a higher priority than those of the
# packages after it, so a REFI file is recognised without importing the NVivo readers
# (tested: iter_formats() and registry() agree).
_PACKAGES = ("qdx.formats.refi", "qdx.formats.nvivo")


@cache
def _package_formats(name: str) -> tuple[Format, ...]:
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:  # a real missing dependency inside the package
            raise
        return ()
    return tuple(sorted(getattr(module, "FORMATS", ()), key=lambda f: -f.priority))


def iter_formats() -> Iterator[Format]:
    """The formats in :func:`registry` order, importing each package only when reached."""
    for name in _PACKAGES:
        yield from _package_formats(name)


@cache
def registry() -> tuple[Format, ...]:
    """All formats, highest sniff priority first."""
    return tuple(sorted(iter_formats(), key=lambda f: -f.priority))


def by_id(fmt: str) -> Format | None:
    return next((f for f in registry() if f.id == fmt), None)
