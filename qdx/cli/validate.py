"""``qdx validate PATH``: schema, XML-level and integrity checks of a .qde, .qdc or .qdpx.

Exit status: 1 when any issue has severity error, else 0 (2 for usage errors).
"""

from __future__ import annotations

import sys

import click

from qdx.cli._common import emit_json, handle_errors, json_option, limits_options, make_limits
from qdx.errors import Issue, Severity


@click.command()
@click.argument("path", type=click.Path(dir_okay=False))
@click.option(
    "--xsd",
    "xsd",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Validate against this XSD instead of qdx's REFI-QDA 1.0 schemas.",
)
@json_option
@limits_options
@handle_errors
def validate(path: str, xsd: str | None, as_json: bool, max_member_size: int, max_ratio: float) -> None:
    """Check schema, integrity and (optionally) GT structure of PATH (.qdpx, .qde or .qdc).

    Prints one line per issue and a summary, or with --json
    {"valid": bool, "issues": [{"code", "severity", "message", "location"}]}.
    """
    from qdx.validation import validate_file

    issues = validate_file(path, xsd=xsd, limits=make_limits(max_member_size, max_ratio))
    # Further checks (structure, profiles, expectations) append their issues to `issues` here.
    _emit(path, issues, as_json)
    sys.exit(1 if _failed(issues) else 0)


def _failed(issues: list[Issue]) -> bool:
    return any(issue.severity is Severity.ERROR for issue in issues)


def _emit(path: str, issues: list[Issue], as_json: bool) -> None:
    if as_json:
        emit_json({"valid": not _failed(issues), "issues": [issue.as_dict() for issue in issues]})
        return
    for issue in issues:
        where = f"{issue.location}: " if issue.location else ""
        click.echo(f"{where}{issue.severity.value} {issue.code} {issue.message}")
    click.echo(_summary(path, issues))


def _summary(path: str, issues: list[Issue]) -> str:
    counts = {severity: sum(1 for i in issues if i.severity is severity) for severity in Severity}
    parts = [f"{counts[s]} {s.value}{'' if counts[s] == 1 else 's'}" for s in Severity if counts[s]]
    verdict = "INVALID" if counts[Severity.ERROR] else "valid"
    return f"{path}: {verdict}" + (f" ({', '.join(parts)})" if parts else "")
