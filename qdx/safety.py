"""Safe-by-construction primitives for untrusted input and for writing output.

* XML: no DTD, no entities, no network (REFI-QDA never needs a DOCTYPE, so one is refused).
* ZIP: member names never become filesystem paths here; names that would escape a folder
  (``../``, absolute, drive letters, backslashes) are refused; members are read with a hard
  size cap while inflating, so a forged header cannot get past the limit.
* Output: :func:`atomic_write` writes a temporary file in the target folder and renames it
  only when complete, so a failure leaves the previous file intact and no stray file.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import lzma
import os
import re
import shutil
import signal
import stat
import tempfile
import threading
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, TypeVar, cast

from lxml import etree

from qdx.errors import ReadError, UnsafeInputError, WriteError

_T = TypeVar("_T")

GIB = 1 << 30


@dataclass(frozen=True, slots=True)
class Limits:
    """Refusal thresholds; raise them with ``--max-member-size`` / ``--max-ratio``."""

    max_member_size: int = 2 * GIB
    max_ratio: float = 1000.0
    max_entries: int = 50_000
    # Small members compress extremely well when they are repetitive XML; the ratio test only
    # starts to matter past this size.
    ratio_floor: int = 1 << 20
    # What one archive may inflate in all, every read of every member counted: a member read
    # for thousands of sources, or overlapping entries, must not multiply the work. Up to this
    # much is always allowed; past it, at most archive_ratio times the archive's size.
    archive_floor: int = 16 << 20

    @property
    def archive_ratio(self) -> float:
        """The whole archive's ratio: a tenth of the per-member one (100:1 by default), so a
        small archive of many members each just under the per-member limits cannot reach
        gigabytes; ``--max-ratio`` raises both."""
        return self.max_ratio / 10

    def archive_budget(self, archive_size: int) -> int:
        """Bytes all reads of an archive of ``archive_size`` bytes may inflate in all."""
        by_ratio = self.archive_ratio * max(archive_size, 1)
        return int(min(2 * self.max_member_size, max(self.archive_floor, by_ratio)))


DEFAULT_LIMITS = Limits()


def open_input(path: str | os.PathLike[str]) -> BinaryIO:
    """Open an input file for reading, refusing anything that is not a regular file or a pipe.

    A FIFO is opened without blocking, so one nobody writes to reads as empty instead of
    hanging the command; a device (``/dev/zero``, also through a symlink) is refused, since
    it would feed bytes without end. A pipe (``/dev/stdin`` from ``cat x |``) is returned
    unseekable, and the readers take at most a bounded amount from it.

    Raises:
        ReadError: missing, unreadable, a folder, or not a regular file or pipe.
    """
    where = str(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError as exc:
        raise ReadError("no such file", location=where) from exc
    except PermissionError as exc:
        raise ReadError("permission denied", location=where) from exc
    except IsADirectoryError as exc:
        raise ReadError("is a directory", location=where) from exc
    except OSError as exc:
        raise ReadError(f"cannot read ({exc.strerror or exc})", location=where) from exc
    kind = os.fstat(fd).st_mode
    if not (stat.S_ISREG(kind) or stat.S_ISFIFO(kind)):
        os.close(fd)
        what = "a device" if stat.S_ISCHR(kind) or stat.S_ISBLK(kind) else "not a regular file"
        raise UnsafeInputError(f"input is {what}, not a file; refused", location=where)
    if hasattr(os, "set_blocking"):
        os.set_blocking(fd, True)  # once open, a pipe with a writer is read as usual
    return cast(BinaryIO, os.fdopen(fd, "rb"))


def read_capped(stream: BinaryIO, cap: int, *, location: str, hint: str | None = None) -> bytes:
    """At most ``cap`` bytes of ``stream``; more is refused (for pipes and whole-file reads).

    Raises:
        UnsafeInputError: the stream holds more than ``cap`` bytes.
    """
    chunks: list[bytes] = []
    size = 0
    while chunk := stream.read(min(1 << 20, cap + 1 - size)):
        chunks.append(chunk)
        size += len(chunk)
        if size > cap:
            raise UnsafeInputError(
                f"input is larger than {cap:,} bytes; refused" + (f" (raise it with {hint})" if hint else ""),
                location=location,
            )
    return b"".join(chunks)


def xml_parser(*, huge: bool = False, collect_ids: bool = True) -> etree.XMLParser:
    """An lxml parser that resolves no entity, loads no DTD and never touches the network."""
    return etree.XMLParser(
        collect_ids=collect_ids,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=huge,
        remove_blank_text=False,
    )


def check_no_doctype(head: bytes, *, location: str | None = None, whole: bool = False) -> None:
    """Refuse documents that declare a DTD or entities (XXE, billion laughs): in the first
    64 KB, or anywhere with ``whole`` (for parts a parser of another library will read)."""
    probe = head if whole else head[:65536]
    for marker in (b"<!DOCTYPE", b"<!ENTITY", b"<\x00!\x00D\x00O\x00C\x00T\x00Y\x00P\x00E\x00"):
        if marker in probe:
            raise UnsafeInputError(
                "document declares a DTD or entities, which REFI-QDA never needs; refused",
                location=location,
            )


def check_parsed_no_doctype(tree: etree._ElementTree, *, location: str | None = None) -> None:
    """Refuse a parsed document that declares a DTD anywhere.

    :func:`check_no_doctype` sees only the first 64 KB of the bytes as they are: a DOCTYPE
    after a 70 KB comment, or spelled in UTF-32 or UTF-7, gets past it. The parser, which
    decoded the whole prolog, records any DOCTYPE; every reader and validate ask it here.
    """
    info = tree.docinfo
    if getattr(info, "doctype", "") or info.internalDTD is not None:
        raise UnsafeInputError(
            "document declares a DTD or entities, which REFI-QDA never needs; refused", location=location
        )


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def printable(name: str) -> str:
    """``name`` with control characters shown as ``\\xNN``, fit for a one-line location."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", name)


