"""Zip archives read within :class:`~qdx.safety.inputs.Limits`: member names never become
filesystem paths here, names that would escape a folder are refused, and members are inflated
with a hard size cap counted as they inflate, so a forged header cannot get past the limit.
"""

from __future__ import annotations

import io
import lzma
import zipfile
import zlib
from collections.abc import Callable
from typing import BinaryIO, TypeVar, cast

from qdx.errors import ReadError, UnsafeInputError
from qdx.safety.inputs import _CONTROL, DEFAULT_LIMITS, Limits, printable, safe_member_name

_T = TypeVar("_T")


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
