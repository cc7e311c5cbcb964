"""Paths, format detection and atomic writes: the only layer of the library that touches files.

>>> import qdx
>>> project = qdx.read("fixtures/wechat-moments/project.qdpx")   # doctest: +SKIP
>>> qdx.write(project, "copy.qdpx", dialect="nvivo")              # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import BinaryIO

from qdx.errors import FormatError, ReadError, UnsafeInputError, UsageError
from qdx.formats import Dialect, Format, Newline, ReadOptions, WriteOptions, by_id, iter_formats, registry
from qdx.model import Project
from qdx.options import ByteProgress, PositionUnit
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
    unit: PositionUnit | None = None,
    limits: Limits = DEFAULT_LIMITS,
    progress: ByteProgress | None = None,
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


def read_bytes(data: bytes, options: ReadOptions, *, fmt: str | None = None) -> Project:
    """:func:`read` of a file's bytes already in memory, named ``options.label`` in locations
    (validation reads a file once and builds its model from the same bytes).

    Raises:
        ReadError: as :func:`read`.
    """
    return _read_stream(io.BytesIO(data), options.label, fmt, options)


def read_path(path: Path, options: ReadOptions, *, fmt: str | None = None) -> Project:
    """:func:`read` of a path with every reader option.

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
    verify: Callable[[Path], None] | None = None,
    newline: Newline = "lf",
) -> None:
    """Write ``project`` to a path (atomically: temp file + rename) or a binary stream.

    This is the bare writer; ``qdx.write`` (:func:`qdx.validation.output.write`) adds the
    check of the output, which needs the validation layer above this one.

    Args:
        project: what to write.
        target: a path or a binary stream.
        fmt: format id; by default taken from the path's extension.
        dialect: ``refi`` (the spec: code points) or ``nvivo`` (UTF-16 units over CRLF text).
        verify: called with the finished output file before it replaces the target (a stream
            target gets the bytes only once it passed); whatever it raises leaves the target as
            it was.
        newline: ``lf`` (default): in the ``refi`` dialect, CRLF/CR texts are written with LF
            and positions remapped, so text-mode readers such as QualCoder place every passage
            exactly; ``keep``: the text as held (then ``read(write(p)) == p`` for CRLF texts too).

    Raises:
        UsageError: the format cannot be chosen or cannot be written.
        WriteError: the file could not be written; any previous file is intact.
    """
    name = "" if not isinstance(target, str | os.PathLike) else os.fspath(target)
    chosen = output_format(fmt, name)
    assert chosen.writer is not None
    writer = chosen.writer
    if newline not in ("lf", "keep"):
        raise UsageError(f"unknown newline mode {newline!r}; use lf or keep")
    options = WriteOptions(dialect=dialect, newline=newline)
    if isinstance(target, str | os.PathLike):
        atomic_write(target, lambda stream: writer(project, stream, options), verify=verify)
    elif verify is None:
        writer(project, target, options)
    else:
        _write_checked_stream(project, target, chosen, options, verify)


def _write_checked_stream(
    project: Project, target: BinaryIO, chosen: Format, options: WriteOptions, verify: Callable[[Path], None]
) -> None:
    """Write to a temporary file, verify it, then copy it to the stream."""
    import shutil
    import tempfile

    assert chosen.writer is not None
    with tempfile.TemporaryDirectory(prefix="qdx-check-") as folder:
        path = Path(folder) / f"output.{chosen.extensions[0] if chosen.extensions else chosen.id}"
        with path.open("wb") as stream:
            chosen.writer(project, stream, options)
        verify(path)
        with path.open("rb") as stream:
            shutil.copyfileobj(stream, target)


def output_format(fmt: str | None, name: str) -> Format:
    """The format to write: ``fmt``, else the one the file name's extension names.

    Raises:
        UsageError: neither names a format qdx can write.
    """
    wanted = fmt or Path(name).suffix.lower().lstrip(".")
    if not wanted:
        raise UsageError("cannot tell the output format; give a file extension or fmt=")
    for candidate in registry():
        if candidate.writer is not None and (candidate.id == wanted or wanted in candidate.extensions):
            return candidate
    raise UsageError(f"qdx cannot write format {wanted!r}")


# A folder given to `qdx export ... --to parquet` is a folder of projects when it holds any of these
# (REFI-QDA projects, REFI §2); otherwise it is one project itself (an NVivo export folder).
PROJECT_SUFFIXES = (".qdpx", ".qde")
_HASH_CHUNK = 1 << 20


def find_projects(paths: Sequence[PathLike]) -> list[Path]:
    """The projects named by ``paths``: a file is itself; a folder holding ``.qdpx``/``.qde`` files
    (at any depth) is those files in path order; a folder holding none is one project (an NVivo
    export folder). Hidden files and symbolic links inside folders are skipped; a project named
    twice is listed once. A path that does not exist is listed as it is: reading it fails, as
    one project among the others.
    """
    found: list[Path] = []
    seen: set[Path] = set()
    for given in paths:
        path = Path(given)
        members = _projects_in(path) if path.is_dir() else []
        for member in members or [path]:
            key = member.resolve()
            if key not in seen:
                seen.add(key)
                found.append(member)
    return found


def _projects_in(folder: Path) -> list[Path]:
    return sorted(
        child for child in folder.rglob("*")
        if child.suffix.lower() in PROJECT_SUFFIXES and child.is_file() and not child.is_symlink()
        and not any(part.startswith(".") for part in child.relative_to(folder).parts)
    )


def content_hash(path: PathLike) -> str:
    """SHA-256 of a file's bytes, or of a folder's file names and bytes (in name order), in hex:
    what an incremental export compares to tell a changed project from an unchanged one.

    Raises:
        ReadError: the path cannot be read.
    """
    root = Path(path)
    digest = hashlib.sha256()
    try:
        files = [root] if not root.is_dir() else sorted(
            child for child in root.rglob("*") if child.is_file() and not child.is_symlink())
        for file in files:
            if file is not root:
                name = file.relative_to(root).as_posix().encode("utf-8")
                digest.update(len(name).to_bytes(8, "big") + name + file.stat().st_size.to_bytes(8, "big"))
            with file.open("rb") as stream:
                while chunk := stream.read(_HASH_CHUNK):
                    digest.update(chunk)
    except OSError as exc:
        raise ReadError(f"cannot read ({exc.strerror or exc})", location=str(path)) from exc
    return digest.hexdigest()