def safe_member_name(name: str) -> bool:
    """True when a zip member name stays inside the archive's root."""
    if not name or "\x00" in name or "\\" in name:
        return False
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return False
    return ".." not in name.split("/")


# What a damaged member can raise while inflating: zipfile's own errors, and the raw errors of
# the decompressors (zlib.error for deflate, LZMAError when the method field says LZMA),
# which zipfile passes through unwrapped (found by scripts/fuzz.py).
_INFLATE_ERRORS = (
    zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, zlib.error, lzma.LZMAError,
)


# The methods REFI-QDA archives (REFI §8) and Office files use. zipfile also inflates bzip2
# and LZMA, but in one call per compressed chunk with no output bound: 2 KB of bzip2 reached
# 4.5 GB before any limit was checked. No producer writes them, so they are refused.
_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate"}
_METHOD_NAMES = {zipfile.ZIP_BZIP2: "bzip2", zipfile.ZIP_LZMA: "LZMA", 9: "deflate64"}
_LOCAL_HEADER_SIZE = 30


class SafeZip:
    """A read-only view of a zip archive that enforces :class:`Limits` on every member and
    on the archive as a whole (every read counted against :meth:`Limits.archive_budget`)."""

    def __init__(self, stream: BinaryIO, *, limits: Limits = DEFAULT_LIMITS, label: str = "archive"):
        self.limits = limits
        self.label = label
        try:
            self._zip = zipfile.ZipFile(stream)
            infos = self._zip.infolist()
            size = stream.seek(0, io.SEEK_END)
        except _INFLATE_ERRORS as exc:  # NotImplementedError: "zip file version 8.4" (fuzzing)
            raise ReadError(f"not a readable zip archive ({exc})", location=label) from exc
        self.budget = limits.archive_budget(size)
        self.inflated = 0  # bytes inflated so far by every read of every member
        if len(infos) > limits.max_entries:
            raise UnsafeInputError(
                f"zip has {len(infos)} entries, more than the limit of {limits.max_entries}",
                location=label,
            )
        self.infos: list[zipfile.ZipInfo] = []
        for info in infos:
            self._check(info)
            self.infos.append(info)
        self._check_overlap()
        # name -> first entry of that name; an archive with thousands of sources must not
        # cost O(n) per read.
        self._by_name = {i.filename: i for i in reversed(self.infos)}

    def _check(self, info: zipfile.ZipInfo) -> None:
        where = f"{self.label}!{printable(info.filename)}"
        if _CONTROL.search(info.filename):
            # No producer writes them; echoed in a message they would break the one-line
            # error contract (a newline in a name was found by scripts/fuzz.py).
            raise UnsafeInputError("zip entry name contains control characters; refused", location=where)
        if not safe_member_name(info.filename):
            raise UnsafeInputError("zip entry name escapes the archive (zip slip); refused", location=where)
        if info.flag_bits & 0x1:
            raise UnsafeInputError("zip entry is encrypted; refused", location=where)
        mode = (info.external_attr >> 16) & 0o170000
        if mode == 0o120000:
            raise UnsafeInputError("zip entry is a symbolic link; refused", location=where)
        if info.compress_type not in _METHODS:
            method = _METHOD_NAMES.get(info.compress_type, f"method {info.compress_type}")
            raise UnsafeInputError(
                f"zip entry is compressed with {method}; REFI-QDA and Office archives use only"
                " stored or deflate entries; refused",
                location=where,
            )
        self._check_size(info.file_size, info.compress_size, where)

    def _check_overlap(self) -> None:
        """Refuse entries whose bytes overlap another's (Fifield's non-recursive zip bomb:
        many entries share one deflate stream, so 18 KB can expand to gigabytes).

        Each entry owns at least its local header, its name and its compressed bytes, from
        its header offset on; sorted by offset, the next entry must start after that, and
        the last before the central directory.
        """
        entries = sorted(self.infos, key=lambda i: i.header_offset)
        directory = getattr(self._zip, "start_dir", None)
        for index, info in enumerate(entries):
            name = len(info.orig_filename.encode("utf-8" if info.flag_bits & 0x800 else "cp437", "replace"))
            end = info.header_offset + _LOCAL_HEADER_SIZE + name + info.compress_size
            following = entries[index + 1].header_offset if index + 1 < len(entries) else directory
            if following is not None and end > following:
                raise UnsafeInputError(
                    "zip entries overlap (one compressed stream shared by several entries: a zip"
                    " bomb); refused",
                    location=f"{self.label}!{printable(info.filename)}",
                )

    def _count(self, count: int, where: str) -> None:
        """Add ``count`` inflated bytes to the archive's total; refuse past its budget."""
        self.inflated += count
        if self.inflated > self.budget:
            raise UnsafeInputError(
                f"archive inflates to more than {self.budget:,} bytes in all (every read of every"
                f" member counted; {self.limits.archive_ratio:.0f}:1 over its size past"
                f" {self.limits.archive_floor >> 20} MiB; zip bomb?; raise it with --max-ratio"
                " or --max-member-size)",
                location=where,
            )

    def _check_size(self, size: int, packed: int, where: str) -> None:
        if size > self.limits.max_member_size:
            raise UnsafeInputError(
                f"zip entry inflates to {size} bytes, over the limit of {self.limits.max_member_size}"
                " (raise it with --max-member-size)",
                location=where,
            )
        if size > self.limits.ratio_floor and size > self.limits.max_ratio * max(packed, 1):
            raise UnsafeInputError(
                f"zip entry compression ratio {size / max(packed, 1):.0f}:1 exceeds"
                f" {self.limits.max_ratio:.0f}:1 (zip bomb?; raise it with --max-ratio)",
                location=where,
            )

    def names(self) -> list[str]:
        return [i.filename for i in self.infos]

    def read(self, name: str) -> bytes:
        """Read one member, counting inflated bytes so a lying header cannot pass the cap."""
        with self.open(name) as member:
            chunks = []
            while chunk := member.read(1 << 20):
                chunks.append(chunk)
        return b"".join(chunks)

    def open(self, name: str) -> MemberStream:
        """One member as a seekable stream that enforces the same limits as :meth:`read`,
        for documents parsed as they inflate (a 443 MB project.qde is never whole in memory)."""
        info = self._by_name.get(name)
        if info is None:
            raise ReadError(f"no entry {name!r} in the archive", location=self.label)
        return MemberStream(self, info)

    def close(self) -> None:
        self._zip.close()


