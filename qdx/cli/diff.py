"""``qdx diff A B``: what changed between two projects or codebooks (exit status as diff(1))."""

from __future__ import annotations

import sys

import click

from qdx.cli._common import archive_limits, choice, emit_json, fail, handle_errors, json_option, load
from qdx.errors import ReadError
from qdx.ops.diff import Change, DiffResult
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
    help="Loosest criterion for pairing codes: guid; path (GUID, then full path); name (also unique name). "
    "Default path, as in merge: two codes of the same name under different parents are never taken "
    "for one, so a diff shows the pairing a merge would use.",
)
@json_option
@archive_limits
@handle_errors
def diff(before: str, after: str, match: MatchLevel, as_json: bool, limits: Limits) -> None:
    """Show what changed from BEFORE to AFTER: codebook, sources, codings, notes, cases, sets.

    Exit status: 0 identical, 1 different, 2 trouble (unreadable input, bad option).
    """
    from qdx.ops.diff import diff as run_diff

    try:
        a, b = load(before, limits=limits), load(after, limits=limits)
    except ReadError as exc:  # diff(1): trouble is 2, because 1 means "they differ"
        fail(exc, 2)
    result = run_diff(a, b, match=match)
    if as_json:
        emit_json(result.as_dict())
    elif result:
        click.echo(render(result, before, after))
    sys.exit(1 if result else 0)


def render(result: DiffResult, before: str, after: str) -> str:
    """The human-readable report: one section per area, one line per change."""
    lines = [f"--- {before}", f"+++ {after}"]
    for area, changes in result.by_area().items():
        if not changes:
            continue
        pairing = result.matching.get(area)
        how = ", ".join(f"{n} by {k}" for k, n in sorted(pairing.items())) if pairing else ""
        lines.append(f"{area} ({len(changes)} changes{'; paired ' + how if how else ''})")
        lines.extend(_line(change) for change in changes)
    lines.append(f"{len(result)} change(s)")
    return "\n".join(lines)


def _line(change: Change) -> str:
    if change.area == "codings":
        return _coding_line(change)
    label = change.get("path") or change.get("source") or change.get("name") or change.get("field")
    if isinstance(label, list):
        label = " > ".join(str(x) for x in label)
    field = change.get("field")
    what = f"{label} [{field}]" if field is not None and field != label else str(label)
    if change.kind in {"added", "removed"}:
        return f"  {_SIGN[change.kind]} {what}"
    path = change.area == "codes" and change.kind == "moved"
    text = f"  {change.kind:<16} {what}: {_short(change.before, path=path)} -> {_short(change.after, path=path)}"
    patch = change.get("diff")
    if isinstance(patch, str) and patch:
        text += "\n" + "\n".join("      " + line for line in patch.splitlines())
    return text


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
