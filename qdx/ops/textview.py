"""A readable, stable text rendering of a project or codebook (``git diff``'s textconv).

A ``.qdpx`` is a zip and a ``.qdc`` one long XML element tree: line-based diffs of either say
little. This rendering puts one fact per line, in the project's own order, with no GUIDs, dates
or byte offsets of the container, so a line-based diff of two renderings reads as what
changed: the code tree (indented, with colour, codability and description), then each source
with its codings (range, code path, coder and the quoted passage), then cases, variables and
sets. Quotes are cut to :data:`QUOTE_CHARS` and line breaks shown as ``⏎`` so one coding is
one line.
"""

from __future__ import annotations

from collections.abc import Iterator

from qdx.model import (
    Project,
    ProjectIndex,
    Selection,
    Source,
    TextSelection,
    TextSource,
    iter_codes,
    iter_selections,
    text_docs,
)
from qdx.ops.pairing import content_hash, selection_range

QUOTE_CHARS = 80
INDENT = "  "


def render_text(project: Project) -> str:
    """The text rendering of ``project`` (ends with a newline)."""
    index = ProjectIndex(project)
    kind = "codebook" if project.is_codebook else "project"
    lines = [f"{kind}: {project.name}"]
    if project.description:
        lines.append(f"description: {_one_line(project.description)}")
    lines.append(f"codes ({len(index.codes)}):")
    lines.extend(_codes(project))
    if not project.is_codebook:
        lines.append(f"sources ({len(project.sources)}):")
        for source in project.sources:
            lines.extend(_source(index, source))
        lines.extend(_others(index))
    lines.extend(_sets(index))
    return "\n".join(lines) + "\n"


def _one_line(text: str) -> str:
    return text.replace("\r\n", "⏎").replace("\n", "⏎").replace("\r", "⏎")


def _codes(project: Project) -> Iterator[str]:
    for code, ancestors in iter_codes(project.codes):
        pad = INDENT * (len(ancestors) + 1)
        tags = [code.color.upper()] if code.color else []
        if not code.is_codable:
            tags.append("not codable")
        suffix = f"  [{', '.join(tags)}]" if tags else ""
        yield f"{pad}{code.name}{suffix}"
        if code.description:
            yield f"{pad}{INDENT}| {_one_line(code.description)}"


def _source(index: ProjectIndex, source: Source) -> Iterator[str]:
    kind = type(source).__name__.removesuffix("Source").lower()
    if isinstance(source, TextSource) and source.text is not None:
        what = f"{kind}, {len(source.text)} chars"
    else:
        digest = content_hash(source)
        what = f"{kind}, sha256 {digest.rsplit(':', 1)[-1][:12]}" if digest else kind
    yield f"{INDENT}{source.name} ({what})"
    rows: list[tuple[tuple[str, ...], str]] = []
    for coding in source.codings:
        rows.append(((), f"(whole source) {_coded(index, coding.code, coding.creating_user)}"))
    texts = {id(sel): doc.text for doc in text_docs(source) for sel in doc.selections}
    for sel in iter_selections(source):
        rows.extend(_selection(index, sel, texts.get(id(sel))))
    for _, row in sorted(rows, key=lambda r: r[0]):
        yield f"{INDENT * 2}{row}"


def _selection(index: ProjectIndex, sel: Selection, text: str | None) -> Iterator[tuple[tuple[str, ...], str]]:
    rng = selection_range(sel)
    where = "[" + ":".join("" if x is None else str(x) for x in rng) + "]"
    quote = ""
    if isinstance(sel, TextSelection) and text is not None:
        passage = _one_line(text[sel.start : sel.end])
        cut = passage if len(passage) <= QUOTE_CHARS else passage[: QUOTE_CHARS - 1] + "…"
        quote = f' "{cut}"'
    order = tuple(f"{x:>12}" if isinstance(x, int) else str(x) for x in rng)
    for coding in sel.codings:
        line = f"{where} {_coded(index, coding.code, coding.creating_user)}{quote}"
        yield (*order, line), line


def _coded(index: ProjectIndex, code: object, user: object) -> str:
    from qdx.model import Guid

    assert isinstance(code, Guid)
    path = " > ".join(index.code_path(code)) if code in index.codes else f"(unknown code {code})"
    coder = index.user_name(user) if isinstance(user, Guid) else None
    return f"{path} ({coder or 'no coder'})"


def _others(index: ProjectIndex) -> Iterator[str]:
    project = index.project
    if project.variables:
        yield f"variables ({len(project.variables)}):"
        for var in project.variables:
            yield f"{INDENT}{var.name} ({var.type.value})"
    if project.cases:
        yield f"cases ({len(project.cases)}):"
        names = {v.guid.key: v.name for v in project.variables}
        sources = {s.guid.key: s.name for s in project.sources}
        for case in project.cases:
            yield f"{INDENT}{case.name}"
            for value in case.variable_values:
                yield f"{INDENT * 2}{names.get(value.variable.key, value.variable)} = {value.value}"
            for ref in case.source_refs:
                yield f"{INDENT * 2}source {sources.get(ref.key, ref)}"


def _sets(index: ProjectIndex) -> Iterator[str]:
    project = index.project
    if not project.sets:
        return
    yield f"sets ({len(project.sets)}):"
    sources = {s.guid.key: s.name for s in project.sources}
    for item in project.sets:
        yield f"{INDENT}{item.name}"
        for ref in item.member_codes:
            label = " > ".join(index.code_path(ref)) if ref in index.codes else str(ref)
            yield f"{INDENT * 2}code {label}"
        for ref in item.member_sources:
            yield f"{INDENT * 2}source {sources.get(ref.key, ref)}"
