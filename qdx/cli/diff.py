"""``qdx diff A B``: what changed between two projects or codebooks (exit status as diff(1))."""

from __future__ import annotations

import sys

import click

from qdx.cli._common import (
    archive_limits,
    choice,
    echo,
    emit_json,
    fail,
    handle_errors,
    json_option,
    load,
)
from qdx.errors import ReadError
from qdx.model import Project
from qdx.ops.diff import Change, DiffResult
from qdx.ops.renames import DEFAULT_SIMILARITY
from qdx.options import MatchLevel
from qdx.safety import Limits

_SIGN = {"added": "+", "removed": "-", "boundary-changed": "~", "moved": ">", "lost": "x", "passage-edited": "~"}


@click.command()
@click.argument("before", type=click.Path())
@click.argument("after", type=click.Path())
@click.option(
    "--match",
    type=choice(MatchLevel),
    default="path",
    show_default=True,
    help="Loosest criterion for pairing codes: guid; path (GUID, then full path); name (also unique name); "
    "content (also by similarity: renamed and moved codes). Default path, as in merge, so a diff shows "
    "the pairing a merge would use; codes it leaves removed and added that content would pair are listed "
    "as possible renames.",
)
@click.option(
    "--similarity",
    type=click.FloatRange(0.0, 1.0),
    default=DEFAULT_SIMILARITY,
    show_default=True,
    help="The least similarity (0..1) pairing a renamed or moved code (--match content, possible renames).",
)
@json_option
@archive_limits
@handle_errors
def diff(before: str, after: str, match: MatchLevel, similarity: float, as_json: bool, limits: Limits) -> None:
    """Show what changed from BEFORE to AFTER: codebook, sources, codings, notes, cases, sets.

    Exit status: 0 identical, 1 different, 2 trouble (unreadable input, bad option).
    """
    from qdx.ops.diff import diff as run_diff

    try:
        a, b = load(before, limits=limits), load(after, limits=limits)
    except ReadError as exc:  # diff(1): trouble is 2, because 1 means "they differ"
        fail(exc, 2)
    result = run_diff(a, b, match=match, similarity=similarity)
    suggested = possible_renames(a, b, result, match, similarity)
    if as_json:
        emit_json({**result.as_dict(), "possible_renames": [c.as_dict() for c in suggested]})
    elif result:
        for line in render_lines(result, before, after):
            echo(line)
        if suggested:
            echo(f"possible renames and moves ({len(suggested)}; --match content pairs them):")
            for change in suggested:
                for line in _line(change):
                    echo(line)
    sys.exit(1 if result else 0)


def possible_renames(
    a: Project, b: Project, result: DiffResult, match: MatchLevel, similarity: float
) -> tuple[Change, ...]:
    """The code changes ``--match content`` would report with a similarity, when ``match`` left
    codes removed and added: the renames and moves the default (path) does not pair, offered
    rather than applied, so the diff still shows the pairing a merge would use."""
    from qdx.ops.diff import diff as run_diff

    kinds = {c.kind for c in result if c.area == "codes"}
    if match == "content" or not {"added", "removed"} <= kinds:
        return ()
    by_content = run_diff(a, b, match="content", similarity=similarity)
    return tuple(c for c in by_content if c.area == "codes" and isinstance(c.get("similarity"), float))


def render(result: DiffResult, before: str, after: str) -> str:
    """The human-readable report: one section per area, one line per change."""
    return "\n".join(render_lines(result, before, after))


def render_lines(result: DiffResult, before: str, after: str) -> list[str]:
    """:func:`render` as its lines (each printed on its own, so no name can add a line)."""
    lines = [f"--- {before}", f"+++ {after}"]
    for area, changes in result.by_area().items():
        if not changes:
            continue
        pairing = result.matching.get(area)
        how = ", ".join(f"{n} by {k}" for k, n in sorted(pairing.items())) if pairing else ""
        lines.append(f"{area} ({len(changes)} changes{'; paired ' + how if how else ''})")
        for change in changes:
            lines.extend(_line(change))
    lines.append(f"{len(result)} change(s)")
    return lines


def _line(change: Change) -> list[str]:
    if change.area == "codings":
        return [_coding_line(change)]
    label = change.get("path") or change.get("source") or change.get("name") or change.get("field")
    if isinstance(label, list):
        label = " > ".join(str(x) for x in label)
    field = change.get("field")
    what = f"{label} [{field}]" if field is not None and field != label else str(label)
    if change.kind in {"added", "removed"}:
        return [f"  {_SIGN[change.kind]} {what}"]
    path = change.area == "codes" and change.kind == "moved"
    text = f"  {change.kind:<16} {what}: {_short(change.before, path=path)} -> {_short(change.after, path=path)}"
    score = change.get("similarity")
    if isinstance(score, float):
        text += f" (similarity {score:.2f})"
    patch = change.get("diff")
    if isinstance(patch, str) and patch:
        return [text, *("      " + line for line in patch.splitlines())]
    return [text]


def _coding_line(change: Change) -> str:
    path = change.get("path")
    code = " > ".join(str(x) for x in path) if isinstance(path, list) else str(path)
    where = " -> ".join(_where(x) for x in (change.before, change.after) if x is not None)
    side = change.after if change.after is not None else change.before
    text = side.get("text") if isinstance(side, dict) else None
    quote = f": {_short(text)}" if text is not None else ""
    coder = change.get("coder") or "no coder"
    return f"  {_SIGN[change.kind]} {change.get('source')} {where} {code} ({coder}){quote}"


def _where(side: object) -> str:
    if not isinstance(side, dict):
        return "?"
    if "start" in side:
        return f"[{side['start']}:{side['end']}]"
    return str(side.get("range", ""))


def _short(value: object, limit: int = 60, *, path: bool = False) -> str:
    if path and isinstance(value, list):  # a code path, root first
        text = " > ".join(value) if value else "(top level)"
        return text if len(text) <= limit else "..." + text[3 - limit :]
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
