"""Reading the REFI-QDA containers: ``.qdpx`` (zip, REFI §8), bare ``.qde``, ``.qdc``.

Packaging varies by producer (docs/quirks.md §6): the ``.qde`` may be ``project.qde``,
``Project.qde`` or ``<name>.qde`` (quirks 8, 24); the folder ``sources/`` or ``Sources/``
(quirk 2) with a stray ``.root`` (quirk 3); paths ``internal://<GUID>.<ext>`` or the bare
original file name (qc 1.3.2, quirk 22). All of them are matched case-insensitively.
"""

from __future__ import annotations

import io
import zipfile
from typing import BinaryIO, cast
from urllib.parse import unquote

from qdx.collector import collector_paused
from qdx.errors import ReadError, Severity, UsageError
from qdx.formats import ReadOptions
from qdx.formats.refi._context import Context, Element
from qdx.formats.refi.reader import read_document, read_head
from qdx.formats.refi.roots import read_root
from qdx.formats.refi.units import (
    choose_unit,
    convert_positions,
    find_marker,
    rejoin_split,
    restore_client_safe,
    restore_lf,
)
from qdx.model import Project, Provenance, iter_codes
from qdx.safety import MemberStream, SafeZip
from qdx.text import UNITS

ROOTS = ("Project", "CodeBook")


def read_qdpx(stream: BinaryIO, options: ReadOptions) -> Project:
    """Read a ``.qdpx`` archive.

    Raises:
        UnsafeInputError: zip slip, zip bomb, DTD, encrypted or linked entries.
        ReadError: not a zip, no ``.qde`` inside, or malformed XML.
    """
    archive = SafeZip(stream, limits=options.limits, label=options.label)
    try:
        qde = _pick_qde(archive, options.label)
        ctx = Context(label=qde, resolve=_Members(archive, qde).resolve)
        _packaging_quirks(archive, qde, ctx)
        where = f"{options.label}!{qde}"
        parsed = _parsed(options, qde)
        if parsed is not None:
            project, unit = _finish(parsed[0], ctx, options, where, root=parsed[1])
        else:
            # Parsed as it inflates: the document's bytes are never all in memory at once.
            with archive.open(qde) as member:
                project, unit = _finish(cast(BinaryIO, member), ctx, options, where)
        _unreferenced(archive, ctx)
    finally:
        archive.close()
    project.provenance = _provenance("qdpx", unit, ctx)
    return project


def read_qde(stream: BinaryIO, options: ReadOptions) -> Project:
    """Read a bare ``project.qde`` (internal files cannot be resolved: reported as issues).

    A seekable stream (a file) is parsed as it is read, so the document's bytes are never
    all in memory at once.
    """
    ctx = Context(label=options.label)
    parsed = _parsed(options, options.label)
    if parsed is not None:
        project, unit = _finish(parsed[0], ctx, options, root=parsed[1])
    else:
        source = _read_all(stream, options) if not stream.seekable() else _sized(stream, options)
        project, unit = _finish(source, ctx, options)
    project.provenance = _provenance("qdc" if project.is_codebook else "qde", unit, ctx)
    return project


def read_qdc(stream: BinaryIO, options: ReadOptions) -> Project:
    """Read a ``.qdc`` codebook (namespaces 1.0, 1:0 and 0:4 alike, quirks 6-7)."""
    return read_qde(stream, options)


def _parsed(options: ReadOptions, name: str) -> tuple[bytes, Element] | None:
    """(bytes, root) of ``name`` when the caller has parsed that very document already."""
    if options.parsed is None or options.parsed.name != name:
        return None
    return options.parsed.data, options.parsed.root


def _read_all(stream: BinaryIO, options: ReadOptions) -> bytes:
    cap = options.limits.max_member_size
    data = stream.read(cap + 1)
    if len(data) > cap:
        raise ReadError(f"document larger than {cap} bytes", location=options.label)
    return data


def _sized(stream: BinaryIO, options: ReadOptions) -> BinaryIO:
    """``stream`` at its start, once its size is known to be within the limit."""
    start = stream.tell()
    size = stream.seek(0, io.SEEK_END) - start
    stream.seek(start)
    if size > options.limits.max_member_size:
        raise ReadError(f"document larger than {options.limits.max_member_size} bytes", location=options.label)
    return stream


