"""``qdx validate PATH``: schema, XML-level and integrity checks of a .qde, .qdc or .qdpx.

Exit status: 1 when any issue has severity error, else 0 (2 for usage errors).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from qdx.cli._common import (
    STDIN,
    STDIN_LABEL,
    archive_limits,
    auto_progress,
    echo,
    emit_json,
    handle_errors,
    json_option,
    load,
    load_bytes,
    read_stdin,
    require_option,
)
from qdx.errors import Issue, Severity

if TYPE_CHECKING:
    from qdx.model import Project
    from qdx.safety import Limits
    from qdx.validation.document import FileValidation
    from qdx.validation.structure import StructureResult


@click.command()
@click.argument("path", type=click.Path(dir_okay=True))
@click.option(
    "--xsd",
    "xsd",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Validate against this XSD instead of qdx's REFI-QDA 1.0 schemas.",
)
@click.option(
    "--structure",
    type=click.Choice(["gt"]),
    default=None,
    help="Also check the grounded-theory levels (core > main > subcategory > concept).",
)
@click.option("--core", default=None, help="Name of the core category when the main categories are roots.")
@click.option(
    "--profile",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="TOML profile: level names, expected counts, rules to skip.",
)
@click.option("--expect", default=None, help="Expected counts, e.g. concepts=40,subcategories=20,main=4.")
@click.option(
    "--min-sources",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Sources each concept must be coded in.",
)
@json_option
@archive_limits
@handle_errors
def validate(
    path: str,
    xsd: str | None,
    structure: str | None,
    core: str | None,
    profile: str | None,
    expect: str | None,
    min_sources: int,
    as_json: bool,
    limits: Limits,
) -> None:
    """Check schema, integrity and (optionally) GT structure of PATH (.qdpx, .qde or .qdc).

    Prints one line per issue and a summary, or with --json
    {"valid": bool, "issues": [{"code", "severity", "message", "location"}]}; with
    --structure gt the JSON also has "levels": {"core", "main", "subcategories", "concepts"}.
    """
    require_option(
        "--structure gt", structure == "gt", core="--core", profile="--profile", expect="--expect",
        min_sources="--min-sources",
    )  # fmt: skip
    data = read_stdin(limits) if path == STDIN else None
    checked = _validate_file(path, xsd, limits, data)
    issues: list[Issue] = list(checked)
    levels = None
    if structure == "gt":
        # The model validation read: the file is read once. When it could not be read, load()
        # raises the reader's error (exit 1), as it always did.
        if checked.project is not None:
            project = checked.project
        else:
            project = load(path, limits=limits) if data is None else load_bytes(data, limits=limits)
        result = _structure(project, core=core, profile=profile, expect=expect, min_sources=min_sources)
        issues.extend(result.issues)
        levels = result.levels.as_dict()
    _emit(STDIN_LABEL if path == STDIN else path, issues, as_json, levels)
    sys.exit(1 if _failed(issues) else 0)


def _validate_file(path: str, xsd: str | None, limits: Limits, data: bytes | None) -> FileValidation:
    """validate_file, with a bar naming each step for a large file on a terminal; of ``data``
    (standard input's bytes) when given."""
    from qdx.validation import validate_bytes, validate_file
    from qdx.validation.document import STEPS

    if data is not None:
        return validate_bytes(data, STDIN_LABEL, xsd=xsd, limits=limits)
    if not auto_progress(path):
        return validate_file(path, xsd=xsd, limits=limits)
    label = f"validating {Path(path).name}"
    with click.progressbar(length=len(STEPS), label=label, file=sys.stderr, item_show_func=lambda s: s) as bar:
        return validate_file(path, xsd=xsd, limits=limits, progress=lambda step: bar.update(1, step))


def _structure(
    project: Project, *, core: str | None, profile: str | None, expect: str | None, min_sources: int
) -> StructureResult:
    from qdx.validation.structure import check_structure, load_profile, parse_expect

    loaded = load_profile(Path(profile).read_bytes()) if profile else None
    expected = parse_expect(expect) if expect else None
    return check_structure(project, core=core, profile=loaded, expect=expected, min_sources=min_sources)


def _failed(issues: list[Issue]) -> bool:
    return any(issue.severity is Severity.ERROR for issue in issues)


def _emit(
    path: str, issues: list[Issue], as_json: bool, levels: dict[str, str | int | None] | None = None
) -> None:
    if as_json:
        report: dict[str, object] = {"valid": not _failed(issues), "issues": [i.as_dict() for i in issues]}
        if levels is not None:
            report["levels"] = levels
        emit_json(report)
        return
    for issue in issues:
        where = f"{issue.location}: " if issue.location else ""
        echo(f"{where}{issue.severity.value} {issue.code} {issue.message}")
    if levels is not None:
        echo(
            "levels: core {core!r}, {main} main, {subcategories} subcategories, {concepts} concepts".format(**levels)
        )
    echo(_summary(path, issues))


def _summary(path: str, issues: list[Issue]) -> str:
    counts = {severity: sum(1 for i in issues if i.severity is severity) for severity in Severity}
    parts = [f"{counts[s]} {s.value}{'' if counts[s] == 1 else 's'}" for s in Severity if counts[s]]
    verdict = "INVALID" if counts[Severity.ERROR] else "valid"
    return f"{path}: {verdict}" + (f" ({', '.join(parts)})" if parts else "")
