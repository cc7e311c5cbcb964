"""``qdx merge --base BASE A B -o OUT``: the three-way merge behind ``qdx merge`` and the git driver."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import replace

import click

from qdx.cli._common import emit_json, load, refuse_overwriting_input
from qdx.errors import UsageError
from qdx.model import Project
from qdx.ops.merge import MergeResult
from qdx.ops.renames import DEFAULT_SIMILARITY
from qdx.safety import Limits


def three_way(
    base: Project, ours: Project, theirs: Project, *, policy: str, match: str, similarity: float = DEFAULT_SIMILARITY
) -> tuple[MergeResult, bool]:
    """The merge, and whether it failed on conflicts (``policy="fail"``).

    On conflicts under ``fail`` the project merged with ours' side taken is still returned, so
    a caller can leave it (the git driver) or write nothing (``qdx merge``).
    """
    from qdx.ops.merge import MergeConflictError
    from qdx.ops.merge3 import merge3

    try:
        merged = merge3(base, ours, theirs, policy=policy, match=match, similarity=similarity)  # type: ignore[arg-type]
        return merged, False
    except MergeConflictError:
        kept = merge3(base, ours, theirs, policy="ours", match=match, similarity=similarity)  # type: ignore[arg-type]
        # Nothing resolved these: the report says "fail", as the default policy means.
        failed = tuple(replace(c, resolution="fail") if c.resolution == "ours" else c for c in kept.conflicts)
        return MergeResult(kept.project, failed, kept.texts), True


def run(
    base_path: str,
    inputs: tuple[str, ...],
    output: str,
    *,
    policy: str,
    match: str,
    similarity: float,
    check: Callable[[Project], None] | None,
    as_json: bool,
    conflicts_path: str | None,
    limits: Limits,
) -> None:
    """``qdx merge --base``: write the merge, or on conflicts (``fail``) only the report; exit 1.

    ``check`` raises when the merged project must not be written (``qdx merge``'s validation).
    """
    from qdx.api import write
    from qdx.report.conflicts import write_conflicts

    if len(inputs) != 2:
        raise UsageError("a three-way merge (--base) takes exactly two inputs: ours and theirs")
    refuse_overwriting_input(output, base_path, *inputs)
    base, ours, theirs = (load(p, limits=limits) for p in (base_path, *inputs))
    result, failed = three_way(base, ours, theirs, policy=policy, match=match, similarity=similarity)
    roles = {"base": base_path, "ours": inputs[0], "theirs": inputs[1]}
    if conflicts_path is not None and result.conflicts:
        write_conflicts(result.conflicts, conflicts_path, inputs=roles)
    if failed:
        if as_json:
            emit_json({"written": False, "conflicts": [c.as_dict() for c in result.conflicts]})
        click.echo(f"qdx: error: {len(result.conflicts)} merge conflict(s); nothing written:", err=True)
        for conflict in result.conflicts:
            click.echo(f"  {conflict.message()}", err=True)
        hint = f" (listed in {conflicts_path})" if conflicts_path is not None else ""
        click.echo(f"Choose a resolution with --on-conflict ours|theirs|keep-both{hint}.", err=True)
        sys.exit(1)
    if check is not None:
        check(result.project)
    write(result.project, output)
    summary: dict[str, object] = {
        "written": True,
        "output": output,
        **roles,
        "conflicts": [c.as_dict() for c in result.conflicts],
        "texts": [t.as_dict() for t in result.texts],
    }
    if as_json:
        emit_json(summary)
        return
    click.echo(f"wrote {output}: three-way merge of {inputs[0]} and {inputs[1]} from {base_path}")
    for conflict in result.conflicts:
        click.echo(f"  resolved ({conflict.resolution}): {conflict.message()}")