def _progress(data: bytes | BinaryIO, ctx: Context, options: ReadOptions) -> None:
    report = options.progress
    if report is None:
        return
    if isinstance(data, bytes):
        total = len(data)
    elif isinstance(data, MemberStream):
        total = data.size  # seeking to its end would inflate it all
    else:
        start = data.tell()
        total = data.seek(0, io.SEEK_END) - start
        data.seek(start)
    step = max(total // 200, 1)  # ~200 calls at most, however many sources there are
    last = [0]

    def advance(done: int) -> None:
        if done - last[0] >= step:
            last[0] = done
            report(min(done, total), total)

    ctx.advance_to = advance


def _finish(
    data: bytes | BinaryIO,
    ctx: Context,
    options: ReadOptions,
    where: str | None = None,
    *,
    root: Element | None = None,
) -> tuple[Project, str]:
    """Read the document (``root``: its tree, parsed already), then settle position units."""
    # Errors name the archive too (``study.qdpx!project.qde:12``); records keep ``project.qde:12``.
    where = where or ctx.label
    _progress(data, ctx, options)
    head = read_head(data)
    # Building ~10^5 records made the cyclic GC rescan them over and over (2-3x the read time).
    with collector_paused(keep=True):
        if root is not None:
            project = read_root(root, ctx, ROOTS)  # the whole tree: nothing to stream
        else:
            project = read_document(data, where, ctx, ROOTS)
    if ctx.advance_to is not None:
        ctx.advance_to(1 << 62)  # the end: a bar shows 100 %
    if options.unit is not None and options.unit not in UNITS:
        raise UsageError(f"unknown position unit {options.unit!r}; known: {', '.join(UNITS)}")
    mark = find_marker(head)
    unit = choose_unit(project, ctx, forced=options.unit, declared=mark.unit if mark else None)
    changed = convert_positions(project, unit, ctx)
    if mark is None and changed and unit in UNIT_QUIRKS:
        ctx.quirk(UNIT_QUIRKS[unit])
    _content_quirks(project, ctx)
    if mark is not None and mark.lf_docs:
        restore_lf(project, mark.lf_docs)
    if mark is not None and mark.split:
        rejoin_split(project)
    if mark is not None:
        restore_client_safe(project, mark)
    return project, unit


UNIT_QUIRKS = {"utf16": "quirk1:utf16-positions", "codepoint-lf": "quirk9:crlf-counted-once"}
ATLAS_PSEUDO_USER = "c32a2bd5-537f-4838-8b17-df9efbafdf4b"


def _content_quirks(project: Project, ctx: Context) -> None:
    """Label producer habits visible in the content (docs/quirks.md §6), for ``qdx info``."""
    if any(u.guid.key == ATLAS_PSEUDO_USER for u in project.users):
        ctx.quirk("quirk11:atlas-pseudo-user")
    if any("::" in code.name for code, _ in iter_codes(project.codes)):
        ctx.quirk("quirk12:flattened-code-names")
    if any(case.name is None for case in project.cases):
        ctx.quirk("quirk16:nameless-cases")


def _provenance(fmt: str, unit: str, ctx: Context) -> Provenance:
    return Provenance(fmt=fmt, position_unit=unit, quirks=tuple(ctx.quirks), issues=tuple(ctx.issues))


def _pick_qde(archive: SafeZip, label: str) -> str:
    """The single ``*.qde`` entry, whatever its name or case (quirks 8, 24)."""
    found = [n for n in archive.names() if n.lower().endswith(".qde") and not n.endswith("/")]
    if not found:
        raise ReadError("no .qde project file in the archive (REFI §8.1)", location=label)
    if len(found) > 1:
        top = [n for n in found if n.lower() == "project.qde"]
        if len(top) != 1:
            raise ReadError(f"several .qde files in the archive: {', '.join(sorted(found))}", location=label)
        return top[0]
    return found[0]


def _packaging_quirks(archive: SafeZip, qde: str, ctx: Context) -> None:
    base = qde.rpartition("/")[2]
    if base == "Project.qde":
        ctx.quirk("quirk24:capital-project-qde")
    elif base.lower() != "project.qde":
        ctx.quirk("quirk8:qde-named-after-project")
    names = archive.names()
    if any(n.startswith("Sources/") for n in names):
        ctx.quirk("quirk2:Sources-folder")
    if any(n.lower() == "sources/.root" for n in names):
        ctx.quirk("quirk3:sources-root")
    if any(i.compress_type == zipfile.ZIP_STORED and i.file_size for i in archive.infos):
        ctx.quirk("quirk3:stored-zip")


def _unreferenced(archive: SafeZip, ctx: Context) -> None:
    for name in archive.names():
        low = name.lower()
        if name.endswith("/") or low.endswith((".qde", "/.root")) or name in ctx.used_members:
            continue
        ctx.issue("QDX012", f"archive entry {name} is not referenced by the project", None, Severity.INFO)


class _Members:
    """Resolves REFI paths to archive members (REFI §8.3; quirks 2, 22)."""

    def __init__(self, archive: SafeZip, qde: str) -> None:
        self.archive = archive
        self.by_lower = {n.lower(): n for n in archive.names() if not n.endswith("/")}
        # A re-zipped export may keep its top folder: "Study/project.qde" + "Study/sources/".
        self.prefix = qde.rpartition("/")[0].lower() + "/" if "/" in qde else ""

    def resolve(self, path: str) -> tuple[str, bytes] | None:
        scheme, sep, rest = path.partition("://")
        if sep and scheme.lower() != "internal":
            return None  # relative:// and absolute:// point outside the archive (REFI §8.3)
        name = (rest if sep else path).lstrip("/").lower()
        plain = unquote(name)  # some writers percent-encode file names in paths
        for candidate in (f"sources/{name}", name, f"sources/{plain}", plain):
            member = self.by_lower.get(self.prefix + candidate)
            if member is not None:
                return member, self.archive.read(member)
        return None
