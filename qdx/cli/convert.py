"""``qdx convert IN OUT``: read any format qdx knows, write any format it can write.

The output format comes from ``--to`` or OUT's extension; any format registered with a
writer works (REFI ``qdpx``/``qde``/``qdc`` and whatever ``qdx.formats`` adds). The write is
atomic and never onto the input, and follows the output policy of :mod:`qdx.cli._output`
(shared with ``merge``): an output that would not validate is refused (exit 1) unless
``--repair`` makes it valid or ``--allow-invalid`` is given. Reading problems, repairs and what
was not carried over go to stderr; the exit status is 1 when the output was refused, or when
reading found errors and no repair dealt with them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from qdx.cli._common import (
    archive_limits,
    choice,
    echo,
    emit_json,
    handle_errors,
    json_option,
    position_unit_option,
    refuse_overwriting_input,
    same_file,
)
from qdx.cli._output import (
    NOT_CARRIED_CODES,
    Written,
    not_carried_from_inputs,
    output_options,
    prepare,
    refuse,
    report_written,
    write_checked,
)
from qdx.cli.info import summary
from qdx.errors import Issue, Severity, UsageError
from qdx.model import Project
from qdx.options import Dialect, Newline, PositionUnit
from qdx.safety import Limits

SHOWN_ISSUES = 20


@click.command()
@click.argument("source", metavar="IN", type=click.Path(dir_okay=True))
@click.argument("target", metavar="OUT", type=click.Path(dir_okay=True))
@click.option("--to", "fmt", default=None, help="Output format id (qdpx, qde, qdc, ...); default from OUT.")
@click.option(
    "--dialect",
    type=choice(Dialect),
    default="refi",
    show_default=True,
    help="refi: the spec (code points); nvivo: what NVivo for Windows writes (UTF-16, CRLF, BOM).",
)
@position_unit_option("Force the input's text-position unit.")
@click.option(
    "--newline",
    type=choice(Newline),
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
@output_options
@json_option
@archive_limits
@handle_errors
def convert(
    source: str,
    target: str,
    fmt: str | None,
    dialect: Dialect,
    unit: PositionUnit | None,
    newline: Newline,
    sources_dir: str | None,
    attributes: str | None,
    in_place: bool,
    repair: bool,
    allow_invalid: bool,
    as_json: bool,
    limits: Limits,
) -> None:
    """Convert IN to OUT (for example project.qdpx to codebook.qdc, or to the NVivo dialect)."""
    from qdx.cli import _nvivo

    if unit is not None and sources_dir is not None:
        # --sources places references by matching text: there are no producer positions to reinterpret.
        raise UsageError("--position-unit does not apply with --sources (references are placed by their text)")
    if not in_place:
        refuse_overwriting_input(target, source, in_place_option=True)
    project, extra = _nvivo.load(source, limits, unit=unit, sources_dir=sources_dir, attributes=attributes)
    read = project
    issues = [i for i in (project.provenance.issues if project.provenance else ())
              if i.severity is not Severity.INFO and i.code not in NOT_CARRIED_CODES]  # fmt: skip
    issues += extra
    project, repairs = prepare(project, target, fmt, repair=repair)
    backup = _backup_if_same(source, target) if in_place else None
    before = _identity(target) if backup is not None else None
    try:
        written = _write(project, target, fmt, dialect, allow_invalid=allow_invalid, as_json=as_json,
                         repairs=repairs, read=read, newline=newline)  # fmt: skip
    except BaseException:
        # Refused or failed before IN was replaced (the write is an atomic rename, so IN is the
        # same file as before): its copy is no output to keep -- a failed command leaves nothing.
        if backup is not None and _identity(target) == before:
            backup.unlink(missing_ok=True)
        raise
    if backup is not None:
        echo(f"qdx: kept the original as {backup}", err=True)
    # Reading errors fail the command unless a repair made the output valid anyway.
    failed = written.invalid or (any(i.severity is Severity.ERROR for i in issues) and not repairs)
    counts = summary(project)
    if as_json:
        emit_json({"input": source, "output": target, "written": True, "format": fmt, "dialect": dialect,
                   "warnings": written.not_carried, "issues": [i.as_dict() for i in issues], **written.as_dict(),
                   **{k: counts[k] for k in ("codes", "sources", "selections", "codings")}})  # fmt: skip
    else:
        _report(issues)
        report_written(written)
        echo(
            f"{source} -> {target} ({dialect}): {counts['codes']} codes, {counts['sources']} sources,"
            f" {counts['selections']} selections, {counts['codings']} codings"
        )
    if failed:
        sys.exit(1)


def _backup_if_same(source: str, target: str) -> Path | None:
    """--in-place: keep the input as ``IN.bak`` (``.bak.N``) before OUT replaces it; the copy,
    or None when OUT is another file."""
    from qdx.safety import make_backup

    if not same_file(source, target):
        return None
    if not Path(target).is_file():
        raise UsageError("--in-place rewrites a file, not a folder; write the folder elsewhere")
    return make_backup(source)


def _identity(path: str) -> tuple[int, int, int] | None:
    """Which file ``path`` is (device, inode, mtime): an atomic replace changes it."""
    try:
        stat = Path(path).stat()
    except OSError:
        return None
    return stat.st_dev, stat.st_ino, stat.st_mtime_ns


def _write(
    project: Project,
    target: str,
    fmt: str | None,
    dialect: str,
    *,
    allow_invalid: bool,
    as_json: bool,
    repairs: tuple[str, ...],
    read: Project,
    newline: str = "lf",
) -> Written:
    """Write atomically under the output policy (exits 1 when the output is refused)."""
    from qdx.cli import _nvivo

    if _nvivo.wants_folder(target, fmt):  # NVivo coded text: one file per code
        if not allow_invalid:
            _check_model(project, target, as_json, repairs)
        notes = not_carried_from_inputs(read) + _nvivo.write_folder(project, target, dialect)
        return Written(repairs=repairs, not_carried=notes)
    return write_checked(
        project, target, fmt=fmt, dialect=dialect, allow_invalid=allow_invalid, as_json=as_json, repairs=repairs,
        inputs=(read,), newline=newline,
    )  # fmt: skip


def _check_model(project: Project, target: str, as_json: bool, repairs: tuple[str, ...]) -> None:
    """A folder of coded text has no schema: check the model's integrity before writing it."""
    from qdx.errors import InvalidOutputError
    from qdx.validation.integrity import check_integrity

    errors = tuple(i for i in check_integrity(project) if i.severity is Severity.ERROR)
    if errors:
        message = f"the output would not validate ({len(errors)} error(s)); nothing written"
        refuse(InvalidOutputError(message, issues=errors, location=target), Written(repairs=repairs), as_json)


def _report(issues: list[Issue]) -> None:
    for issue in issues[:SHOWN_ISSUES]:
        where = f"{issue.location}: " if issue.location else ""
        echo(f"qdx: {issue.severity.value}: {where}{issue.code} {issue.message}", err=True)
    if len(issues) > SHOWN_ISSUES:
        echo(f"qdx: ... and {len(issues) - SHOWN_ISSUES} more reading issues (see qdx info --json)", err=True)
