"""Safe-by-construction primitives for untrusted input and for writing output.

* XML: no DTD, no entities, no network (REFI-QDA never needs a DOCTYPE, so one is refused).
* ZIP: member names never become filesystem paths here; names that would escape a folder
  (``../``, absolute, drive letters, backslashes) are refused; members are read with a hard
  size cap while inflating, so a forged header cannot get past the limit.
* Output: :func:`atomic_write` writes a temporary file in the target folder and renames it
  only when complete, so a failure leaves the previous file intact and no stray file.
"""

from __future__ import annotations

import lzma
import os
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, cast

from lxml import etree

from qdx.errors import ReadError, UnsafeInputError, WriteError

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


DEFAULT_LIMITS = Limits()


def xml_parser(*, huge: bool = False) -> etree.XMLParser:
    """An lxml parser that resolves no entity, loads no DTD and never touches the network."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=huge,
        remove_blank_text=False,
    )


def check_no_doctype(head: bytes, *, location: str | None = None) -> None:
    """Refuse documents that declare a DTD or entities (XXE, billion laughs)."""
    probe = head[:65536]
    for marker in (b"<!DOCTYPE", b"<!ENTITY", b"<\x00!\x00D\x00O\x00C\x00T\x00Y\x00P\x00E\x00"):
        if marker in probe:
            raise UnsafeInputError(
                "document declares a DTD or entities, which REFI-QDA never needs; refused",
                location=location,
            )


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


class SafeZip:
    """A read-only view of a zip archive that enforces :class:`Limits` on every member."""

    def __init__(self, stream: BinaryIO, *, limits: Limits = DEFAULT_LIMITS, label: str = "archive"):
        self.limits = limits
        self.label = label
        try:
            self._zip = zipfile.ZipFile(stream)
            infos = self._zip.infolist()
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            raise ReadError(f"not a readable zip archive ({exc})", location=label) from exc
        if len(infos) > limits.max_entries:
            raise UnsafeInputError(
                f"zip has {len(infos)} entries, more than the limit of {limits.max_entries}",
                location=label,
            )
        self.infos: list[zipfile.ZipInfo] = []
        for info in infos:
            self._check(info)
            self.infos.append(info)
        # name -> first entry of that name; an archive with thousands of sources must not
        # cost O(n) per read.
        self._by_name = {i.filename: i for i in reversed(self.infos)}

    def _check(self, info: zipfile.ZipInfo) -> None:
        where = f"{self.label}!{info.filename}"
        if not safe_member_name(info.filename):
            raise UnsafeInputError("zip entry name escapes the archive (zip slip); refused", location=where)
        if info.flag_bits & 0x1:
            raise UnsafeInputError("zip entry is encrypted; refused", location=where)
        mode = (info.external_attr >> 16) & 0o170000
        if mode == 0o120000:
            raise UnsafeInputError("zip entry is a symbolic link; refused", location=where)
        self._check_size(info.file_size, info.compress_size, where)

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
        info = self._by_name.get(name)
        if info is None:
            raise ReadError(f"no entry {name!r} in the archive", location=self.label)
        where = f"{self.label}!{name}"
        chunks: list[bytes] = []
        total = 0
        try:
            with self._zip.open(info) as member:
                while chunk := member.read(1 << 20):
                    total += len(chunk)
                    self._check_size(total, info.compress_size, where)
                    chunks.append(chunk)
        except _INFLATE_ERRORS as exc:
            raise ReadError(f"zip entry cannot be read ({exc})", location=where) from exc
        return b"".join(chunks)

    def close(self) -> None:
        self._zip.close()


def atomic_write(path: str | os.PathLike[str], produce: Callable[[BinaryIO], None]) -> None:
    """Write ``path`` through ``produce(stream)`` atomically (temp file + ``os.replace``).

    Raises:
        WriteError: the target folder is missing or the write failed; nothing is left behind.
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise WriteError(f"folder {folder} does not exist", location=str(target))
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as stream:
            produce(cast(BinaryIO, stream))
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, target)
    except BaseException as exc:
        with _quiet():
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise WriteError(f"cannot write ({exc.strerror or exc})", location=str(target)) from exc
        raise


@contextmanager
def _quiet() -> Iterator[None]:
    try:
        yield
    except OSError:
        pass