class MemberStream(io.RawIOBase):
    """A zip member read by :meth:`SafeZip.open`: inflated bytes are counted against the
    limits as they come (a lying header cannot pass the cap), inflate errors become
    :class:`ReadError`, and ``seek`` rewinds by inflating again from the start."""

    def __init__(self, archive: SafeZip, info: zipfile.ZipInfo) -> None:
        super().__init__()
        self._archive, self._info = archive, info
        self._where = f"{archive.label}!{printable(info.filename)}"
        self.size = info.file_size  # as the header declares it (for progress bars only)
        self._member = self._inflate(lambda: cast(zipfile.ZipExtFile, archive._zip.open(info)))
        self._done = 0

    def _inflate(self, step: Callable[[], _T]) -> _T:
        try:
            return step()
        except _INFLATE_ERRORS as exc:
            raise ReadError(f"zip entry cannot be read ({exc})", location=self._where) from exc

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        count = self._inflate(lambda: self._member.readinto(buffer))
        self._done += count
        self._archive._check_size(self._done, self._info.compress_size, self._where)
        self._archive._count(count, self._where)
        return count

    def tell(self) -> int:
        return self._done

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        target = offset if whence == io.SEEK_SET else self._done + offset if whence == io.SEEK_CUR else -1
        if target < 0:
            raise OSError("a zip member stream seeks from its start or its position only")
        if target < self._done:
            self._member.close()
            self._member = self._inflate(lambda: cast(zipfile.ZipExtFile, self._archive._zip.open(self._info)))
            self._done = 0
        while self._done < target and self.read(min(target - self._done, 1 << 20)):
            pass
        return self._done

    def close(self) -> None:
        self._member.close()
        super().close()


