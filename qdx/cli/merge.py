"""``qdx merge A B [C ...] -o OUT``: merge coders' projects, keeping every coding and its coder."""

from __future__ import annotations

import sys

import click

from qdx.cli._common import (
    archive_limits,
    choice,
    echo,
    emit_json,
    error_document,
    handle_errors,
    json_option,
    load,
    refuse_overwriting_input,
)
from qdx.cli._output import output_options, prepare, report_written, write_checked
from qdx.errors import UsageError
from qdx.model import Project, iter_selections
from qdx.ops.merge import Conflict, MergeConflictError, TextCarry
from qdx.ops.renames import DEFAULT_SIMILARITY
from qdx.options import MatchLevel, Policy
from qdx.safety import Limits


@click.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path())
@click.option("-o", "--output", required=True, type=click.Path(), help="Where to write the merged project.")
@click.option(
    "--match",
    type=choice(MatchLevel),
    default="path",
    show_default=True,
    help="Loosest criterion for pairing codes: guid; path (GUID, then full path); name (also unique name); "
    "content (also by similarity: renamed and moved codes). Default path, as in diff: a looser pairing "
    "could merge two different codes into one, which cannot be undone.",
)
@click.option(
    "--on-conflict",
    "policy",
    type=choice(Policy),
    default="fail",
    show_default=True,
    help="fail: list conflicts, write nothing; ours/theirs: earlier/later input wins; keep-both.",
)
@click.option(
    "--similarity",
    type=click.FloatRange(0.0, 1.0),
    default=DEFAULT_SIMILARITY,
    show_default=True,
    help="With --match content: the least similarity (0..1) pairing a renamed or moved code.",
)
@click.option("--no-validate", is_flag=True, hidden=True, help="Old name of --allow-invalid.")
@click.option(
    "--base",
    "base",
    type=click.Path(),
    default=None,
    help="Common ancestor of the two inputs: a three-way merge (only fields changed differently conflict).",
)
@click.option("--conflicts", "conflicts_path", type=click.Path(), default=None, help="Write conflicts to .json/.xlsx.")
@output_options
@json_option
@archive_limits
@handle_errors
def merge(
    inputs: tuple[str, ...],
    output: str,
    match: MatchLevel,
    policy: Policy,
    similarity: float,
    no_validate: bool,
    repair: bool,
    allow_invalid: bool,
    base: str | None,
    conflicts_path: str | None,
    as_json: bool,
    limits: Limits,
) -> None:
    """Merge two or more projects (e.g. one per coder) into OUTPUT; with --base, merge two
    edited copies of BASE three-way.

    Codings present in several inputs (same source, range, code and coder) are kept once;
    codings by different coders are all kept with their coder. Exit 1 on conflicts (with
    --on-conflict fail) or when the result would not validate (unless --repair makes it valid
    or --allow-invalid is given); nothing is written then.
    """
    from qdx.ops.merge import merge as run_merge

    if conflicts_path is not None:
        from qdx.report.conflicts import check_conflicts_path

        check_conflicts_path(conflicts_path)
    if base is not None:
        from qdx.cli._merge3 import run

        run(base, inputs, output, policy=policy, match=match, similarity=similarity, as_json=as_json,
            conflicts_path=conflicts_path, limits=limits, repair=repair, allow_invalid=allow_invalid or no_validate)
        return
    if len(inputs) < 2:
        raise UsageError("merge needs at least two inputs")
    refuse_overwriting_input(output, *inputs)
    projects = [load(path, limits=limits) for path in inputs]
    try:
        result = run_merge(*projects, policy=policy, match=match, similarity=similarity)
    except MergeConflictError as exc:
        if conflicts_path is not None:
            from qdx.report.conflicts import write_conflicts

            write_conflicts(exc.conflicts, conflicts_path)
        _report_conflicts(exc, as_json)
        sys.exit(1)
    if conflicts_path is not None and result.conflicts:
        from qdx.report.conflicts import write_conflicts

        write_conflicts(result.conflicts, conflicts_path)
    merged, repairs = prepare(result.project, output, None, repair=repair)
    written = write_checked(
        merged, output, fmt=None, dialect="refi", allow_invalid=allow_invalid or no_validate, as_json=as_json,
        repairs=repairs, inputs=tuple(projects),
    )  # fmt: skip
    summary = _summary(inputs, projects, merged, output, result.conflicts)
    summary["texts"] = [t.as_dict() for t in result.texts]
    if as_json:
        emit_json({**summary, **written.as_dict()})
    else:
        report_written(written)
        _print_summary(summary, result.conflicts)
        _print_texts(result.texts)
    if written.invalid:
        sys.exit(1)


def _print_texts(texts: tuple[TextCarry, ...]) -> None:
    """One line per text re-based onto the earlier input's copy, then every lost selection."""
    for carry in texts:
        if carry.kind == "representation" and not carry.outcomes:
            continue  # nothing coded in it: nothing to report
        how = "same text, other line endings/BOM/whitespace" if carry.kind == "representation" else "text edited"
        if carry.carried == "ours":
            how += "; the earlier inputs' selections carried onto this input's text"
        counts = ", ".join(f"{n} {status}" for status, n in carry.counts().items())
        echo(f"  input {carry.input + 1}: source {carry.source!r} ({how}): selections {counts}")
        for lost in (o for o in carry.outcomes if o.status == "lost"):
            echo(
                f"    lost: selection {lost.selection} [{lost.before[0]}:{lost.before[1]}] "
                f"({lost.codings} coding(s)): its passage is not in the other copy"
            )


def _report_conflicts(exc: MergeConflictError, as_json: bool) -> None:
    conflicts = exc.conflicts
    if as_json:
        emit_json({"written": False, "conflicts": [c.as_dict() for c in conflicts], **error_document(exc)})
    echo(f"qdx: error: {len(conflicts)} merge conflict(s); nothing written:", err=True)
    for conflict in conflicts:
        echo(f"  {conflict.message()}", err=True)
    echo("Choose a resolution with --on-conflict ours|theirs|keep-both.", err=True)


def count_codings(project: Project) -> int:
    """Codings of every selection and whole-source coding."""
    total = 0
    for source in project.sources:
        total += len(source.codings) + sum(len(sel.codings) for sel in iter_selections(source))
    return total


def _summary(
    inputs: tuple[str, ...], projects: list[Project], merged: Project, output: str, conflicts: tuple[Conflict, ...]
) -> dict[str, object]:
    return {
        "written": True,
        "output": output,
        "inputs": [{"path": p, "codings": count_codings(x)} for p, x in zip(inputs, projects, strict=True)],
        "codings": count_codings(merged),
        "codes": sum(1 for _ in _all_codes(merged)),
        "sources": len(merged.sources),
        "users": [u.name or str(u.guid) for u in merged.users],
        "conflicts": [c.as_dict() for c in conflicts],
    }


def _all_codes(project: Project) -> list[str]:
    from qdx.model import iter_codes

    return [code.guid.key for code, _ in iter_codes(project.codes)]


def _print_summary(summary: dict[str, object], conflicts: tuple[Conflict, ...]) -> None:
    inputs = summary["inputs"]
    assert isinstance(inputs, list)
    parts = " + ".join(f"{i['codings']}" for i in inputs)
    echo(
        f"wrote {summary['output']}: {summary['codings']} codings (inputs: {parts}), "
        f"{summary['codes']} codes, {summary['sources']} sources"
    )
    users = summary["users"]
    assert isinstance(users, list)
    echo(f"coders/users: {', '.join(str(u) for u in users)}")
    for conflict in conflicts:
        echo(f"  resolved ({conflict.resolution}): {conflict.message()}")
