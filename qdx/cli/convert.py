"""``qdx convert IN OUT``: read any format qdx knows, write any format it can write.

The output format comes from ``--to`` or OUT's extension; any format registered with a
writer works (REFI ``qdpx``/``qde``/``qdc`` and whatever ``qdx.formats`` adds). The write is
atomic and never onto the input. Lossy steps are reported as warnings on stderr.
"""

from __future__ import annotations

import sys
import warnings

import click

from qdx.cli._common import (
    emit_json,
    handle_errors,
    json_option,
    limits_options,
    load,
    make_limits,
    refuse_overwriting_input,
)
from qdx.cli.info import UNIT_CHOICE, summary
from qdx.errors import LossyConversionWarning


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
    "--sources",
    "sources_dir",
    type=click.Path(exists=True, file_okay=False),
    default=None,
    help="NVivo coded-text input: folder of source .txt/.docx files; references get exact offsets.",
)
@click.option(
    "--attributes",
    "attributes",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="NVivo Export List or classification sheet (.xlsx): attributes set on cases/sources of the same name.",
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
    sources_dir: str | None,
    attributes: str | None,
    as_json: bool,
    max_member_size: int,
    max_ratio: float,
) -> None:
    """Convert IN to OUT (for example project.qdpx to codebook.qdc, or to the NVivo dialect)."""
    from qdx.api import write
    from qdx.cli import _nvivo

    refuse_overwriting_input(target, source)
    limits = make_limits(max_member_size, max_ratio)
    if sources_dir is not None:
        project = _nvivo.load_with_sources(source, sources_dir, limits)
    else:
        project = load(source, limits=limits, unit=unit)
    read_notes, failed = _nvivo.read_notes(project)
    if attributes is not None:
        project, unmatched = _nvivo.attach_attributes(project, attributes, limits)
        read_notes += unmatched
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", LossyConversionWarning)
        if _nvivo.wants_folder(target, fmt):
            _nvivo.write_folder(project, target, dialect)
        else:
            write(project, target, fmt=fmt, dialect="nvivo" if dialect == "nvivo" else "refi")
    notes = [str(w.message) for w in caught if issubclass(w.category, LossyConversionWarning)]
    counts = summary(project)
    if as_json:
        emit_json({"input": source, "output": target, "format": fmt, "dialect": dialect,
                   "warnings": notes, "read_issues": read_notes,
                   **{k: counts[k] for k in ("sources", "selections", "codings", "codes")}})
        if failed:
            sys.exit(1)
        return
    for note in notes:
        click.echo(f"qdx: warning: {note}", err=True)
    for line in read_notes:
        click.echo(f"qdx: {line}", err=True)
    click.echo(
        f"{source} -> {target} ({dialect}): {counts['codes']} codes, {counts['sources']} sources,"
        f" {counts['selections']} selections, {counts['codings']} codings"
    )
    if failed:
        sys.exit(1)