# Temporary files are named ``.<target name>.qdx-<pid>-<random>.tmp`` so a later write of the
# same target can recognise the ones a killed process (SIGKILL, power loss) left behind. A long
# target name is replaced by a hash of it (see _temp_stem), so the temporary name always fits
# the file system's NAME_MAX (255 bytes) when the target's name does.
TMP_PREFIX = ".{name}.qdx-"
TMP_SUFFIX = ".tmp"
_TMP_NAME_BYTES = 100


def _temp_stem(name: str) -> str:
    if len(os.fsencode(name)) <= _TMP_NAME_BYTES:
        return name
    return "~" + hashlib.sha256(os.fsencode(name)).hexdigest()[:24]


@dataclass(frozen=True, slots=True)
class OutputPlan:
    """How :func:`atomic_write` writes a target: the decision of :func:`output_plan`.

    ``path`` is the file itself (a symbolic link is followed, like ``cp`` and ``open`` do, so the
    link stays a link); ``replace`` is True for a regular or new file (temp file + rename) and
    False for an existing character device or FIFO, which is written into and never replaced.
    """

    path: Path
    replace: bool


def output_plan(path: str | os.PathLike[str]) -> OutputPlan:
    """Decide how ``path`` may be written; only looks (``lstat``/``stat``), never writes.

    The one output-path policy of qdx (every writer goes through :func:`atomic_write` or
    :func:`atomic_folder`):

    * a new or regular file is replaced atomically (temp file + rename);
    * a character device (``/dev/null``, a terminal) or FIFO is written *into*: renaming a file
      over it would turn ``/dev/null`` into a regular file for the whole system;
    * a symbolic link is followed and the policy applies to what it names, so the link itself
      is never replaced; a link in a shared sticky folder (``/tmp``) that belongs to someone
      else is not followed (the kernel's ``protected_symlinks`` rule);
    * a write-protected file (no owner write bit, or not writable by us) is refused, as ``cp``
      refuses it, even for root;
    * folders, block devices and sockets are refused.

    Raises:
        WriteError: the target is refused; the message says why.
    """
    target = Path(path)
    where = str(target)
    node = _lstat(target, where)
    if node is not None and stat.S_ISLNK(node.st_mode):
        _check_link(target, node, where)
        plan = _plan_for(target, _stat(target, where), where)  # the kernel follows the link
        # A file is replaced where it really lives, so the link stays a link. A device or FIFO
        # is opened through the link: /dev/stdout -> /proc/self/fd/1 names a pipe no path
        # spells.
        return OutputPlan(Path(os.path.realpath(target)), replace=True) if plan.replace else plan
    return _plan_for(target, node, where)


