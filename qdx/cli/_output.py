"""The one output policy of the commands that write projects (``convert``, ``merge``).

The output is checked before it replaces anything (``qdx.write(check=True)``: schema, XML
rules and integrity of the written bytes, as ``qdx validate`` reads them). An output that
would be invalid is refused: its errors are listed on stderr and the command exits 1, leaving
the target as it was. ``--repair`` first applies :func:`qdx.ops.repair.repair` (drops dangling
references and sources whose files are missing, gives duplicate GUIDs new ones) and lists every
repair; ``--allow-invalid`` writes whatever results.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import ParamSpec, TypeVar

import click

from qdx.cli._common import echo, emit_json, error_document
from qdx.errors import InvalidOutputError, Issue, LossyConversionWarning, Severity
from qdx.formats import Dialect, Newline
from qdx.model import Project

P = ParamSpec("P")
R = TypeVar("R")

SHOWN = 20


def output_options(func: Callable[P, R]) -> Callable[P, R]:
    """Add --repair and --allow-invalid to a command that writes a project."""
    func = click.option(
        "--allow-invalid",
        is_flag=True,
        help="Write the output even when it would not validate (its errors are still listed).",
    )(func)
    return click.option(
        "--repair",
        is_flag=True,
        help="Make the output valid: drop dangling references and sources whose files are missing, "
        "give duplicate GUIDs new ones; every repair is listed.",
    )(func)


@dataclass(slots=True)
class Written:
    """What writing an output did: repairs made, what was not carried over, output issues."""

    repairs: tuple[str, ...] = ()
    not_carried: list[str] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    invalid: bool = False  # written with --allow-invalid although it does not validate

    def as_dict(self) -> dict[str, object]:
        return {
            "valid": not self.invalid,
            "repairs": list(self.repairs),
            "not_carried_over": self.not_carried,
            "output_issues": [i.as_dict() for i in self.issues],
        }


# Reader issues that mean "the input holds something the model, so the output, cannot".
NOT_CARRIED_CODES = frozenset({"QDX014"})


def not_carried_from_inputs(*projects: Project) -> list[str]:
    """What reading found in the inputs that no output can carry (attributes outside the
    schema), as lines for the summary."""
    lines = []
    for project in projects:
        for issue in project.provenance.issues if project.provenance is not None else ():
            if issue.code in NOT_CARRIED_CODES and issue.severity is not Severity.INFO:
                lines.append(f"{issue.location}: {issue.message}" if issue.location else issue.message)
    return lines


def _output_format(target: str, fmt: str | None) -> str:
    return (fmt or Path(target).suffix.lower().lstrip(".")).lower()


def prepare(project: Project, target: str, fmt: str | None, *, repair: bool) -> tuple[Project, tuple[str, ...]]:
    """``project`` repaired for ``target`` when asked (a bare .qde cannot carry files, so
    missing ones are no reason to drop its sources)."""
    if not repair:
        return project, ()
    from qdx.ops.repair import repair as run_repair

    result = run_repair(project, files_required=_output_format(target, fmt) not in ("qde", "qdc"))
    return result.project, result.repairs


def write_checked(
    project: Project,
    target: str,
    *,
    fmt: str | None,
    dialect: str,
    allow_invalid: bool,
    as_json: bool,
    repairs: tuple[str, ...] = (),
    inputs: tuple[Project, ...] = (),
    newline: str = "lf",
) -> Written:
    """Write ``project`` to ``target`` under the policy; on refusal print why and exit 1.
    ``inputs``: the projects read, whose uncarriable parts the summary lists."""
    from qdx.validation.output import write

    written = Written(repairs=repairs)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", LossyConversionWarning)
        refi_dialect: Dialect = "nvivo" if dialect == "nvivo" else "refi"
        keep_or_lf: Newline = "keep" if newline == "keep" else "lf"
        try:
            written.issues = write(project, target, fmt=fmt, dialect=refi_dialect, check=True, newline=keep_or_lf)
        except InvalidOutputError as exc:
            if not allow_invalid:
                refuse(exc, written, as_json)
            # Told to write anyway: write it, and say what is wrong with it.
            write(project, target, fmt=fmt, dialect=refi_dialect, newline=keep_or_lf)
            written.issues = list(exc.issues)
            written.invalid = True
    written.not_carried = not_carried_from_inputs(*inputs)
    written.not_carried += [str(w.message) for w in caught if issubclass(w.category, LossyConversionWarning)]
    return written


def refuse(exc: InvalidOutputError, written: Written, as_json: bool) -> None:
    """List the output's errors (and any repairs made) and exit 1: nothing was written."""
    if as_json:
        emit_json({"written": False, "reason": exc.message, **written.as_dict(),
                   "output_issues": [i.as_dict() for i in exc.issues], **error_document(exc)})  # fmt: skip
    else:
        report_repairs(written.repairs)
        for issue in exc.issues[:SHOWN]:
            where = f"{issue.location}: " if issue.location else ""
            echo(f"qdx: {issue.severity.value}: {where}{issue.code} {issue.message}", err=True)
        if len(exc.issues) > SHOWN:
            echo(f"qdx: ... and {len(exc.issues) - SHOWN} more", err=True)
    hint = "" if written.repairs else "; --repair fixes what it can, --allow-invalid writes anyway"
    echo(f"qdx: error: {exc}{hint}", err=True)
    sys.exit(1)


def report_repairs(repairs: tuple[str, ...]) -> None:
    for line in repairs:
        echo(f"qdx: repaired: {line}", err=True)


def report_written(written: Written) -> None:
    """Repairs and what was not carried over, on stderr (the summary line is the caller's)."""
    report_repairs(written.repairs)
    for note in written.not_carried:
        echo(f"qdx: not carried over: {note}", err=True)
    if written.invalid:
        errors = written.issues
        for issue in errors[:SHOWN]:
            where = f"{issue.location}: " if issue.location else ""
            echo(f"qdx: warning: output {where}{issue.code} {issue.message}", err=True)
        if len(errors) > SHOWN:
            echo(f"qdx: ... and {len(errors) - SHOWN} more", err=True)
        echo(f"qdx: warning: written with --allow-invalid: {len(errors)} error(s) in the output", err=True)
