"""Paths, format detection and atomic writes: the only layer of the library that touches files.

>>> import qdx
>>> project = qdx.read("fixtures/wechat-moments/project.qdpx")   # doctest: +SKIP
>>> qdx.write(project, "copy.qdpx", dialect="nvivo")              # doctest: +SKIP
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from qdx.errors import FormatError, ReadError, UnsafeInputError, UsageError
from qdx.formats import Dialect, Format, ReadOptions, WriteOptions, by_id, iter_formats, registry
from qdx.model import Project
from qdx.safety import DEFAULT_LIMITS, Limits, atomic_write, open_input, read_capped

PathLike = str | os.PathLike[str]
HEAD_SIZE = 4096
MAX_TREE_FILES = 10_000
# A folder of exports is read into memory: cap each file and the total so a stray huge file
# (or a sparse 1 GB "export") is refused before it is loaded.
MAX_TREE_FILE_BYTES = 256 << 20
MAX_TREE_BYTES = 1 << 30
# An input that cannot seek (a pipe, /dev/stdin) is buffered whole: at most this much.
MAX_STREAM_BYTES = 256 << 20


def detect(head: bytes, name: str = "") -> Format:
    """The format whose ``sniff`` accepts ``head`` (content first, then the extension).

    Raises:
        FormatError: no registered format recognises the input.
    """
    for fmt in iter_formats():  # a REFI file never imports the other formats' readers
        if fmt.sniff(head, name):
            return fmt
    suffix = Path(name).suffix.lower().lstrip(".")
    for fmt in registry():
        if suffix and suffix in fmt.extensions and fmt.reader is not None:
            return fmt
    raise FormatError("unrecognised file format", location=name or None)


def read(
    source: PathLike | BinaryIO,
    *,
    fmt: str | None = None,
    unit: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
    progress: Callable[[int, int], None] | None = None,
) -> Project:
    """Read a project or codebook from a path, a folder (NVivo exports) or a binary stream.

    Args:
        source: a file path, a folder path, or a binary stream.
        fmt: force a format id (``qdpx``, ``qde``, ``qdc``, ...) instead of detecting it.
        unit: force the producer's text-position unit (``codepoint``, ``utf16``, ``codepoint-lf``).
        limits: safety limits for archives.
        progress: called with (bytes parsed, total bytes) while a large document is read
            (REFI-QDA readers; others may never call it).

    Returns:
        A new :class:`~qdx.model.Project`; reading problems are in ``project.provenance.issues``.

    Raises:
        ReadError: the input cannot be read (missing file, unknown format, hostile input).

    Example:
        >>> p = qdx.read("project.qdpx"); len(p.sources)   # doctest: +SKIP
    """
    if not isinstance(source, str | os.PathLike):
        return _read_stream(source, "<stream>", fmt, ReadOptions(unit=unit, limits=limits, progress=progress))
    path = Path(source)
    return read_path(path, ReadOptions(label=path.name, unit=unit, limits=limits, progress=progress), fmt=fmt)


def read_path(path: Path, options: ReadOptions, *, fmt: str | None = None) -> Project:
    """:func:`read` of a path with every reader option (e.g. ``parsed``, for validation).

    Raises:
        ReadError: as :func:`read`.
    """
    if path.is_dir():
        return _read_tree(path, fmt, options)
    with open_input(path) as stream:  # refuses devices; a FIFO nobody writes to reads as empty
        return _read_stream(stream, path.name, fmt, options)


def _read_stream(stream: BinaryIO, name: str, fmt: str | None, options: ReadOptions) -> Project:
    head = stream.read(HEAD_SIZE)
    if not head:
        raise ReadError("file is empty", location=name)
    chosen = _choose(head, name, fmt)
    if chosen.reader is None:
        raise FormatError(f"format {chosen.id} cannot be read", location=name)
    _check_size(stream, chosen, name)
    if stream.seekable():
        stream.seek(0)
    else:
        cap = min(chosen.max_input_bytes or MAX_STREAM_BYTES, MAX_STREAM_BYTES) - len(head)
        stream = io.BytesIO(head + read_capped(stream, cap, location=name))
    return chosen.reader(stream, options)


def _check_size(stream: BinaryIO, chosen: Format, name: str) -> None:
    """Refuse inputs over the format's cap before reading them (a 1 GB 'text export')."""
    cap = chosen.max_input_bytes
    if cap is None or not stream.seekable():
        return
    size = stream.seek(0, io.SEEK_END)
    if size > cap:
        raise UnsafeInputError(
            f"{chosen.description} of {size:,} bytes exceeds the {cap:,}-byte limit for this format; refused",
            location=name,
        )


