"""Safe-by-construction primitives for untrusted input and for writing output.

* XML: no DTD, no entities, no network (REFI-QDA never needs a DOCTYPE, so one is refused).
* ZIP: member names never become filesystem paths here; names that would escape a folder
  (``../``, absolute, drive letters, backslashes) are refused; members are read with a hard
  size cap while inflating, so a forged header cannot get past the limit.
* Output: :func:`atomic_write` writes a temporary file in the target folder and renames it
  only when complete, so a failure leaves the previous file intact and no stray file.
"""

from __future__ import annotations

import io
import lzma
import os
import re
import shutil
import stat
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TypeVar, cast

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
# same target can recognise the ones a killed process (SIGKILL, power loss) left behind.
TMP_PREFIX = ".{name}.qdx-"
TMP_SUFFIX = ".tmp"


def atomic_write(path: str | os.PathLike[str], produce: Callable[[BinaryIO], None]) -> None:
    """Write ``path`` through ``produce(stream)`` atomically (temp file + ``os.replace``).

    The temporary file lives in the target's folder (a rename never crosses file systems)
    and is removed on any failure, including KeyboardInterrupt/SystemExit; only a process
    killed outright leaves one behind, and the next write of the same target removes it.
    The final file gets the mode a plain ``open(path, "w")`` would give: the existing file's
    mode, or ``0o666 & ~umask`` for a new file (mkstemp alone would make it 0600).

    Raises:
        WriteError: the target folder is missing or the write failed; the previous file is
            intact and no temporary file is left behind.
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise WriteError(f"folder {folder} does not exist", location=str(target))
    remove_stale_temps(target)
    try:
        fd, tmp = tempfile.mkstemp(
            prefix=TMP_PREFIX.format(name=target.name) + f"{os.getpid()}-", suffix=TMP_SUFFIX, dir=folder
        )
    except OSError as exc:
        raise WriteError(f"cannot write ({exc.strerror or exc})", location=str(target)) from exc
    try:
        with os.fdopen(fd, "wb") as stream:
            produce(cast(BinaryIO, stream))
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(tmp, _final_mode(target))
        os.replace(tmp, target)
    except BaseException as exc:
        with _quiet():
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise WriteError(f"cannot write ({exc.strerror or exc})", location=str(target)) from exc
        raise


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
    prefix = TMP_PREFIX.format(name=target.name)
    removed: list[Path] = []
    with _quiet():
        for entry in os.scandir(folder):
            if not (entry.name.startswith(prefix) and entry.name.endswith(TMP_SUFFIX)):
                continue
            pid = entry.name[len(prefix) :].partition("-")[0]
            if pid.isdigit() and _stale(int(pid), entry.stat().st_mtime):
                with _quiet():
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
