"""NVivo-specific pieces of ``qdx convert``: ``--sources DIR`` and folder output for coded text.

The library side (:mod:`qdx.formats.nvivo`) works on name → bytes mappings; this module is
the path layer for it (docs/architecture.md: nothing in formats/ knows about paths).
"""

from __future__ import annotations

from pathlib import Path

from qdx.errors import Issue, UsageError
from qdx.formats import ReadOptions
from qdx.model import Project
from qdx.options import PositionUnit
from qdx.safety import Limits, atomic_folder

SOURCE_SUFFIXES = (".txt", ".text", ".md", ".docx")


def load_with_sources(source: str, sources_dir: str, limits: Limits) -> Project:
    """Rebuild a project from an NVivo coded-text export (file or folder) and source texts.

    Raises:
        UsageError: ``source`` is missing.
        FormatError: ``source`` holds no coded-text export.
    """
    from qdx.api import read_file, read_folder
    from qdx.formats.nvivo import rebuild

    path = Path(source)
    if not path.exists():
        raise UsageError(f"no such file or folder: {source}")
    # The same reader and caps as any export folder (README, Security): a 300 MB file in
    # --sources was read whole.
    files = read_folder(path) if path.is_dir() else {path.name: read_file(path)}
    texts = read_folder(Path(sources_dir), keep=lambda name: name.lower().endswith(SOURCE_SUFFIXES))
    return rebuild(files, texts, ReadOptions(label=path.name, limits=limits))


def attach_attributes(project: Project, sheet: str, limits: Limits) -> tuple[Project, list[Issue]]:
    """Set the attributes of an Export List or classification sheet on matching cases/sources.

    Returns:
        The new project and an Issue per row that matched nothing.
    """
    import io

    from qdx.api import read_file
    from qdx.formats.nvivo.attributes import apply_attributes
    from qdx.formats.nvivo.lists import read_attribute_table

    path = Path(sheet)
    with io.BytesIO(read_file(path)) as stream:  # capped like a file of an export folder
        table = read_attribute_table(stream, ReadOptions(label=path.name, limits=limits))
    enriched, issues = apply_attributes(project, table)
    return enriched, list(issues)


def load(
    source: str, limits: Limits, *, unit: PositionUnit | None, sources_dir: str | None, attributes: str | None
) -> tuple[Project, list[Issue]]:
    """Read IN for ``qdx convert``: rebuilt with ``--sources``, enriched with ``--attributes``.

    Returns:
        The project and the attribute-matching issues (reading issues stay in provenance).
    """
    from qdx.cli._common import load as plain_load

    if sources_dir:
        project = load_with_sources(source, sources_dir, limits)
    else:
        project = plain_load(source, limits=limits, unit=unit)
    if not attributes:
        return project, []
    return attach_attributes(project, attributes, limits)


def wants_folder(target: str, fmt: str | None) -> bool:
    """Coded text for a multi-code project is a folder: OUT is a folder or ends with ``/``."""
    return fmt == "nvivo-text" and (target.endswith(("/", "\\")) or Path(target).is_dir())


def write_folder(project: Project, target: str, dialect: str) -> list[str]:
    """Write one Reference-view file per coded code under ``target`` (V3, or V4 for nvivo).

    Returns:
        What the export format cannot hold, one line per kind (for the "not carried over" list).
    """
    from qdx.formats.nvivo import export_files

    notes = _not_exported(project)
    files = export_files(project, "V4" if dialect == "nvivo" else "V3")
    # All files or none: a failure half-way must not leave a half-written export folder.
    atomic_folder(target, {name: lambda stream, data=data: stream.write(data) for name, data in files.items()})  # type: ignore[misc]
    return notes


def _not_exported(project: Project) -> list[str]:
    """Codings a Reference-view export has no form for: the writer (textwriter._refs_for) writes
    text passages and PDF/picture regions; media spans, transcript selections and codings of a
    whole source have no reference line (docs/nvivo-exports.md §c.1)."""
    from qdx.model import AudioSource, PDFSelection, PictureSelection, TextSelection, VideoSource

    counts = {"audio/video spans": 0, "transcript selections": 0, "whole-source codings": 0}
    for source in project.sources:
        counts["whole-source codings"] += len(source.codings)
        for sel in getattr(source, "selections", ()):
            if not isinstance(sel, TextSelection | PDFSelection | PictureSelection):
                counts["audio/video spans"] += len(sel.codings)
        if isinstance(source, AudioSource | VideoSource):
            counts["transcript selections"] += sum(len(s.codings) for t in source.transcripts for s in t.selections)
    return [f"{n} coding(s) of {what}: a coded-text export has no form for them" for what, n in counts.items() if n]