def _lstat(path: Path, where: str) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise WriteError(f"cannot write ({exc.strerror or exc})", location=where) from exc


def _stat(path: Path, where: str) -> os.stat_result | None:
    try:
        return os.stat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:  # a symlink loop, a folder we may not search
        raise WriteError(f"cannot write ({exc.strerror or exc})", location=where) from exc


def _check_link(link: Path, node: os.stat_result, where: str) -> None:
    """Refuse a link another user planted in a sticky world-writable folder (``/tmp``)."""
    geteuid = getattr(os, "geteuid", None)
    if geteuid is None:
        return
    try:
        folder = os.stat(link.parent if str(link.parent) else ".")
    except OSError:
        return
    shared = folder.st_mode & stat.S_ISVTX and folder.st_mode & stat.S_IWOTH
    if shared and node.st_uid not in (folder.st_uid, geteuid()):
        raise WriteError(
            "is a symbolic link owned by another user in a shared folder; not followed", location=where
        )


def _plan_for(path: Path, node: os.stat_result | None, where: str) -> OutputPlan:
    if node is None:
        return OutputPlan(path, replace=True)
    mode = node.st_mode
    if stat.S_ISREG(mode):
        if not mode & stat.S_IWUSR or not os.access(path, os.W_OK):
            raise WriteError(
                "file is write-protected; not replaced (make it writable or remove it first)", location=where
            )
        return OutputPlan(path, replace=True)
    if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        return OutputPlan(path, replace=False)
    kind = "a folder" if stat.S_ISDIR(mode) else "a block device" if stat.S_ISBLK(mode) else "not a file"
    raise WriteError(f"is {kind}; qdx writes files, character devices and FIFOs only", location=where)


def atomic_write(
    path: str | os.PathLike[str],
    produce: Callable[[BinaryIO], None],
    *,
    verify: Callable[[Path], None] | None = None,
) -> None:
    """Write ``path`` through ``produce(stream)`` atomically (temp file + ``os.replace``).

    ``verify``, when given, is called with the finished temporary file before it replaces the
    target (or is copied into a device); if it raises, the temporary file is removed and the
    target stays as it was (so a writer can refuse an output that would not validate without
    ever exposing it).

    Where and how is decided by :func:`output_plan`: a device or FIFO is written into (after
    ``produce`` has finished, from a spool, so a failure writes nothing), a symbolic link is
    followed, a write-protected file is refused.

    The temporary file lives in the target's folder (a rename never crosses file systems)
    and is removed on any failure, including KeyboardInterrupt/SystemExit and SIGTERM/SIGHUP
    (see :func:`cleanup_on_signals`); only a process killed outright leaves one behind, and
    the next write of the same target removes it. The final file gets the mode a plain
    ``open(path, "w")`` would give: the existing file's mode, or ``0o666 & ~umask`` for a new
    file (mkstemp alone would make it 0600).

    Raises:
        WriteError: the target is refused, its folder is missing or the write failed; the
            previous file is intact and no temporary file is left behind.
    """
    plan = output_plan(path)
    if not plan.replace:
        _write_into(plan.path, produce, str(path), verify)
        return
    target = plan.path
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise WriteError(f"folder {folder} does not exist", location=str(path))
    remove_stale_temps(target)
    with cleanup_on_signals():
        try:
            fd, tmp = tempfile.mkstemp(
                prefix=TMP_PREFIX.format(name=_temp_stem(target.name)) + f"{os.getpid()}-",
                suffix=TMP_SUFFIX,
                dir=folder,
            )
        except OSError as exc:
            raise WriteError(f"cannot write ({exc.strerror or exc})", location=str(path)) from exc
        stream = _WatchedStream(os.fdopen(fd, "wb"))
        try:
            with stream:
                produce(cast(BinaryIO, stream))
                stream.flush()
                os.fsync(stream.fileno())
            if verify is not None:
                verify(Path(tmp))
            os.chmod(tmp, _final_mode(target))
            os.replace(tmp, target)
        except BaseException as exc:
            with _quiet():
                os.unlink(tmp)
            cause = _write_failure(exc, stream)
            if cause is not None:
                raise WriteError(f"cannot write ({cause.strerror or cause})", location=str(path)) from exc
            raise
        finally:
            stream.retire()


