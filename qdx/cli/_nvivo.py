"""NVivo-specific pieces of ``qdx convert``: ``--sources DIR`` and folder output for coded text.

The library side (:mod:`qdx.formats.nvivo`) works on name → bytes mappings; this module is
the path layer for it (STYLE.md: nothing in formats/ knows about paths).
"""

from __future__ import annotations

from pathlib import Path

from qdx.errors import ReadError, Severity, UsageError
from qdx.formats import ReadOptions
from qdx.model import Project
from qdx.safety import Limits, atomic_write

MAX_FILES = 10_000
# What a user converting an NVivo export must see (the rest stays in `qdx info`).
SHOWN = frozenset({"QDX401", "QDX402", "QDX404", "QDX405", "QDX406", "QDX408"})


def _tree(path: Path) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for child in sorted(path.rglob("*")):
        if child.is_file() and not child.is_symlink():
            if len(files) >= MAX_FILES:
                raise ReadError(f"folder holds more than {MAX_FILES} files", location=str(path))
            files[child.relative_to(path).as_posix()] = child.read_bytes()
    return files


def load_with_sources(source: str, sources_dir: str, limits: Limits) -> Project:
    """Rebuild a project from an NVivo coded-text export (file or folder) and source texts.

    Raises:
        UsageError: ``source`` is missing.
        FormatError: ``source`` holds no coded-text export.
    """
    from qdx.formats.nvivo import rebuild

    path = Path(source)
    if not path.exists():
        raise UsageError(f"no such file or folder: {source}")
    files = _tree(path) if path.is_dir() else {path.name: path.read_bytes()}
    texts = {k: v for k, v in _tree(Path(sources_dir)).items() if k.lower().endswith((".txt", ".text", ".md", ".docx"))}
    return rebuild(files, texts, ReadOptions(label=path.name, limits=limits))


def attach_attributes(project: Project, sheet: str, limits: Limits) -> tuple[Project, list[str]]:
    """Set the attributes of an Export List or classification sheet on matching cases/sources.

    Returns:
        The new project and one line per row that matched nothing.
    """
    from qdx.formats.nvivo.attributes import apply_attributes
    from qdx.formats.nvivo.lists import read_attribute_table

    path = Path(sheet)
    with path.open("rb") as stream:
        table = read_attribute_table(stream, ReadOptions(label=path.name, limits=limits))
    enriched, issues = apply_attributes(project, table)
    return enriched, [f"warning: {i.location}: {i.message} [{i.code}]" for i in issues]


def wants_folder(target: str, fmt: str | None) -> bool:
    """Coded text for a multi-code project is a folder: OUT is a folder or ends with ``/``."""
    return fmt == "nvivo-text" and (target.endswith(("/", "\\")) or Path(target).is_dir())


def write_folder(project: Project, target: str, dialect: str) -> int:
    """Write one Reference-view file per coded code under ``target`` (V3, or V4 for nvivo).

    Returns:
        The number of files written.
    """
    from qdx.formats.nvivo import export_files

    root = Path(target)
    files = export_files(project, "V4" if dialect == "nvivo" else "V3")
    for name, data in files.items():
        out = root / name
        out.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(out, lambda stream, data=data: stream.write(data))  # type: ignore[misc]
    return len(files)


def read_notes(project: Project) -> tuple[list[str], bool]:
    """Lines to show for an NVivo export's reading issues, and whether any is an error."""
    prov = project.provenance
    if prov is None or not prov.fmt.startswith("nvivo"):
        return [], False
    shown = [i for i in prov.issues if i.code in SHOWN]
    lines = [
        f"{i.severity.value}: {i.location + ': ' if i.location else ''}{i.message} [{i.code}]" for i in shown
    ]
    return lines, any(i.severity is Severity.ERROR for i in shown)
