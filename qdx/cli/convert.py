"""``qdx convert IN OUT``: read any format qdx knows, write any format it can write.

The output format comes from ``--to`` or OUT's extension; any format registered with a
writer works (REFI ``qdpx``/``qde``/``qdc`` and whatever ``qdx.formats`` adds). The write is
atomic and never onto the input. Reading problems and lossy steps go to stderr; the exit
status is 1 when reading found errors (the output is still written), else 0.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import click

from qdx.cli._common import (
    emit_json,
    handle_errors,
    json_option,
    limits_options,
    make_limits,
    refuse_overwriting_input,
    same_file,
)
from qdx.cli.info import UNIT_CHOICE, summary
from qdx.errors import Issue, LossyConversionWarning, Severity, UsageError
from qdx.model import Project

SHOWN_ISSUES = 20


@click.command()
@click.argument("source", metavar="IN", type=click.Path(dir_okay=True))
@click.argument("target", metavar="OUT", type=click.Path(dir_okay=True))
@click.option("--to", "fmt", default=None, help="Output format id (qdpx, qde, qdc, ...); default from OUT.")
@click.option(
    "--dialect",
    type=click.Choice(["refi", "nvivo"]),
    default="refi",
    show_default=True,
    help="refi: the spec (code points); nvivo: what NVivo for Windows writes (UTF-16, CRLF, BOM).",
)
@click.option("--unit", type=UNIT_CHOICE, default=None, help="Force the input's text-position unit.")
@click.option(
    "--newline",
    type=click.Choice(["lf", "keep"]),
    default="lf",
    show_default=True,
    help="refi dialect: lf writes CRLF texts with LF and positions remapped (what QualCoder and text-mode "
    "readers expect); keep writes the text's bytes as they are.",
)
@click.option(
    "--sources",
    "sources_dir",
    type=click.Path(exists=True, file_okay=False),
    default=None,
    help="NVivo coded-text input: folder of source .txt/.docx files; references get exact offsets.",
)
@click.option(
    "--attributes",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="NVivo Export List or classification sheet (.xlsx): attributes set on cases/sources of the same name.",
)
@click.option(
    "--in-place",
    is_flag=True,
    help="Allow OUT to be IN; IN is first copied to IN.bak (or IN.bak.N when that exists).",
)
@json_option
@limits_options
@handle_errors
def convert(
    source: str,
    target: str,
    fmt: str | None,
    dialect: str,
    unit: str | None,
    newline: str,
    sources_dir: str | None,
    attributes: str | None,
    in_place: bool,
    as_json: bool,
    max_member_size: int,
    max_ratio: float,
) -> None:
    """Convert IN to OUT (for example project.qdpx to codebook.qdc, or to the NVivo dialect)."""
    from qdx.cli import _nvivo

    if not in_place:
        refuse_overwriting_input(target, source, in_place_option=True)
    limits = make_limits(max_member_size, max_ratio)
    project, extra = _nvivo.load(source, limits, unit=unit, sources_dir=sources_dir, attributes=attributes)
    if in_place:
        _backup_if_same(source, target)
    notes = _write(project, target, fmt, dialect, newline)
    issues = [i for i in (project.provenance.issues if project.provenance else ()) if i.severity is not Severity.INFO]
    issues += extra
    failed = any(i.severity is Severity.ERROR for i in issues)
    counts = summary(project)
    if as_json:
        emit_json({"input": source, "output": target, "format": fmt, "dialect": dialect, "warnings": notes,
                   "issues": [i.as_dict() for i in issues],
                   **{k: counts[k] for k in ("codes", "sources", "selections", "codings")}})  # fmt: skip
    else:
        _report(notes, issues)
        click.echo(
            f"{source} -> {target} ({dialect}): {counts['codes']} codes, {counts['sources']} sources,"
            f" {counts['selections']} selections, {counts['codings']} codings"
        )
    if failed:
        sys.exit(1)


def _backup_if_same(source: str, target: str) -> None:
    """--in-place: keep the input as ``IN.bak`` (``.bak.N``) before OUT replaces it."""
    from qdx.safety import make_backup

    if not same_file(source, target):
        return
    if not Path(target).is_file():
        raise UsageError("--in-place rewrites a file, not a folder; write the folder elsewhere")
    backup = make_backup(source)
    click.echo(f"qdx: kept the original as {backup}", err=True)


def _write(project: Project, target: str, fmt: str | None, dialect: str, newline: str = "lf") -> list[str]:
    """Write atomically; return the lossy-conversion warnings raised on the way."""
    from qdx.api import write
    from qdx.cli import _nvivo

    if _nvivo.wants_folder(target, fmt):  # NVivo coded text: one file per code
        return _nvivo.write_folder(project, target, dialect)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", LossyConversionWarning)
        keep = newline == "keep"
        if dialect == "nvivo":
            write(project, target, fmt=fmt, dialect="nvivo")
        else:
            write(project, target, fmt=fmt, dialect="refi", newline="keep" if keep else "lf")
    return [str(w.message) for w in caught if issubclass(w.category, LossyConversionWarning)]


def _report(notes: list[str], issues: list[Issue]) -> None:
    for note in notes:
        click.echo(f"qdx: warning: {note}", err=True)
    for issue in issues[:SHOWN_ISSUES]:
        where = f"{issue.location}: " if issue.location else ""
        click.echo(f"qdx: {issue.severity.value}: {where}{issue.code} {issue.message}", err=True)
    if len(issues) > SHOWN_ISSUES:
        click.echo(f"qdx: ... and {len(issues) - SHOWN_ISSUES} more reading issues (see qdx info --json)", err=True)