def _write_failure(exc: BaseException, stream: _WatchedStream) -> OSError | None:
    """The OS error behind a failed write, however a library wrapped it (openpyxl's lxml
    writer turns ENOSPC into ``SerialisationError: IO_ENOSPC``); None for an interrupt."""
    if isinstance(exc, OSError):
        return exc
    if not isinstance(exc, Exception):
        return None
    if stream.failure is not None:
        return stream.failure
    # openpyxl writes each sheet through lxml into a temporary file of its own; lxml reports
    # that file's write errors as "IO_<errno name>".
    name = str(exc).partition(" ")[0]
    if isinstance(exc, etree.SerialisationError) and name.startswith("IO_"):
        number = getattr(errno, name[3:], None)
        if isinstance(number, int):
            return OSError(number, os.strerror(number))
    return None


class _WatchedStream:
    """A file that remembers the OS error a write met, and that, once retired, swallows what
    a library still writes: openpyxl's half-written zip otherwise tries to finish itself when
    garbage-collected and prints an "Exception ignored" traceback after qdx's one-line error."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw: BinaryIO | None = raw
        self.failure: OSError | None = None
        self._pos = 0  # once retired: where writes would be, so a zip's end record adds up

    def _live(self) -> BinaryIO:
        if self._raw is None:
            raise ValueError("the output is closed")
        return self._raw

    def write(self, data: bytes) -> int:
        if self._raw is None:
            self._pos += len(data)
            return len(data)
        try:
            return self._raw.write(data)
        except OSError as exc:
            self.failure = exc
            raise

    def flush(self) -> None:
        if self._raw is not None and not self._raw.closed:
            try:
                self._raw.flush()
            except OSError as exc:
                self.failure = exc
                raise

    def seek(self, offset: int, whence: int = 0) -> int:
        if self._raw is not None:
            return self._raw.seek(offset, whence)
        self._pos = offset if whence == io.SEEK_SET else self._pos + offset
        return self._pos

    def tell(self) -> int:
        return self._raw.tell() if self._raw is not None else self._pos

    def seekable(self) -> bool:
        return self._raw is not None and self._raw.seekable()

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False

    def fileno(self) -> int:
        return self._live().fileno()

    @property
    def closed(self) -> bool:
        return self._raw is None or self._raw.closed

    def close(self) -> None:
        if self._raw is not None and not self._raw.closed:
            with contextlib.suppress(OSError, ValueError):
                self._pos = self._raw.tell()
            self._raw.close()

    def retire(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.close()
        self._raw = None

    def __enter__(self) -> _WatchedStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _write_into(
    node: Path, produce: Callable[[BinaryIO], None], where: str, verify: Callable[[Path], None] | None = None
) -> None:
    """Write into an existing character device or FIFO, never creating or replacing it.

    ``produce`` writes to a spool first (anonymous, unlinked at once, so nothing is left
    behind even on SIGKILL; a named one in a private folder when ``verify`` must read it): a
    failure half-way, or a refusal by ``verify``, writes nothing into the device.
    """
    try:
        with contextlib.ExitStack() as stack:
            if verify is None:
                spool = stack.enter_context(tempfile.TemporaryFile())
            else:
                named = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="qdx-spool-"))) / node.name
                spool = stack.enter_context(named.open("w+b"))
            produce(cast(BinaryIO, spool))
            spool.flush()
            if verify is not None:
                verify(named)
            spool.seek(0)
            # No O_CREAT: if the node vanished since output_plan looked, nothing is created.
            fd = os.open(node, os.O_WRONLY | getattr(os, "O_NOCTTY", 0))
            with os.fdopen(fd, "wb") as out:
                if not (stat.S_ISCHR(os.fstat(fd).st_mode) or stat.S_ISFIFO(os.fstat(fd).st_mode)):
                    raise WriteError("changed into a regular file while being written; stopped", location=where)
                shutil.copyfileobj(spool, out, 1 << 20)
    except OSError as exc:
        raise WriteError(f"cannot write ({exc.strerror or exc})", location=where) from exc


def atomic_folder(folder: str | os.PathLike[str], files: Mapping[str, Callable[[BinaryIO], None]]) -> list[Path]:
    """Write several files under ``folder`` as one step: all of them, or none.

    ``files`` maps a relative path (``/``-separated) to its producer. Everything is written
    into a temporary folder beside ``folder`` first; a failure there leaves ``folder`` as it
    was. A new ``folder`` is then renamed into place in one step; into an existing one the
    files are renamed one by one after checking that none would replace a folder, a link or
    a write-protected file. Two paths that differ only in case, or a file that another path
    needs as a folder, are refused before anything is written (they would collide on
    Windows/macOS file systems, or half-way through).

    Returns:
        The files written (under ``folder``).

    Raises:
        WriteError: a name collides, the folder cannot be created, or a file cannot be written.
    """
    where = str(folder)
    _check_names(files, where)
    root, exists = _folder_target(Path(folder), where)
    parent = root.parent if str(root.parent) else Path(".")
    if exists:
        for name in files:
            _check_member(root / name, name, where)
    remove_stale_temps(root)
    with cleanup_on_signals():
        try:
            tmp = Path(tempfile.mkdtemp(
                prefix=TMP_PREFIX.format(name=_temp_stem(root.name)) + f"{os.getpid()}-", suffix=TMP_SUFFIX, dir=parent
            ))
        except OSError as exc:
            raise WriteError(f"cannot create folder ({exc.strerror or exc})", location=where) from exc
        try:
            _fill(tmp, files)
            if not exists:
                os.chmod(tmp, 0o777 & ~_umask())
                os.rename(tmp, root)
            else:
                for name in files:
                    (root / name).parent.mkdir(parents=True, exist_ok=True)
                    os.replace(tmp / name, root / name)
        except BaseException as exc:
            with _quiet():
                shutil.rmtree(tmp)
            if isinstance(exc, OSError):
                raise WriteError(f"cannot write ({exc.strerror or exc})", location=where) from exc
            raise
        with _quiet():
            shutil.rmtree(tmp)  # what is left: the empty sub-folders of an existing folder's files
    return [Path(folder) / name for name in files]


def _folder_target(root: Path, where: str) -> tuple[Path, bool]:
    """The folder to write into (a symbolic link followed) and whether it exists already."""
    node = _stat(root, where)
    if node is not None and not stat.S_ISDIR(node.st_mode):
        raise WriteError("exists and is not a folder", location=where)
    if node is None and _lstat(root, where) is not None:  # a new folder there would replace the link
        raise WriteError("is a symbolic link to nothing; not replaced", location=where)
    if node is not None and root.is_symlink():
        root = Path(os.path.realpath(root))  # temporary folder on the same file system as the files
    parent = root.parent if str(root.parent) else Path(".")
    if not parent.is_dir():
        raise WriteError(f"folder {parent} does not exist", location=where)
    return root, node is not None


def _fill(tmp: Path, files: Mapping[str, Callable[[BinaryIO], None]]) -> None:
    for name, produce in files.items():
        out = tmp / name
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("wb") as stream:
            produce(cast(BinaryIO, stream))
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(out, 0o666 & ~_umask())


def _check_names(files: Mapping[str, object], where: str) -> None:
    seen: dict[str, str] = {}
    folders: set[str] = set()
    for name in files:
        parts = name.split("/")
        if not all(parts) or any(p in (".", "..") for p in parts):
            raise WriteError(f"file name {printable(name)!r} would leave the folder", location=where)
        key = name.casefold()
        if key in seen:
            raise WriteError(f"files {printable(seen[key])!r} and {printable(name)!r} collide", location=where)
        seen[key] = name
        folders.update("/".join(parts[:i]).casefold() for i in range(1, len(parts)))
    clash = sorted(set(seen) & folders)
    if clash:
        raise WriteError(f"{printable(seen[clash[0]])!r} is both a file and a folder", location=where)


def _check_member(path: Path, name: str, where: str) -> None:
    node = _lstat(path, where)
    if node is None:
        return
    if not stat.S_ISREG(node.st_mode):
        raise WriteError(f"{printable(name)} exists and is not a regular file; not replaced", location=where)
    _plan_for(path, node, f"{where}/{printable(name)}")


class _Terminated(BaseException):
    """SIGTERM or SIGHUP arrived while a temporary output existed."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