def _choose(head: bytes, name: str, fmt: str | None) -> Format:
    if fmt is None:
        return detect(head, name)
    chosen = by_id(fmt)
    if chosen is None:
        raise UsageError(f"unknown format {fmt!r}; known: {', '.join(f.id for f in registry())}")
    return chosen


def _read_tree(path: Path, fmt: str | None, options: ReadOptions) -> Project:
    """Read a folder of exported files (formats with a ``tree_reader``)."""
    files = read_folder(path)
    if not files:
        raise ReadError("folder holds no files", location=str(path))
    candidates = [by_id(fmt)] if fmt else list(registry())
    for candidate in candidates:
        if candidate is not None and candidate.tree_reader is not None:
            if fmt or any(candidate.sniff(data[:HEAD_SIZE], name) for name, data in files.items()):
                return candidate.tree_reader(files, options)
    raise FormatError("no format reads this folder", location=str(path))


def read_folder(path: Path, keep: Callable[[str], bool] | None = None) -> dict[str, bytes]:
    """The regular files under ``path`` (relative POSIX name -> bytes), within the caps for a
    folder of exports: :data:`MAX_TREE_FILES` files, :data:`MAX_TREE_FILE_BYTES` each and
    :data:`MAX_TREE_BYTES` in all, checked before each file is read. Symlinks, FIFOs and
    devices are skipped; ``keep`` (given the relative name) picks the files to read.

    Raises:
        ReadError: too many files, or a file cannot be read.
        UnsafeInputError: a file, or the folder in all, exceeds the caps.
    """
    files: dict[str, bytes] = {}
    total = 0
    for child in sorted(path.rglob("*")):
        name = child.relative_to(path).as_posix()
        if child.is_symlink() or not child.is_file() or (keep is not None and not keep(name)):
            continue
        if len(files) >= MAX_TREE_FILES:
            raise ReadError(f"folder holds more than {MAX_TREE_FILES} files", location=str(path))
        size = child.stat().st_size
        total += size
        if size > MAX_TREE_FILE_BYTES or total > MAX_TREE_BYTES:
            raise UnsafeInputError(
                f"file of {size:,} bytes (folder total {total:,}) exceeds the limits for an export folder",
                location=str(child),
            )
        with open_input(child) as stream:  # capped again: the file may have grown since stat
            files[name] = read_capped(stream, MAX_TREE_FILE_BYTES, location=str(child))
    return files


def read_file(path: Path, cap: int = MAX_TREE_FILE_BYTES) -> bytes:
    """The bytes of one input file, at most ``cap`` (devices refused, as :func:`read`).

    Raises:
        ReadError: missing or unreadable.
        UnsafeInputError: not a file, or larger than ``cap``.
    """
    with open_input(path) as stream:
        return read_capped(stream, cap, location=str(path))


def write(
    project: Project,
    target: PathLike | BinaryIO,
    *,
    fmt: str | None = None,
    dialect: Dialect = "refi",
) -> None:
    """Write ``project`` to a path (atomically: temp file + rename) or a binary stream.

    Args:
        project: what to write.
        target: a path or a binary stream.
        fmt: format id; by default taken from the path's extension.
        dialect: ``refi`` (the spec: code points) or ``nvivo`` (UTF-16 units over CRLF text).

    Raises:
        UsageError: the format cannot be chosen or cannot be written.
        WriteError: the file could not be written; any previous file is intact.
    """
    name = "" if not isinstance(target, str | os.PathLike) else os.fspath(target)
    chosen = _writer_for(fmt, name)
    assert chosen.writer is not None
    writer = chosen.writer
    options = WriteOptions(dialect=dialect)
    if isinstance(target, str | os.PathLike):
        atomic_write(target, lambda stream: writer(project, stream, options))
    else:
        writer(project, target, options)


def _writer_for(fmt: str | None, name: str) -> Format:
    wanted = fmt or Path(name).suffix.lower().lstrip(".")
    if not wanted:
        raise UsageError("cannot tell the output format; give a file extension or fmt=")
    for candidate in registry():
        if candidate.writer is not None and (candidate.id == wanted or wanted in candidate.extensions):
            return candidate
    raise UsageError(f"qdx cannot write format {wanted!r}")
