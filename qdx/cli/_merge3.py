"""``qdx merge --base BASE A B -o OUT``: the three-way merge behind ``qdx merge`` and the git driver."""

from __future__ import annotations

import sys
from dataclasses import replace

from qdx.cli._common import echo, emit_json, error_document, load, refuse_overwriting_input
from qdx.cli._output import prepare, report_written, write_checked
from qdx.errors import UsageError
from qdx.model import Project
from qdx.ops.merge import MergeConflictError, MergeResult
from qdx.ops.renames import DEFAULT_SIMILARITY
from qdx.options import MatchLevel, Policy
from qdx.safety import Limits


def three_way(
    base: Project,
    ours: Project,
    theirs: Project,
    *,
    policy: Policy,
    match: MatchLevel,
    similarity: float = DEFAULT_SIMILARITY,
) -> tuple[MergeResult, bool]:
    """The merge, and whether it failed on conflicts (``policy="fail"``).

    On conflicts under ``fail`` the project merged with ours' side taken is still returned, so
    a caller can leave it (the git driver) or write nothing (``qdx merge``).
    """
    from qdx.ops.merge3 import merge3

    try:
        merged = merge3(base, ours, theirs, policy=policy, match=match, similarity=similarity)
        return merged, False
    except MergeConflictError:
        kept = merge3(base, ours, theirs, policy="ours", match=match, similarity=similarity)
        # Nothing resolved these: the report says "fail", as the default policy means.
        failed = tuple(replace(c, resolution="fail") if c.resolution == "ours" else c for c in kept.conflicts)
        return MergeResult(kept.project, failed, kept.texts), True


def run(
    base_path: str,
    inputs: tuple[str, ...],
    output: str,
    *,
    policy: Policy,
    match: MatchLevel,
    similarity: float,
    as_json: bool,
    conflicts_path: str | None,
    limits: Limits,
    repair: bool = False,
    allow_invalid: bool = False,
) -> None:
    """``qdx merge --base``: write the merge under the output policy of convert and merge
    (validated first; ``repair``/``allow_invalid`` as there), or on conflicts (``fail``) only
    the report; exit 1 when nothing (or an invalid file) was written.
    """
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
            error = error_document(MergeConflictError(result.conflicts))
            emit_json({"written": False, "conflicts": [c.as_dict() for c in result.conflicts], **error})
        echo(f"qdx: error: {len(result.conflicts)} merge conflict(s); nothing written:", err=True)
        for conflict in result.conflicts:
            echo(f"  {conflict.message()}", err=True)
        hint = f" (listed in {conflicts_path})" if conflicts_path is not None else ""
        echo(f"Choose a resolution with --on-conflict ours|theirs|keep-both{hint}.", err=True)
        sys.exit(1)
    merged, repairs = prepare(result.project, output, None, repair=repair)
    written = write_checked(
        merged, output, fmt=None, dialect="refi", allow_invalid=allow_invalid, as_json=as_json, repairs=repairs,
        inputs=(base, ours, theirs),
    )  # fmt: skip
    summary: dict[str, object] = {
        "written": True,
        "output": output,
        **roles,
        "conflicts": [c.as_dict() for c in result.conflicts],
        "texts": [t.as_dict() for t in result.texts],
        **written.as_dict(),
    }
    if as_json:
        emit_json(summary)
    else:
        report_written(written)
        _print_result(output, inputs, base_path, result)
    if written.invalid:
        sys.exit(1)


def _print_result(output: str, inputs: tuple[str, ...], base_path: str, result: MergeResult) -> None:
    echo(f"wrote {output}: three-way merge of {inputs[0]} and {inputs[1]} from {base_path}")
    for conflict in result.conflicts:
        echo(f"  resolved ({conflict.resolution}): {conflict.message()}")