_CLEANUP_SIGNALS = tuple(getattr(signal, n) for n in ("SIGTERM", "SIGHUP") if hasattr(signal, n))


@contextmanager
def cleanup_on_signals() -> Iterator[None]:
    """Let SIGTERM and SIGHUP unwind the block (so ``except``/``finally`` remove temporary
    files), then end the process by the same signal, as the default action would have.

    Python turns only SIGINT into an exception; by default SIGTERM (``kill``, a closing
    session manager) and SIGHUP (a closed terminal) end the process at once and leave the
    temporary file behind. Handlers a program installed itself are left alone, and nothing
    changes outside the main thread (where Python cannot set handlers).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: dict[int, Any] = {}

    def unwind(signum: int, frame: object) -> None:
        raise _Terminated(signum)

    for sig in _CLEANUP_SIGNALS:
        if signal.getsignal(sig) is signal.SIG_DFL:
            previous[sig] = signal.signal(sig, unwind)
    try:
        yield
    except _Terminated as exc:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        previous.clear()
        signal.raise_signal(exc.signum)  # default action: the process ends here
        raise
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def remove_stale_temps(target: Path) -> list[Path]:
    """Delete temporary files of ``target`` left by writers that no longer run.

    Only files matching ``.<name>.qdx-<pid>-*.tmp`` whose ``pid`` is not a live process are
    removed, so a concurrent write of the same target (same machine) is left alone. Where
    processes cannot be probed safely (Windows: ``os.kill`` would terminate them), a temporary
    file counts as stale only after a day untouched. A writer on another machine sharing the
    folder is not seen (its pid is probed locally); two machines writing one file at the same
    time is unsafe anyway.

    Returns:
        The files removed.
    """
    folder = target.parent if str(target.parent) else Path(".")
    prefix = TMP_PREFIX.format(name=_temp_stem(target.name))
    removed: list[Path] = []
    with _quiet():
        for entry in os.scandir(folder):
            if not (entry.name.startswith(prefix) and entry.name.endswith(TMP_SUFFIX)):
                continue
            pid = entry.name[len(prefix) :].partition("-")[0]
            if pid.isdigit() and _stale(int(pid), entry.stat(follow_symlinks=False).st_mtime):
                with _quiet():
                    if entry.is_dir(follow_symlinks=False):  # a folder of atomic_folder
                        shutil.rmtree(entry.path)
                    else:
                        os.unlink(entry.path)
                    removed.append(Path(entry.path))
    return removed


STALE_AFTER = 24 * 3600.0


def _stale(pid: int, mtime: float) -> bool:
    if pid == os.getpid():
        return False
    if os.name != "posix":
        return time.time() - mtime > STALE_AFTER
    return not _alive(pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True  # exists but is someone else's, or not a pid we can ask about: keep it
    return True


def _final_mode(target: Path) -> int:
    """What ``open(target, "w")`` would leave: the old file's mode, else 0666 minus umask."""
    try:
        return target.stat().st_mode & 0o7777
    except OSError:
        return 0o666 & ~_umask()


def _umask() -> int:
    # Linux shows the umask without changing it; elsewhere it can only be read by setting it.
    with _quiet(), open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def backup_path(path: str | os.PathLike[str]) -> Path:
    """``<name>.bak``, or ``<name>.bak.N`` with the first free N when that exists."""
    target = Path(path)
    candidate = target.with_name(target.name + ".bak")
    n = 1
    while candidate.exists():
        candidate = target.with_name(f"{target.name}.bak.{n}")
        n += 1
    return candidate


def make_backup(path: str | os.PathLike[str]) -> Path:
    """Copy ``path`` to :func:`backup_path` (atomically, never over an existing backup).

    Raises:
        WriteError: the copy could not be written; ``path`` is untouched.
    """
    source = Path(path)
    backup = backup_path(source)

    def copy(stream: BinaryIO) -> None:
        with source.open("rb") as original:
            shutil.copyfileobj(original, stream, 1 << 20)

    atomic_write(backup, copy)
    with _quiet():
        shutil.copystat(source, backup)
    return backup


@contextmanager
def _quiet() -> Iterator[None]:
    try:
        yield
    except OSError:
        pass
