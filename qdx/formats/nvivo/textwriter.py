"""Writing a project as NVivo Reference-view text exports, shapes V3 and V4 (docs/nvivo-exports.md §c.1).

V3 (NVivo 12, real files): no angle brackets, ``[ 6.78% Coverage]``, UTF-8 with BOM, LF, no
blank lines. V4 (NVivo 12/14 Windows): ``<Files\\\\Name>``, ``[6.78% Coverage]``, UTF-16, CRLF, a
blank line after every header and reference head and after each body. One file per code, named
after the code (unsafe characters → ``~``); a child code's file goes in a folder named after its
parent (qdx's convention: NVivo names files by code only, which loses the tree).

A body is the passage verbatim followed by one line end (V4: plus a blank line), so a reader
recovers passages that start or end with a newline exactly (see codedtext.Parser).
Coverage is coded characters over the source's characters (§c.1); regions get 0.00%.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from qdx.formats.nvivo.names import safe_file_name
from qdx.model import (
    Code,
    Guid,
    PDFSelection,
    PictureSelection,
    Project,
    Source,
    TextSelection,
    iter_codes,
    text_docs,
)


@dataclass(frozen=True, slots=True)
class _Ref:
    start: int
    end: int
    count: int
    text: str | None
    region: str | None


@dataclass(frozen=True, slots=True)
class Shape:
    """How a variant spells things."""

    brackets: bool
    space_in_bracket: bool
    blank_lines: bool
    newline: str
    encoding: str


SHAPES = {
    "V3": Shape(brackets=False, space_in_bracket=True, blank_lines=False, newline="\n", encoding="utf-8-sig"),
    "V4": Shape(brackets=True, space_in_bracket=False, blank_lines=True, newline="\r\n", encoding="utf-16"),
}


def _pct(part: int, whole: int) -> str:
    return f"{(100.0 * part / whole) if whole else 0.0:.2f}"


def _source_hname(source: Source, project: Project) -> str:
    """``Files\\\\<folders>\\\\<name>``: the folder from a Set named like an NVivo folder path."""
    name = source.name or str(source.guid)
    for group in project.sets:
        if source.guid in group.member_sources and group.name.split("\\\\")[0].lower() in {"files", "internals"}:
            return f"{group.name}\\\\{name}"
    return f"Files\\\\{name}"


def _text_of(source: Source) -> tuple[str, tuple[TextSelection, ...]]:
    docs = list(text_docs(source))
    if not docs:
        return "", ()
    return docs[0].text or "", tuple(s for d in docs for s in d.selections)


def _refs_for(source: Source, code: Guid) -> tuple[list[_Ref], int]:
    """References of one code in one source, in document order, identical ranges merged."""
    text, selections = _text_of(source)
    ranges: dict[tuple[int, int], int] = {}
    for sel in selections:
        n = sum(1 for c in sel.codings if c.code == code)
        if n:
            ranges[(sel.start, sel.end)] = ranges.get((sel.start, sel.end), 0) + n
    refs = [_Ref(s, e, n, text[s:e], None) for (s, e), n in sorted(ranges.items())]
    covered = len({i for s, e in ranges for i in range(s, e)})
    for sel in getattr(source, "selections", ()):
        if isinstance(sel, PDFSelection | PictureSelection):
            n = sum(1 for c in sel.codings if c.code == code)
            # REFI pages count from 0, NVivo's "Page N" from 1 (docs/nvivo-exports.md, regions).
            page = sel.page + 1 if isinstance(sel, PDFSelection) else 1
            region = f"Page {page} : ({sel.first_x},{sel.first_y}) - ({sel.second_x},{sel.second_y})"
            refs.extend(_Ref(-1, -1, 1, None, region) for _ in range(n))
    return refs, covered


def _lines_for_source(header: str, refs: list[_Ref], size: int, covered: int, shape: Shape) -> Iterator[str]:
    total = sum(r.count for r in refs)
    noun = "reference" if total == 1 else "references"
    inner = f" {_pct(covered, size)}" if shape.space_in_bracket else _pct(covered, size)
    name = f"<{header}>" if shape.brackets else header
    yield f"{name} - § {total} {noun} coded [{inner}% Coverage]"
    if shape.blank_lines:
        yield ""
    number = 1
    for ref in refs:
        span = ref.end - ref.start if ref.text is not None else 0
        label = f"Reference {number}" if ref.count == 1 else f"References {number}-{number + ref.count - 1}"
        yield f"{label} - {_pct(span, size)}% Coverage"
        if shape.blank_lines:
            yield ""
        yield ref.region if ref.region is not None else (ref.text or "")
        if shape.blank_lines:
            yield ""
        number += ref.count


def code_export(project: Project, code: Code, variant: str = "V3") -> bytes:
    """The Reference-view export of one code, as NVivo would write it.

    Args:
        project: the project.
        code: the code to export.
        variant: ``V3`` or ``V4`` (docs/nvivo-exports.md §c.1).

    Returns:
        The file's bytes (UTF-8 with BOM for V3, UTF-16 for V4).
    """
    shape = SHAPES[variant]
    lines: list[str] = []
    for source in project.sources:
        refs, covered = _refs_for(source, code.guid)
        if refs:
            size = len(_text_of(source)[0])
            lines.extend(_lines_for_source(_source_hname(source, project), refs, size, covered, shape))
    body = "".join(line.replace("\r\n", "\n").replace("\n", shape.newline) + shape.newline for line in lines)
    return body.encode(shape.encoding)


def export_files(project: Project, variant: str = "V3") -> dict[str, bytes]:
    """Every code's export, by relative path (children in folders named after their parent).

    Codes without references get no file: it would hold no header to parse. Each code gets a
    name in its folder that no sibling's file or folder uses, ignoring case (``A`` beside
    ``a``, or a code ``A.txt`` whose children's folder ``A.txt`` would meet code ``A``'s file):
    `` (2)`` is appended. Names are cut to fit file-system limits.
    """
    files: dict[str, bytes] = {}
    used: dict[str, set[str]] = {}
    folder_of: dict[int, str] = {}
    for code, ancestors in iter_codes(project.codes):
        folder = folder_of[id(ancestors[-1])] if ancestors else ""
        stem = _free_stem(safe_file_name(code.name), used.setdefault(folder, set()))
        own = f"{folder}/{stem}" if folder else stem
        folder_of[id(code)] = own
        data = code_export(project, code, variant)
        if data.decode(SHAPES[variant].encoding).strip():
            files[f"{own}.txt"] = data
    return files


# Bytes of a name before the suffixes: " (NN)" and ".txt" still fit NAME_MAX (255).
_MAX_STEM_BYTES = 200


def _free_stem(base: str, used: set[str]) -> str:
    """``base`` (or ``base (N)``) such that neither it nor ``<it>.txt`` is in ``used``; both are
    then taken (a code's file and its children's folder)."""
    while len(base.encode("utf-8")) > _MAX_STEM_BYTES:
        base = base[:-1]
    stem, serial = base, 2
    while stem.casefold() in used or f"{stem}.txt".casefold() in used:
        stem = f"{base} ({serial})"
        serial += 1
    used.update((stem.casefold(), f"{stem}.txt".casefold()))
    return stem
