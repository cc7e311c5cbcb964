"""Untrusted input: the archive limits, opening an input file, capped reads, a safe XML parser
and the DOCTYPE refusals (REFI-QDA never needs a DTD or entities, so a document declaring one
is refused), and the checks on zip member names.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from typing import BinaryIO, cast

from lxml import etree

from qdx.errors import ReadError, UnsafeInputError

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
