"""REFI-QDA 1.0 (QDA-XML, spec of 25-09-2019): ``.qdpx`` projects, bare ``.qde``, ``.qdc`` codebooks.

Reading tolerates every packaging and dialect difference listed in docs/quirks.md §6 and
converts text positions to code points (see :mod:`qdx.formats.refi.units`); writing emits
schema-valid, byte-deterministic files in the ``refi`` (spec) or ``nvivo`` dialect.
"""

from __future__ import annotations

import zipfile
from typing import BinaryIO

from qdx.formats import Format, WriteOptions
from qdx.formats.refi.package import read_qdc, read_qde, read_qdpx
from qdx.formats.refi.reader import root_name
from qdx.formats.refi.writer import Files, codebook_xml, project_xml
from qdx.model import Project

# Fixed entry time: identical projects give identical bytes (docs/architecture.md, rule 10).
ZIP_TIME = (1980, 1, 1, 0, 0, 0)

def sniff_qdpx(head: bytes, name: str) -> bool:
    """A zip whose first entries include a ``.qde``, or a zip named ``*.qdpx``."""
    if not head.startswith(b"PK\x03\x04"):
        return False
    probe = head.lower()
    # The first local header names the first entry: project.qde, or (MAXQDA, NVivo Mac)
    # a file under sources/ with the .qde last (docs/quirks.md quirks 3, 15).
    first = head[30 : 30 + int.from_bytes(head[26:28], "little")].lower() if len(head) >= 30 else b""
    return b".qde" in probe or first.startswith(b"sources/") or name.lower().endswith(".qdpx")


def sniff_qde(head: bytes, name: str) -> bool:
    """XML whose root element is ``Project``."""
    return root_name(head) == "Project"


def sniff_qdc(head: bytes, name: str) -> bool:
    """XML whose root element is ``CodeBook``."""
    return root_name(head) == "CodeBook"


def write_qdpx(project: Project, stream: BinaryIO, options: WriteOptions) -> None:
    """Write a ``.qdpx``: ``project.qde`` first, then ``sources/<GUID>.<ext>`` (REFI §8)."""
    files = Files(folder="Sources" if options.dialect == "nvivo" else "sources")
    xml = project_xml(project, options.dialect, files, newline=options.newline)
    with zipfile.ZipFile(stream, "w") as archive:
        for name, data in [("project.qde", xml), *files.entries]:
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            archive.writestr(info, data, compresslevel=6)


def write_qde(project: Project, stream: BinaryIO, options: WriteOptions) -> None:
    """Write a bare ``.qde``: texts inline, embedded files dropped with a warning."""
    stream.write(project_xml(project, options.dialect, None, newline=options.newline))


def write_qdc(project: Project, stream: BinaryIO, options: WriteOptions) -> None:
    """Write a ``.qdc`` codebook (codes and code sets; ``MemberCode@guid``)."""
    stream.write(codebook_xml(project))


FORMATS: tuple[Format, ...] = (
    Format(
        id="qdpx",
        description="REFI-QDA project archive",
        extensions=("qdpx",),
        sniff=sniff_qdpx,
        reader=read_qdpx,
        writer=write_qdpx,
        priority=20,
    ),
    Format(
        id="qde",
        description="REFI-QDA project XML",
        extensions=("qde",),
        sniff=sniff_qde,
        reader=read_qde,
        writer=write_qde,
        priority=20,
    ),
    Format(
        id="qdc",
        description="REFI-QDA codebook",
        extensions=("qdc",),
        sniff=sniff_qdc,
        reader=read_qdc,
        writer=write_qdc,
        priority=20,
    ),
)

__all__ = ["FORMATS", "read_qdc", "read_qde", "read_qdpx", "write_qdc", "write_qde", "write_qdpx"]
